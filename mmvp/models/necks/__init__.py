# Copyright (c) mmvp contributors. All rights reserved.
from .base_neck import BaseRecurrentNeck
from .deform_warp import deform_warp, offsets_to_interleaved
from .motion_gru import MotionGRU
from .motion_gru_3d import MotionGRU3D
from .motion_highway import MotionHighway
from .motionrnn_neck import MotionRNNNeck
from .motionrnn_neck_3d import MotionRNNNeck3D

__all__ = [
    'BaseRecurrentNeck', 'deform_warp', 'offsets_to_interleaved', 'MotionGRU',
    'MotionHighway', 'MotionRNNNeck', 'MotionGRU3D', 'MotionRNNNeck3D'
]
