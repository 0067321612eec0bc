# Copyright (c) mmvp contributors. All rights reserved.
from .video_pred_data_sample import VideoPredDataSample

__all__ = ['VideoPredDataSample']
