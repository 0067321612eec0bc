# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional, Sequence

from mmvp.registry import MODELS
from ..cells import STLSTMCell
from .base_recurrent_stack import BaseRecurrentStack


@MODELS.register_module()
class PredRNN(BaseRecurrentStack):
    """PredRNN: stacked ST-LSTM cells with a zigzag memory M
    (model_equations.md#st-lstm-predrnn).

    Layer ``l`` receives M from layer ``l - 1`` at the same step; layer 0
    receives M from the top layer at the previous step.

    Args:
        layer_norm (bool): LayerNorm after the gate convs (needs
            ``input_size``; all official scripts use False).
        input_size (tuple[int], optional): ``(H', W')`` for ``layer_norm``.
        See :class:`BaseRecurrentStack` for the others.
    """

    has_memory = True

    def __init__(self,
                 layer_norm: bool = False,
                 input_size: Optional[Sequence[int]] = None,
                 **kwargs):
        super().__init__(**kwargs)
        self.cells = self.build_cells(
            STLSTMCell, layer_norm=layer_norm, input_size=input_size)

    def layer_step(self, layer, inp, state):
        h, c, m, o = self.cells[layer](inp, state['h'][layer],
                                       state['c'][layer], state['m'])
        state['c'][layer] = c
        state['m'] = m
        return h, o
