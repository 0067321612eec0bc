# Copyright (c) mmvp contributors. All rights reserved.
from typing import Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from ..utils.ops import lerp
from .deform_warp import deform_warp

_ZEROS = {}


def _zero(like: torch.Tensor) -> torch.Tensor:
    """A cached 0-d zero of ``like``'s device and dtype (no grad)."""
    key = (like.device, like.dtype)
    zero = None if torch.compiler.is_compiling() else _ZEROS.get(key)
    if zero is None:
        with torch.inference_mode(False), torch.no_grad():
            zero = torch.zeros((), device=like.device, dtype=like.dtype)
        if not torch.compiler.is_compiling():
            _ZEROS[key] = zero
    return zero


@MODELS.register_module()
class MotionGRU(nn.Module):
    """One MotionGRU block with its encoder, decoder and fusion gate
    (model_equations.md#motiongru; the official code's layout).

    Works at half resolution with ``C/4`` channels. Per step, with ``H`` the
    layer's current output ``[B, C, H', W']`` and the recurrent motion
    states ``F`` (final filter) and ``D`` (trend), both ``[B, 2N, H'/2,
    W'/2]`` with ``N = neighbour**2``::

        E  = Enc(H)
        u  = sigma(W_u*[E, F]); r = sigma(W_r*[E, F])
        z  = tanh(W_z*[E, r*F]);  F~ = u*z + (1-u)*F      (Eq. 2)
        D' = D + alpha*(F - D);   F' = F~ + D'              (Eq. 3)
        Y  = Warp(E, F', m = sigma(W_m*E))                  (Eq. 4, warp)
        Hh = Dec(Y); G = sigma(W_g*[Hh, H]); X = G*Hh + (1-G)*H   (code's gate)

    The three ConvGRU convs and the mask conv have zero-initialised weights
    (their biases keep PyTorch's default), as in the official code.

    Args:
        hidden_channels (int): C, the channels of the wrapped layer.
        neighbour (int): k_m, the warp kernel (3: 9 taps, 18 offsets).
        kernel_size (int): Kernel of Enc and of the fusion gate (the
            backbone's ``filter_size``, 5 officially).
        momentum (float): alpha of the trend momentum.
        use_trend (bool): Off: D = 0 and F' = F~
            (model_equations.md#ablation-switches).
        use_transient (bool): Off: F~ = 0, so F' = D' (ablation).
        warp_impl (str): ``'grid_sample'``, ``'torchvision'`` or ``'auto'``.
    """

    def __init__(self,
                 hidden_channels: int = 64,
                 neighbour: int = 3,
                 kernel_size: int = 5,
                 momentum: float = 0.5,
                 use_trend: bool = True,
                 use_transient: bool = True,
                 warp_impl: str = 'grid_sample'):
        super().__init__()
        if hidden_channels % 4:
            raise ValueError('MotionGRU works on C/4 channels: '
                             f'hidden_channels={hidden_channels} is not a '
                             'multiple of 4')
        if neighbour % 2 == 0:
            raise ValueError(f'neighbour must be odd, got {neighbour}')
        c = hidden_channels
        c4 = c // 4
        self.hidden_channels = c
        self.neighbour = neighbour
        self.kernel_size = kernel_size
        self.motion_channels = 2 * neighbour * neighbour
        self.momentum = momentum
        self.use_trend = use_trend
        self.use_transient = use_transient
        self.warp_impl = warp_impl
        m2 = self.motion_channels

        self.enc = nn.Conv2d(c, c4, kernel_size, 2, kernel_size // 2)
        if use_transient:
            self.update = nn.Conv2d(c4 + m2, m2, 3, padding=1)
            self.reset = nn.Conv2d(c4 + m2, m2, 3, padding=1)
            self.output = nn.Conv2d(c4 + m2, m2, 3, padding=1)
        self.warp_mask = nn.Conv2d(c4, neighbour * neighbour, 3, padding=1)
        self.warp_weight = nn.Parameter(
            torch.empty(c4, c4, neighbour, neighbour))
        self.dec = nn.ConvTranspose2d(c4, c, 4, 2, 1)
        self.gate = nn.Conv2d(2 * c, c, kernel_size, padding=kernel_size // 2)
        self.reset_parameters()

    def reset_parameters(self):
        # The official warp conv is an nn.Conv2d(bias=False): same init.
        nn.init.kaiming_uniform_(self.warp_weight, a=5**0.5)
        zero_init = [self.warp_mask]
        if self.use_transient:
            zero_init += [self.update, self.reset, self.output]
        for conv in zero_init:
            nn.init.zeros_(conv.weight)

    def state_shape(self, hidden: torch.Tensor) -> Tuple[int, ...]:
        """Shape of F and D for a hidden state like ``hidden``."""
        b, _, h, w = hidden.shape
        if h % 2 or w % 2:
            raise ValueError('MotionGRU needs an even hidden size (Enc '
                             f'halves and Dec doubles it), got {h}x{w}; '
                             'choose frame size / patch_size even')
        return (b, self.motion_channels, h // 2, w // 2)

    def forward(self, hidden: torch.Tensor, filt: torch.Tensor,
                trend: torch.Tensor):
        """Returns ``(X, F', D')``."""
        enc = self.enc(hidden)
        if self.use_transient:
            ef = torch.cat([enc, filt], dim=1)
            u = torch.sigmoid(self.update(ef))
            r = torch.sigmoid(self.reset(ef))
            z = torch.tanh(self.output(torch.cat([enc, r * filt], dim=1)))
            # u * z + (1 - u) * F in one op
            transient = lerp(filt, z, u)
        else:
            transient = None
        if self.use_trend:
            # D + alpha * (F - D)
            trend = lerp(trend, filt, self.momentum)
            filt = trend if transient is None else transient + trend
        else:
            # D = 0: a broadcast view of a cached zero, no allocation
            trend = _zero(filt).expand_as(filt)
            filt = transient if transient is not None else trend
        mask = torch.sigmoid(self.warp_mask(enc))
        warped = deform_warp(enc, filt, mask, self.warp_weight, self.warp_impl)
        dec = self.dec(warped)
        gate = torch.sigmoid(self.gate(torch.cat([dec, hidden], dim=1)))
        # G * Hh + (1 - G) * H in one op
        fused = lerp(hidden, dec, gate)
        return fused, filt, trend
