# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from .base_cell import BaseRecurrentCell


def gate_conv(in_channels: int, out_channels: int, kernel_size: int,
              layer_norm: bool,
              input_size: Optional[Sequence[int]]) -> nn.Module:
    """A bias-free "same" gate convolution, optionally followed by
    ``LayerNorm([C_out, H', W'])`` as in the PredRNN family
    (model_equations.md#backbone-cells)."""
    conv = nn.Conv2d(
        in_channels,
        out_channels,
        kernel_size,
        padding=kernel_size // 2,
        bias=False)
    if not layer_norm:
        return conv
    if input_size is None:
        raise ValueError('layer_norm=True needs input_size=(H\', W\') '
                         'because the PredRNN LayerNorm spans [C, H, W]')
    return nn.Sequential(conv, nn.LayerNorm([out_channels, *input_size]))


@MODELS.register_module()
class STLSTMCell(BaseRecurrentCell):
    """Spatiotemporal LSTM cell of PredRNN
    (model_equations.md#st-lstm-predrnn).

    ::

        [i_x,f_x,g_x,i'_x,f'_x,g'_x,o_x] = W_x * X_t
        [i_h,f_h,g_h,o_h] = W_h * H_{t-1}      [i_m,f_m,g_m] = W_m * M
        C_t   = f * C_{t-1} + i * g             (f with forget bias +1)
        M_new = f' * M + i' * g'
        o     = sigma(o_x + o_h + W_o * [C_t, M_new])
        H_t   = o * tanh(W_11 * [C_t, M_new])

    ``forward`` returns ``(H_t, C_t, M_new, o)``: the output gate ``o`` is
    what the Motion Highway uses for its ``(1 - o)`` term
    (model_equations.md#other-backbones).
    With ``return_deltas=True`` it also returns ``i*g`` and ``i'*g'``, the
    memory increments of PredRNN-v2's decoupling loss
    (model_equations.md#predrnn-v2).

    Args:
        in_channels (int): Channels of the input X_t.
        hidden_channels (int): Channels of H, C and M.
        kernel_size (int): Gate convolution kernel (``filter_size``).
        layer_norm (bool): LayerNorm after every k x k gate conv.
        input_size (tuple[int], optional): ``(H', W')``, needed with
            ``layer_norm``.
        forget_bias (float): Added inside the sigmoid of f and f'.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 5,
                 layer_norm: bool = False,
                 input_size: Optional[Sequence[int]] = None,
                 forget_bias: float = 1.0):
        super().__init__(in_channels, hidden_channels, forget_bias)
        c = hidden_channels
        self.conv_x = gate_conv(in_channels, 7 * c, kernel_size, layer_norm,
                                input_size)
        self.conv_h = gate_conv(c, 4 * c, kernel_size, layer_norm, input_size)
        self.conv_m = gate_conv(c, 3 * c, kernel_size, layer_norm, input_size)
        self.conv_o = gate_conv(2 * c, c, kernel_size, layer_norm, input_size)
        self.conv_last = nn.Conv2d(2 * c, c, 1, bias=False)

    def forward(self,
                x: torch.Tensor,
                h: torch.Tensor,
                c: torch.Tensor,
                m: torch.Tensor,
                return_deltas: bool = False) -> Tuple[torch.Tensor, ...]:
        i_x, f_x, g_x, i_xp, f_xp, g_xp, o_x = torch.chunk(
            self.conv_x(x), 7, dim=1)
        i_h, f_h, g_h, o_h = torch.chunk(self.conv_h(h), 4, dim=1)
        i_m, f_m, g_m = torch.chunk(self.conv_m(m), 3, dim=1)

        i = torch.sigmoid(i_x + i_h)
        f = torch.sigmoid(f_x + f_h + self.forget_bias)
        g = torch.tanh(g_x + g_h)
        delta_c = i * g
        c_new = f * c + delta_c

        i_p = torch.sigmoid(i_xp + i_m)
        f_p = torch.sigmoid(f_xp + f_m + self.forget_bias)
        g_p = torch.tanh(g_xp + g_m)
        delta_m = i_p * g_p
        m_new = f_p * m + delta_m

        mem = torch.cat([c_new, m_new], dim=1)
        o = torch.sigmoid(o_x + o_h + self.conv_o(mem))
        h_new = o * torch.tanh(self.conv_last(mem))
        if return_deltas:
            return h_new, c_new, m_new, o, delta_c, delta_m
        return h_new, c_new, m_new, o
