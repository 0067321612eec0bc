# Copyright (c) mmvp contributors. All rights reserved.
from .motion_quiver import (MotionRecorder, arrow_layout, auto_arrow_scale,
                            plot_motion_fields, reduce_taps, step_scales)
from .video_export import as_uint8_hwc, write_video
from .video_pred_visualizer import (VideoPredVisualizer, side_by_side,
                                    time_labels, to_uint8_frames)

__all__ = [
    'VideoPredVisualizer', 'to_uint8_frames', 'time_labels', 'side_by_side',
    'write_video', 'as_uint8_hwc', 'MotionRecorder', 'reduce_taps',
    'plot_motion_fields', 'arrow_layout', 'auto_arrow_scale', 'step_scales'
]
