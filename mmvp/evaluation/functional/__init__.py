# Copyright (c) mmvp contributors. All rights reserved.
from .csi import (CATEGORICAL_SCORES, categorical_scores, contingency_counts,
                  event_mask)
from .frame_metrics import (PSNR_CONVENTIONS, ROUNDING_MODES,
                            frame_abs_error_sum, frame_squared_error_sum,
                            psnr_frames, ssim_frames, to_uint8)
from .fvd import (I3D_FILENAME, I3D_SOURCE_URL, feature_statistics,
                  frechet_distance, fvd_clips, fvd_from_features,
                  load_i3d_detector, trace_sqrt_product)
from .gdl import GDL_REDUCTIONS, gdl_frames

__all__ = [
    'to_uint8', 'frame_squared_error_sum', 'frame_abs_error_sum',
    'ssim_frames', 'psnr_frames', 'ROUNDING_MODES', 'PSNR_CONVENTIONS',
    'gdl_frames', 'GDL_REDUCTIONS', 'event_mask', 'contingency_counts',
    'categorical_scores', 'CATEGORICAL_SCORES', 'feature_statistics',
    'trace_sqrt_product', 'frechet_distance', 'fvd_from_features', 'fvd_clips',
    'load_i3d_detector', 'I3D_FILENAME', 'I3D_SOURCE_URL'
]
