# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from .motion_gru_3d import MotionGRU3D
from .motionrnn_neck import MotionRNNNeck


@MODELS.register_module()
class MotionRNNNeck3D(MotionRNNNeck):
    """MotionRNN for E3D-LSTM: the neck of :class:`MotionRNNNeck` on 5-D
    hidden states (model_equations.md#3-d-motiongru-for-e3d-lstm).

    Same flow and switches as :class:`MotionRNNNeck`; the differences are
    the blocks (:class:`MotionGRU3D`) and the highway seed, a bias-free
    ``Conv3d(p^2 C_img -> C, 1x1x1)`` on the input window that
    :meth:`E3DLSTM.forward_step` passes to :meth:`begin_step`. The ``o`` it
    receives is E3D's effective gate ``sigma(tanh(.))``
    (model_equations.md#e3d-lstm).

    Args:
        window_length (int): tau; must equal the backbone's (keyword
            only).
        See :class:`MotionRNNNeck` for the others.
    """

    spatial_dims = 3

    def __init__(self, *args, window_length: int = 2, **kwargs):
        super().__init__(*args, **kwargs)
        self.window_length = window_length
        # swap the 2-D parts built by MotionRNNNeck for their 3-D versions,
        # in the order the 2-D ones were built (seeded weights stay the same)
        if self.use_highway and self.highway.seed_from_input:
            conv_2d = self.highway.conv_first_v
            self.highway.conv_first_v = nn.Conv3d(
                conv_2d.in_channels, conv_2d.out_channels, 1, bias=False)
        if self.use_motion_gru:
            self.blocks = nn.ModuleList([
                MotionGRU3D(
                    b.hidden_channels,
                    b.neighbour,
                    b.kernel_size,
                    b.momentum,
                    b.use_trend,
                    b.use_transient,
                    b.warp_impl,
                    window_length=window_length) for b in self.blocks
            ])

    def begin_step(self, frame: torch.Tensor) -> Optional[torch.Tensor]:
        """``frame`` is the input window ``[B, C_in, tau, H', W']``."""
        if frame.dim() != 5 or frame.shape[2] != self.window_length:
            raise ValueError(
                'MotionRNNNeck3D.begin_step expects the input window [B, C, '
                f'{self.window_length}, H, W] (window_length='
                f'{self.window_length}; use it with E3DLSTM), got '
                f'{tuple(frame.shape)}')
        return super().begin_step(frame)
