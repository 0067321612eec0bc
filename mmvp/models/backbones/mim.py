# Copyright (c) mmvp contributors. All rights reserved.
from typing import List, Optional, Sequence

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from ..cells import MIMN, MIMBlock, STLSTMCell
from .base_recurrent_stack import BaseRecurrentStack


@MODELS.register_module()
class MIM(BaseRecurrentStack):
    """Memory In Memory (model_equations.md#mim).

    Layer 0 is an ST-LSTM, layers ``1 .. L-1`` are
    :class:`MIMBlock` s, and ``L - 1`` MIM-N modules (:class:`MIMN`) feed
    them differential signals. At step ``t`` (``j = l - 1``)::

        D_0 = H^0_t - H^0_{t-1};  D_j = n_{j-1,t} for j > 0
        (n_j, s_j) = MIM-N_j(D_j, n_j, s_j)       (only for t >= 1)
        H^l, C^l, M, o, S^l = MIMBlock_l(H^{l-1}_t, n_{j,t}, H^l, C^l, M, S^l)

    ``H^0`` is the layer-0 output as stored in the state, i.e. after the
    neck's fusion when there is one (model_equations.md#other-backbones).
    At ``t = 0`` the MIM-N result is discarded, so it is not computed: the
    MIM blocks get ``diff = 0`` and the MIM-N states are still zero at
    ``t = 1``.

    All per-sequence states, including the MIM-S cells ``S``, live in the
    rollout state and are reset by :meth:`init_state`. The MIM-N/MIM-S
    states (``n``, ``s``, ``S``) always start at zero; ``H``, ``C`` and
    ``M`` follow ``mode``. The highway gate is ``o = sigma(o_x + o_t +
    o_s)`` (layer 0: the ST-LSTM's ``o``).

    Args:
        input_size (tuple[int]): ``(H', W')``, the hidden resolution, for
            the Hadamard peepholes (e.g. ``(16, 16)`` for 64x64 frames and
            patch 4).
        forget_bias (float): Forget bias of the MIM blocks and modules.
        See :class:`BaseRecurrentStack` for the others (``num_layers``
        must be at least 2).
    """

    has_memory = True
    min_layers = 2
    min_layers_reason = ' (layer 0 is an ST-LSTM, the rest MIM blocks)'

    def __init__(self,
                 input_size: Optional[Sequence[int]] = None,
                 forget_bias: float = 1.0,
                 **kwargs):
        if input_size is None:
            raise ValueError('MIM needs input_size=(H\', W\'): its '
                             'Hadamard peepholes are resolution-bound, e.g. '
                             '(16, 16) for 64x64 frames with patch 4')
        super().__init__(**kwargs)
        c, k = self.hidden_channels, self.kernel_size
        self.input_size = tuple(input_size)
        cells = [STLSTMCell(self.in_channels, c, k)]
        cells += [
            MIMBlock(c, c, k, input_size, forget_bias)
            for _ in range(self.num_layers - 1)
        ]
        self.cells = nn.ModuleList(cells)
        self.mim_n = nn.ModuleList(
            [MIMN(c, c, k, input_size, forget_bias) for _ in cells[1:]])

    def regions(self) -> List[nn.Module]:
        return super().regions() + list(self.mim_n)

    def init_state(self, frame: torch.Tensor, mode: str = 'zeros') -> dict:
        b, _, h, w = frame.shape
        if (h, w) != self.input_size:
            raise ValueError(f'MIM was built for input_size={self.input_size}'
                             f' but the (patchified) frames are {h}x{w}: set '
                             "the backbone's input_size to (H / patch, "
                             'W / patch)')
        state = super().init_state(frame, mode)
        shape = self.state_shape(frame)
        zeros = [frame.new_zeros(shape) for _ in range(self.num_layers - 1)]
        state.update(
            n=list(zeros),  # MIM-N outputs
            s=list(zeros),  # MIM-N cells
            mim_s=list(zeros),  # MIM-S cells S, one per block
            h0_prev=None,  # H^0_{t-1} (fused)
            step=0)
        return state

    def layer_step(self, layer, inp, state):
        if layer == 0:
            state['h0_prev'] = state['h'][0]
            state['step'] += 1
            h, c, m, o = self.cells[0](inp, state['h'][0], state['c'][0],
                                       state['m'])
            state['c'][0] = c
            state['m'] = m
            return h, o
        j = layer - 1
        if state['step'] > 1:  # the t = 0 MIM-N result is discarded
            if j == 0:
                d_in = state['h'][0] - state['h0_prev']
            else:
                d_in = state['n'][j - 1]
            state['n'][j], state['s'][j] = self.mim_n[j](d_in, state['n'][j],
                                                         state['s'][j])
        h, c, m, o, s = self.cells[layer](inp, state['n'][j],
                                          state['h'][layer], state['c'][layer],
                                          state['m'], state['mim_s'][j])
        state['c'][layer] = c
        state['m'] = m
        state['mim_s'][j] = s
        return h, o
