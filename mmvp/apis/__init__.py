# Copyright (c) mmvp contributors. All rights reserved.
from .video_input import load_frames, read_frame_folder, read_image, read_video
from .video_pred_inferencer import VideoPredInferencer, config_frame_size

__all__ = [
    'VideoPredInferencer', 'config_frame_size', 'load_frames', 'read_video',
    'read_frame_folder', 'read_image'
]
