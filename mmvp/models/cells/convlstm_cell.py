# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional, Tuple

import torch

from mmvp.registry import MODELS
from .base_cell import BaseRecurrentCell
from .st_lstm_cell import gate_conv


@MODELS.register_module()
class ConvLSTMCell(BaseRecurrentCell):
    """Convolutional LSTM cell (Shi et al. 2015; model_equations.md#convlstm).

    ::

        [i_x,f_x,g_x,o_x] = W_x * X_t      [i_h,f_h,g_h,o_h] = W_h * H_{t-1}
        i = sigma(i_x + i_h [+ i_c])       f = sigma(f_x + f_h [+ f_c] + b_f)
        g = tanh(g_x + g_h)                C_t = f * C_{t-1} + i * g
        o = sigma(o_x + o_h [+ W_co * C_t])
        H_t = o * tanh(C_t)

    With ``peephole='conv'`` the bracketed terms are convolutional
    peepholes: ``[i_c, f_c] = W_c * C_{t-1}`` (C -> 2C) and ``W_co * C_t``
    (C -> C), both k x k and bias-free. One such C -> 3C conv per layer
    reproduces the paper's Table 2 size (4.41M,
    reproduction_notes.md#model-sizes); without it
    the cell is OpenSTL's ConvLSTM (3.18M). OpenSTL's two never-called convs
    are not allocated.

    ``forward`` returns ``(H_t, C_t, o)``; ``o`` is the gate the Motion
    Highway uses (model_equations.md#other-backbones).

    Args:
        in_channels (int): Channels of the input X_t.
        hidden_channels (int): Channels of H and C.
        kernel_size (int): Gate convolution kernel.
        peephole (str, optional): None (OpenSTL) or ``'conv'``.
        forget_bias (float): Added inside the sigmoid of f; 0 as in OpenSTL.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 kernel_size: int = 5,
                 peephole: Optional[str] = None,
                 forget_bias: float = 0.0):
        super().__init__(in_channels, hidden_channels, forget_bias)
        if peephole not in (None, 'conv'):
            raise ValueError("ConvLSTMCell: peephole must be None or 'conv', "
                             f'got {peephole!r}')
        c = hidden_channels
        self.peephole = peephole
        self.conv_x = gate_conv(in_channels, 4 * c, kernel_size, False, None)
        self.conv_h = gate_conv(c, 4 * c, kernel_size, False, None)
        if peephole == 'conv':
            self.conv_c = gate_conv(c, 2 * c, kernel_size, False, None)
            self.conv_co = gate_conv(c, c, kernel_size, False, None)

    def forward(self, x: torch.Tensor, h: torch.Tensor,
                c: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        i_x, f_x, g_x, o_x = torch.chunk(self.conv_x(x), 4, dim=1)
        i_h, f_h, g_h, o_h = torch.chunk(self.conv_h(h), 4, dim=1)
        i, f, o = i_x + i_h, f_x + f_h, o_x + o_h
        if self.peephole == 'conv':
            i_c, f_c = torch.chunk(self.conv_c(c), 2, dim=1)
            i, f = i + i_c, f + f_c
        i = torch.sigmoid(i)
        f = torch.sigmoid(f + self.forget_bias)
        g = torch.tanh(g_x + g_h)
        c_new = f * c + i * g
        if self.peephole == 'conv':
            o = o + self.conv_co(c_new)
        o = torch.sigmoid(o)
        h_new = o * torch.tanh(c_new)
        return h_new, c_new, o
