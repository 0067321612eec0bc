# Copyright (c) mmvp contributors. All rights reserved.
from .base_video_metric import BaseVideoMetric
from .csi import CSIMetric
from .frame_error_sum import FrameErrorSumMetric
from .fvd import FVDMetric
from .gdl import GDLMetric
from .lpips import LPIPSMetric
from .mae import MAEMetric
from .mse import MSEMetric
from .per_sample import PerSampleResultsMixin
from .psnr import PSNRMetric
from .ssim import SSIMMetric

__all__ = [
    'BaseVideoMetric', 'MSEMetric', 'MAEMetric', 'SSIMMetric', 'PSNRMetric',
    'GDLMetric', 'CSIMetric', 'FVDMetric', 'LPIPSMetric',
    'PerSampleResultsMixin', 'FrameErrorSumMetric'
]
