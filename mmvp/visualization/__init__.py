# Copyright (c) mmvp contributors. All rights reserved.
from .motion_quiver import (MotionRecorder, auto_arrow_scale,
                            plot_motion_fields, reduce_taps, step_scales)
from .video_export import as_uint8_hwc, publish_file, write_video
from .video_pred_visualizer import VideoPredVisualizer, to_uint8_frames

__all__ = [
    'VideoPredVisualizer', 'to_uint8_frames', 'write_video', 'as_uint8_hwc',
    'publish_file', 'MotionRecorder', 'reduce_taps', 'plot_motion_fields',
    'auto_arrow_scale', 'step_scales'
]
