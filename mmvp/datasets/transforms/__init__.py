# Copyright (c) mmvp contributors. All rights reserved.
from .formatting import PackVideoPredInputs
from .loading import (DECODE_TRANSFORMS, ArrayDecode, BaseDecode, DecordDecode,
                      FrameCacheDecode, FrameFolderDecode, LoadVideoFrames,
                      OpenCVDecode)
from .processing import (CenterCropFrames, EncodeRadarFrames, RandomCropFrames,
                         ResizeFrames)

__all__ = [
    'PackVideoPredInputs', 'LoadVideoFrames', 'BaseDecode', 'DecordDecode',
    'OpenCVDecode', 'FrameFolderDecode', 'FrameCacheDecode', 'ArrayDecode',
    'DECODE_TRANSFORMS', 'CenterCropFrames', 'RandomCropFrames',
    'ResizeFrames', 'EncodeRadarFrames'
]
