# Copyright (c) mmvp contributors. All rights reserved.
from typing import List, Optional, Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from ..backbones.base_recurrent_stack import new_state
from .base_neck import BaseRecurrentNeck
from .motion_gru import MotionGRU
from .motion_highway import MotionHighway


@MODELS.register_module()
class MotionRNNNeck(BaseRecurrentNeck):
    """MotionRNN: MotionGRUs between the layers plus the Motion Highway.

    As released (model_equations.md#motionrnn-on-predrnn-step-by-step):
    ``num_layers - 1`` MotionGRU blocks, one after every layer but the
    last, and the highway in all layers. At layer ``l`` (after the cell)::

        H^l = h_pre + (1 - o) * V        (highway; V <- H^l, the raw output)
        H^l = MotionGRU_l(H^l)           (l < L - 1; replaces H^l_t)

    The switches give every row of the paper's Table 3
    (model_equations.md#ablation-switches):
    ``use_highway``, ``use_motion_gru``, ``use_trend``, ``use_transient``.

    Args:
        in_channels (int): Channels of one (patchified) input frame; set by
            the predictor from the backbone.
        hidden_channels (int): Hidden channels; set from the backbone.
        num_layers (int): Layers of the stack; set from the backbone.
        neighbour (int): MotionGRU warp kernel k_m.
        kernel_size (int): Enc and fusion-gate kernel (5 officially).
        momentum (float): Trend momentum alpha (0.5).
        use_highway (bool): Apply the Motion Highway.
        use_motion_gru (bool): Insert the MotionGRU blocks.
        use_trend (bool): Trend momentum inside MotionGRU.
        use_transient (bool): Transient variation inside MotionGRU.
        highway_first_layer (bool): Seed layer 0's highway from the input
            frame (official code) rather than start it after layer 0 (paper
            Eq. 1).
        warp_impl (str): See :func:`deform_warp`.
    """

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
                 warp_impl: str = 'grid_sample'):
        super().__init__()
        if not (use_highway or use_motion_gru):
            raise ValueError('MotionRNNNeck with use_highway=False and '
                             'use_motion_gru=False does nothing: remove the '
                             'neck from the config instead')
        self.num_layers = num_layers
        self.use_highway = use_highway
        self.use_motion_gru = use_motion_gru
        if use_highway:
            self.highway = MotionHighway(in_channels, hidden_channels,
                                         highway_first_layer)
        if use_motion_gru:
            self.blocks = nn.ModuleList([
                MotionGRU(hidden_channels, neighbour, kernel_size, momentum,
                          use_trend, use_transient, warp_impl)
                for _ in range(num_layers - 1)
            ])

    def init_state(self,
                   hidden: torch.Tensor,
                   mode: str = 'zeros') -> Optional[List[Tuple]]:
        if not self.use_motion_gru:
            return None
        states = []
        for block in self.blocks:
            # The official code starts F and D from one shared tensor.
            t = new_state(block.state_shape(hidden), hidden, mode)
            states.append((t, t))
        return states

    def regions(self) -> List[nn.Module]:
        # the highway merge is a single addcmul: nothing to fuse
        return list(self.blocks) if self.use_motion_gru else []

    def begin_step(self, frame: torch.Tensor) -> Optional[torch.Tensor]:
        return self.highway.seed(frame) if self.use_highway else None

    def after_layer(self, layer, h, o, highway, state):
        if self.use_highway:
            if highway is not None:
                h = MotionHighway.merge(h, o, highway)
            highway = h
        if self.use_motion_gru and layer < self.num_layers - 1:
            filt, trend = state[layer]
            h, filt, trend = self.blocks[layer](h, filt, trend)
            state[layer] = (filt, trend)
        return h, highway, state
