# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from .base_cell import BaseRecurrentCell
from .st_lstm_cell import gate_conv


def _check_input_size(name: str, input_size) -> Tuple[int, int]:
    if input_size is None or len(tuple(input_size)) != 2:
        raise ValueError(f'{name} needs input_size=(H\', W\'), the hidden '
                         'resolution of its Hadamard peephole weights '
                         f'(model_equations.md#mim); got {input_size!r}')
    return tuple(int(s) for s in input_size)


@MODELS.register_module()
class MIMN(nn.Module):
    """Peephole ConvLSTM of MIM with Hadamard peepholes
    (model_equations.md#mim).

    Used as the non-stationary module MIM-N and, with its own weights, as
    the stationary module MIM-S inside :class:`MIMBlock`::

        [i,g,f,o] = W_h * n_{t-1} + W_x * D_in
        i += w_ci * s_{t-1}      f += w_cf * s_{t-1}
        s_t = sigma(f + 1) * s_{t-1} + sigma(i) * tanh(g)
        n_t = sigma(o + w_co * s_t) * tanh(s_t)

    The peephole weights ``w_c*`` have shape ``[C, H', W']`` and start at
    zero (OpenSTL), so the module is bound to one hidden resolution.

    ``forward(x, n, s)`` returns ``(n_t, s_t)``.

    Args:
        in_channels (int): Channels of the input D_in.
        hidden_channels (int): Channels of n and s.
        kernel_size (int): Convolution kernel of W_h and W_x.
        input_size (tuple[int]): ``(H', W')`` of the hidden states.
        forget_bias (float): Added inside the sigmoid of f.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 5,
                 input_size: Optional[Sequence[int]] = None,
                 forget_bias: float = 1.0):
        super().__init__()
        size = _check_input_size('MIMN', input_size)
        c = hidden_channels
        self.hidden_channels = c
        self.input_size = size
        self.forget_bias = forget_bias
        self.conv_h = gate_conv(c, 4 * c, kernel_size, False, None)
        self.conv_x = gate_conv(in_channels, 4 * c, kernel_size, False, None)
        self.weight_ci = nn.Parameter(torch.zeros(c, *size))
        self.weight_cf = nn.Parameter(torch.zeros(c, *size))
        self.weight_co = nn.Parameter(torch.zeros(c, *size))

    def forward(self, x: torch.Tensor, n: torch.Tensor,
                s: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        if tuple(s.shape[-2:]) != self.input_size:
            raise ValueError(
                f'MIMN was built for input_size={self.input_size} but got '
                f'states of spatial size {tuple(s.shape[-2:])}: set the '
                "backbone's input_size to (H / patch, W / patch)")
        i, g, f, o = torch.chunk(self.conv_h(n) + self.conv_x(x), 4, dim=1)
        i = torch.sigmoid(i + self.weight_ci * s)
        f = torch.sigmoid(f + self.weight_cf * s + self.forget_bias)
        s_new = f * s + i * torch.tanh(g)
        n_new = torch.sigmoid(o + self.weight_co * s_new) * torch.tanh(s_new)
        return n_new, s_new


@MODELS.register_module()
class MIMBlock(BaseRecurrentCell):
    """Memory In Memory block (model_equations.md#mim).

    ::

        [i_t,g_t,o_t] = W_t * H_{t-1}   [i_s,g_s,f_s,o_s] = W_s * M
        [i_x,g_x,f_x,o_x] = W_x * X
        i  = sigma(i_x + i_t)   i' = sigma(i_x + i_s)
        g  = tanh(g_x + g_t)    g' = tanh(g_x + g_s)
        f' = sigma(f_x + f_s + 1)
        o  = sigma(o_x + o_t + o_s)
        M_new = f' * M + i' * g'
        (T_t, S_t) = MIM-S(input=diff, hidden=C_{t-1}, cell=S_{t-1})
        C_t = T_t + i * g
        H_t = o * tanh(W_11 * [C_t, M_new])

    ``diff`` is the output of the MIM-N module below. The MIM-S cell
    ``S`` is a recurrent state that the caller keeps per sequence (it is
    not stored on the module). ``forward`` returns
    ``(H_t, C_t, M_new, o, S_t)``; ``o`` is the gate the Motion Highway
    uses (model_equations.md#other-backbones).

    Args:
        in_channels (int): Channels of the input X (H of the layer below).
        hidden_channels (int): Channels of H, C, M, diff and S.
        kernel_size (int): Gate convolution kernel.
        input_size (tuple[int]): ``(H', W')`` for MIM-S's peepholes.
        forget_bias (float): Added inside the sigmoid of f' (and in MIM-S).
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 5,
                 input_size: Optional[Sequence[int]] = None,
                 forget_bias: float = 1.0):
        super().__init__(in_channels, hidden_channels, forget_bias)
        _check_input_size('MIMBlock', input_size)
        c = hidden_channels
        k = kernel_size
        self.conv_t = gate_conv(c, 3 * c, k, False, None)
        self.conv_s = gate_conv(c, 4 * c, k, False, None)
        self.conv_x = gate_conv(in_channels, 4 * c, k, False, None)
        self.mim_s = MIMN(c, c, k, input_size, forget_bias)
        self.conv_last = nn.Conv2d(2 * c, c, 1, bias=False)

    def forward(self, x: torch.Tensor, diff: torch.Tensor, h: torch.Tensor,
                c: torch.Tensor, m: torch.Tensor,
                s: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        i_t, g_t, o_t = torch.chunk(self.conv_t(h), 3, dim=1)
        i_s, g_s, f_s, o_s = torch.chunk(self.conv_s(m), 4, dim=1)
        i_x, g_x, f_x, o_x = torch.chunk(self.conv_x(x), 4, dim=1)
        i = torch.sigmoid(i_x + i_t)
        i_p = torch.sigmoid(i_x + i_s)
        g = torch.tanh(g_x + g_t)
        g_p = torch.tanh(g_x + g_s)
        f_p = torch.sigmoid(f_x + f_s + self.forget_bias)
        o = torch.sigmoid(o_x + o_t + o_s)
        m_new = f_p * m + i_p * g_p
        t_mem, s_new = self.mim_s(diff, c, s)
        c_new = t_mem + i * g
        h_new = o * torch.tanh(self.conv_last(torch.cat([c_new, m_new], 1)))
        return h_new, c_new, m_new, o, s_new
