# Copyright (c) mmvp contributors. All rights reserved.
from typing import Dict

import torch

from mmvp.registry import METRICS
from ..functional import ROUNDING_MODES, ssim_frames, to_uint8
from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin


@METRICS.register_module()
class SSIMMetric(PerSampleResultsMixin, BaseVideoMetric):
    """Structural similarity, official MotionRNN / PredRNN uint8 recipe.

    Convention (``skimage.measure.compare_ssim(u8(clip(g)),
    u8(x), multichannel=True)`` in the official ``core/trainer.py``): both
    frames are converted to uint8 as ``np.uint8(clip(v, 0, 1) * 255)``
    (truncation; ``rounding='round'`` rounds instead), then per channel in
    float64: 7x7 uniform window, K1 = 0.01, K2 = 0.03, data range 255,
    sample covariance (x 49/48), 3-pixel border crop, mean; average over
    channels. Equal to ``skimage.metrics.structural_similarity(a, b,
    channel_axis=-1, data_range=255)`` on the uint8 frames. Computed per
    sequence and per output frame; values are per output frame averaged over
    sequences; the table value is the mean over frames.

    Output keys (with ``prefix/``): ``ssim``, ``ssim_t1 .. ssim_t{T}``;
    with ``baselines``, ``ssim_<baseline>`` (+ ``_t*``), e.g.
    ``ssim_zeros``.

    Args:
        rounding (str): uint8 conversion, ``'trunc'`` (official, default) or
            ``'round'``.
        **kwargs: ``baselines``, ``keep_per_sample``, ``per_frame_keys``,
            ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    def __init__(self, rounding: str = 'trunc', **kwargs) -> None:
        super().__init__(**kwargs)
        if rounding not in ROUNDING_MODES:
            raise ValueError(f'SSIMMetric: `rounding` must be one of '
                             f'{ROUNDING_MODES}, got {rounding!r}')
        self.rounding = rounding

    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, torch.Tensor]]:
        ssim = ssim_frames(
            to_uint8(pred, self.rounding),
            to_uint8(gt, self.rounding),
            win_size=7,
            k1=0.01,
            k2=0.03,
            data_range=255.)
        return dict(frames=dict(ssim=ssim))
