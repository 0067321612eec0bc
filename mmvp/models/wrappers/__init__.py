# Copyright (c) mmvp contributors. All rights reserved.
from .video_predictor_ddp import VideoPredictorDDP

__all__ = ['VideoPredictorDDP']
