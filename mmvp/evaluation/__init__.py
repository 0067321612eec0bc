# Copyright (c) mmvp contributors. All rights reserved.
from .functional import (PSNR_CONVENTIONS, ROUNDING_MODES, frame_abs_error_sum,
                         frame_squared_error_sum, psnr_frames, ssim_frames,
                         to_uint8)
from .metrics import (BaseVideoMetric, MAEMetric, MSEMetric, PSNRMetric,
                      SSIMMetric)

__all__ = [
    'BaseVideoMetric', 'MSEMetric', 'MAEMetric', 'SSIMMetric', 'PSNRMetric',
    'to_uint8', 'frame_squared_error_sum', 'frame_abs_error_sum',
    'ssim_frames', 'psnr_frames', 'ROUNDING_MODES', 'PSNR_CONVENTIONS'
]
