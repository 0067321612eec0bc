# Copyright (c) mmvp contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from ..utils.ops import lerp
from .base_cell import BaseRecurrentCell
from .st_lstm_cell import gate_conv


@MODELS.register_module()
class CausalLSTMCell(BaseRecurrentCell):
    """Causal LSTM cell of PredRNN++
    (model_equations.md#causal-lstm-and-ghu-predrnn).

    ::

        [i_x,g_x,f_x,o_x,i'_x,g'_x,f'_x] = W_x * X_t
        [i_h,g_h,f_h,o_h] = W_h * H_{t-1}   [i_c,g_c,f_c] = W_c * C_{t-1}
        [i_m,f_m,m_m] = W_m * M
        i = sigma(i_x+i_h+i_c)  f = sigma(f_x+f_h+f_c+1)  g = tanh(g_x+g_h+g_c)
        C_t = f * C_{t-1} + i * g
        [i_c2,g_c2,f_c2,o_c] = W_cm * C_t
        i' = sigma(i_c2+i'_x+i_m)  f' = sigma(f_c2+f'_x+f_m+1)
        g' = tanh(g_c2+g'_x)
        M_new = f' * tanh(m_m) + i' * g'
        o = tanh(o_x + o_h + o_c + W_mo * M_new)
        H_t = o * tanh(W_11 * [C_t, M_new])

    The channel split orders are those of the original PredRNN++ code.
    All convs are k x k and bias-free except the 1x1 ``W_11``; the never
    used ``conv_o`` of OpenSTL is not allocated.

    Note:
        The output gate is **tanh**-based, so ``o`` lies in (-1, 1). The
        Motion Highway uses it as it is
        (model_equations.md#other-backbones): its ``1 - o`` lies in (0, 2),
        not (0, 1). No reference implementation
        of this combination exists.

    ``forward`` returns ``(H_t, C_t, M_new, o)``.

    Args:
        in_channels (int): Channels of the input X_t.
        hidden_channels (int): Channels of H, C and M.
        kernel_size (int): Gate convolution kernel.
        forget_bias (float): Added inside the sigmoid of f and f'.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 5,
                 forget_bias: float = 1.0):
        super().__init__(in_channels, hidden_channels, forget_bias)
        c = hidden_channels
        k = kernel_size
        self.conv_x = gate_conv(in_channels, 7 * c, k, False, None)
        self.conv_h = gate_conv(c, 4 * c, k, False, None)
        self.conv_c = gate_conv(c, 3 * c, k, False, None)
        self.conv_m = gate_conv(c, 3 * c, k, False, None)
        self.conv_cm = gate_conv(c, 4 * c, k, False, None)
        self.conv_mo = gate_conv(c, c, k, False, None)
        self.conv_last = nn.Conv2d(2 * c, c, 1, bias=False)

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
                m: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        i_x, g_x, f_x, o_x, i_xp, g_xp, f_xp = torch.chunk(
            self.conv_x(x), 7, dim=1)
        i_h, g_h, f_h, o_h = torch.chunk(self.conv_h(h), 4, dim=1)
        i_c, g_c, f_c = torch.chunk(self.conv_c(c), 3, dim=1)
        i_m, f_m, m_m = torch.chunk(self.conv_m(m), 3, dim=1)

        i = torch.sigmoid(i_x + i_h + i_c)
        f = torch.sigmoid(f_x + f_h + f_c + self.forget_bias)
        g = torch.tanh(g_x + g_h + g_c)
        c_new = f * c + i * g

        i_c2, g_c2, f_c2, o_c = torch.chunk(self.conv_cm(c_new), 4, dim=1)
        i_p = torch.sigmoid(i_c2 + i_xp + i_m)
        f_p = torch.sigmoid(f_c2 + f_xp + f_m + self.forget_bias)
        g_p = torch.tanh(g_c2 + g_xp)
        # the forget gate scales tanh(W_m * M), not M
        m_new = f_p * torch.tanh(m_m) + i_p * g_p

        o = torch.tanh(o_x + o_h + o_c + self.conv_mo(m_new))
        mem = torch.cat([c_new, m_new], dim=1)
        h_new = o * torch.tanh(self.conv_last(mem))
        return h_new, c_new, m_new, o


@MODELS.register_module()
class GHU(nn.Module):
    """Gradient highway unit of PredRNN++
    (model_equations.md#causal-lstm-and-ghu-predrnn).

    ::

        [p_x, u_x] = W_x * X     [p_z, u_z] = W_z * Z_{t-1}
        p = tanh(p_x + p_z)      u = sigma(u_x + u_z)
        Z_t = u * p + (1 - u) * Z_{t-1}

    Both convs are k x k, bias-free, with weights drawn from U(-0.001,
    0.001) as in the original code.

    Args:
        in_channels (int): Channels of the input X.
        hidden_channels (int): Channels of Z.
        kernel_size (int): Convolution kernel.
        init_range (float): Half-width of the uniform weight init.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 5,
                 init_range: float = 0.001):
        super().__init__()
        c = hidden_channels
        self.conv_x = gate_conv(in_channels, 2 * c, kernel_size, False, None)
        self.conv_z = gate_conv(c, 2 * c, kernel_size, False, None)
        for conv in (self.conv_x, self.conv_z):
            nn.init.uniform_(conv.weight, -init_range, init_range)

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        p_x, u_x = torch.chunk(self.conv_x(x), 2, dim=1)
        p_z, u_z = torch.chunk(self.conv_z(z), 2, dim=1)
        p = torch.tanh(p_x + p_z)
        u = torch.sigmoid(u_x + u_z)
        # u * p + (1 - u) * z in one op, like the other gated blends
        return lerp(z, p, u)
