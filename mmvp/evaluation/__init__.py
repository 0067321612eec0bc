# Copyright (c) mmvp contributors. All rights reserved.
from .functional import (PSNR_CONVENTIONS, ROUNDING_MODES, categorical_scores,
                         contingency_counts, frame_abs_error_sum,
                         frame_squared_error_sum, frechet_distance, fvd_clips,
                         fvd_from_features, gdl_frames, psnr_frames,
                         ssim_frames, to_uint8)
from .metrics import (BaseVideoMetric, CSIMetric, FrameErrorSumMetric,
                      FVDMetric, GDLMetric, LPIPSMetric, MAEMetric, MSEMetric,
                      PSNRMetric, SSIMMetric)

__all__ = [
    'BaseVideoMetric', 'FrameErrorSumMetric', 'MSEMetric', 'MAEMetric',
    'SSIMMetric', 'PSNRMetric', 'to_uint8', 'frame_squared_error_sum',
    'frame_abs_error_sum', 'ssim_frames', 'psnr_frames', 'ROUNDING_MODES',
    'PSNR_CONVENTIONS', 'GDLMetric', 'CSIMetric', 'FVDMetric', 'LPIPSMetric',
    'gdl_frames', 'contingency_counts', 'categorical_scores',
    'frechet_distance', 'fvd_from_features', 'fvd_clips'
]
