# Copyright (c) mmvp contributors. All rights reserved.
from .formatting import PackVideoPredInputs
from .loading import LoadVideoFrames
from .processing import (CenterCropFrames, EncodeRadarFrames, RandomCropFrames,
                         ResizeFrames)

__all__ = [
    'PackVideoPredInputs', 'LoadVideoFrames', 'CenterCropFrames',
    'RandomCropFrames', 'ResizeFrames', 'EncodeRadarFrames'
]
