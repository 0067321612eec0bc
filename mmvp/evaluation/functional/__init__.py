# Copyright (c) mmvp contributors. All rights reserved.
from .frame_metrics import (PSNR_CONVENTIONS, ROUNDING_MODES,
                            frame_abs_error_sum, frame_squared_error_sum,
                            psnr_frames, ssim_frames, to_uint8)

__all__ = [
    'to_uint8', 'frame_squared_error_sum', 'frame_abs_error_sum',
    'ssim_frames', 'psnr_frames', 'ROUNDING_MODES', 'PSNR_CONVENTIONS'
]
