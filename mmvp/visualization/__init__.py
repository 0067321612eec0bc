# Copyright (c) mmvp contributors. All rights reserved.
from .video_pred_visualizer import VideoPredVisualizer, to_uint8_frames

__all__ = ['VideoPredVisualizer', 'to_uint8_frames']
