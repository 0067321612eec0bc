# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional

from mmvp.registry import MODELS
from ..cells import ConvLSTMCell
from .base_recurrent_stack import BaseRecurrentStack


@MODELS.register_module()
class ConvLSTM(BaseRecurrentStack):
    """Stacked ConvLSTM cells (model_equations.md#convlstm).

    Layer 0 reads the frame, layer ``l > 0`` reads ``H^{l-1}_t``; the state
    is ``(H, C)`` per layer. The highway gate is the output gate ``o``.

    Args:
        peephole (str, optional): None (OpenSTL's ConvLSTM, 3.18M params at
            Human3.6M settings) or ``'conv'`` (convolutional peepholes,
            4.41M, the paper's Table 2 size).
        forget_bias (float): Added inside the sigmoid of f (0, OpenSTL).
        See :class:`BaseRecurrentStack` for the others.
    """

    def __init__(self,
                 peephole: Optional[str] = None,
                 forget_bias: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        self.cells = self.build_cells(
            ConvLSTMCell, peephole=peephole, forget_bias=forget_bias)

    def layer_step(self, layer, inp, state):
        h, c, o = self.cells[layer](inp, state['h'][layer], state['c'][layer])
        state['c'][layer] = c
        return h, o
