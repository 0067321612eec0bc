# Copyright (c) mmvp contributors. All rights reserved.
from typing import List

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from ..cells import GHU, CausalLSTMCell
from .base_recurrent_stack import BaseRecurrentStack
from .predrnn import PredRNN


@MODELS.register_module()
class PredRNNpp(BaseRecurrentStack):
    """PredRNN++: stacked Causal LSTM cells with a gradient highway unit
    between layers 0 and 1 (model_equations.md#causal-lstm-and-ghu-predrnn).

    The zigzag memory M runs as in PredRNN. The GHU consumes ``H^0_t`` (the
    fused one when a neck is present) and its output ``Z_t`` is layer 1's
    input; ``Z`` starts at zero.

    Note:
        The Causal LSTM output gate is tanh-based; the Motion Highway uses
        it as it is, so its ``1 - o`` lies in (0, 2)
        (model_equations.md#other-backbones).

    Args:
        forget_bias (float): Added inside the sigmoid of f and f'.
        See :class:`BaseRecurrentStack` for the others (``num_layers``
        must be at least 2 for the GHU to sit between two layers).
    """

    has_memory = True
    min_layers = 2
    min_layers_reason = (' (the gradient highway sits between layers 0 '
                         'and 1)')

    def __init__(self, forget_bias: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.cells = self.build_cells(CausalLSTMCell, forget_bias=forget_bias)
        c = self.hidden_channels
        self.ghu = GHU(c, c, self.kernel_size)

    def init_state(self, frame: torch.Tensor, mode: str = 'zeros') -> dict:
        state = super().init_state(frame, mode)
        # Z of the gradient highway starts at zero
        state['z'] = frame.new_zeros(self.state_shape(frame))
        return state

    # the Causal LSTM cell is called as PredRNN's ST-LSTM: (x, H, C, M)
    layer_step = PredRNN.layer_step

    def regions(self) -> List[nn.Module]:
        return super().regions() + [self.ghu]

    def next_input(self, layer, h, state):
        if layer != 0:
            return h
        state['z'] = self.ghu(h, state['z'])
        return state['z']
