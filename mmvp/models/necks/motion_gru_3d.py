# Copyright (c) mmvp contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from .motion_gru import MotionGRU


@MODELS.register_module()
class MotionGRU3D(MotionGRU):
    """MotionGRU for 5-D hidden states ``[B, C, tau, H', W']`` (E3D-LSTM).

    model_equations.md#3-d-motiongru-for-e3d-lstm (a reconstruction that
    reproduces the paper's Table 2):
    only the encoder, decoder and fusion gate become 3-D, the ConvGRU,
    trend momentum and warp are the 2-D ones of :class:`MotionGRU`::

        Enc  = Conv3d(C -> C/4, (tau, k, k), stride (tau, 2, 2),
                      pad (0, k//2, k//2))
               [B, C, tau, H, W] -> [B, C/4, 1, H/2, W/2] -> squeeze
        Dec  = ConvTranspose3d(C/4 -> C, (tau, 4, 4), stride (tau, 2, 2),
                               pad (0, 1, 1))
               unsqueeze -> [B, C/4, 1, H/2, W/2] -> [B, C, tau, H, W]
        gate = Conv3d(2C -> C, (1, k, k), pad (0, k//2, k//2))

    The 2-D squeeze/unsqueeze is part of ``enc``/``dec`` so that
    :meth:`MotionGRU.forward` runs unchanged. F and D stay 2-D,
    ``[B, 2N, H'/2, W'/2]``.

    Args:
        window_length (int): tau, the temporal depth of the hidden states
            (keyword only).
        See :class:`MotionGRU` for the others.
    """

    def __init__(self, *args, window_length: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        if window_length < 1:
            raise ValueError(
                f'window_length must be >= 1, got {window_length}')
        self.window_length = window_length
        c = self.hidden_channels
        c4 = c // 4
        k = self.kernel_size
        tau, p = window_length, k // 2
        self.enc = nn.Sequential(
            nn.Conv3d(c, c4, (tau, k, k), (tau, 2, 2), (0, p, p)),
            nn.Flatten(1, 2))  # [B, C/4, 1, h, w] -> [B, C/4, h, w]
        self.dec = nn.Sequential(
            nn.Unflatten(1, (c4, 1)),
            nn.ConvTranspose3d(c4, c, (tau, 4, 4), (tau, 2, 2), (0, 1, 1)))
        self.gate = nn.Conv3d(2 * c, c, (1, k, k), padding=(0, p, p))

    def _check(self, hidden: torch.Tensor):
        if hidden.dim() != 5 or hidden.shape[1] != self.hidden_channels or \
                hidden.shape[2] != self.window_length:
            raise ValueError(
                f'MotionGRU3D expects hidden states [B, '
                f'{self.hidden_channels}, {self.window_length}, H, W] '
                f'(window_length={self.window_length}), got '
                f'{tuple(hidden.shape)}')

    def state_shape(self, hidden: torch.Tensor) -> Tuple[int, ...]:
        """Shape of F and D (2-D) for a hidden state like ``hidden``."""
        self._check(hidden)
        return super().state_shape(hidden[:, :, 0])

    def forward(self, hidden: torch.Tensor, filt: torch.Tensor,
                trend: torch.Tensor):
        """Returns ``(X, F', D')``; ``X`` is 5-D like ``hidden``."""
        self._check(hidden)
        return super().forward(hidden, filt, trend)
