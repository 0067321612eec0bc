# Copyright (c) mmvp contributors. All rights reserved.
from .base_video_metric import BaseVideoMetric
from .mae import MAEMetric
from .mse import MSEMetric
from .psnr import PSNRMetric
from .ssim import SSIMMetric

__all__ = [
    'BaseVideoMetric', 'MSEMetric', 'MAEMetric', 'SSIMMetric', 'PSNRMetric'
]
