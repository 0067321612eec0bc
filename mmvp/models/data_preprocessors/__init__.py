# Copyright (c) mmvp contributors. All rights reserved.
from .video_pred_data_preprocessor import VideoPredDataPreprocessor

__all__ = ['VideoPredDataPreprocessor']
