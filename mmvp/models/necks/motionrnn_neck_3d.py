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
        window_length (int): tau; must equal the backbone's.
        See :class:`MotionRNNNeck` for the others.
    """

    spatial_dims = 3

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int = 64,
                 num_layers: int = 4,
                 neighbour: int = 3,
                 kernel_size: int = 5,
                 momentum: float = 0.5,
                 use_highway: bool = True,
                 use_motion_gru: bool = True,
                 use_trend: bool = True,
                 use_transient: bool = True,
                 highway_first_layer: bool = True,
                 warp_impl: str = 'grid_sample',
                 window_length: int = 2):
        super().__init__(in_channels, hidden_channels, num_layers, neighbour,
                         kernel_size, momentum, use_highway, use_motion_gru,
                         use_trend, use_transient, highway_first_layer,
                         warp_impl)
        self.window_length = window_length
        # swap the 2-D parts built by MotionRNNNeck for their 3-D versions
        if use_highway and highway_first_layer:
            self.highway.conv_first_v = nn.Conv3d(
                in_channels, hidden_channels, 1, bias=False)
        if use_motion_gru:
            self.blocks = nn.ModuleList([
                MotionGRU3D(hidden_channels, neighbour, kernel_size, momentum,
                            use_trend, use_transient, warp_impl, window_length)
                for _ in range(num_layers - 1)
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
