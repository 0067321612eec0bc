# Copyright (c) mmvp contributors. All rights reserved.
from .config_facts import config_frame_size
from .model_index import list_models, resolve_model
from .video_pred_inferencer import VideoPredInferencer

__all__ = [
    'VideoPredInferencer', 'list_models', 'resolve_model', 'config_frame_size'
]
