# Copyright (c) mmvp contributors. All rights reserved.
import math
from typing import Dict

import torch

from mmvp.registry import METRICS
from ..functional import PSNR_CONVENTIONS, ROUNDING_MODES, psnr_frames
from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin


@METRICS.register_module()
class PSNRMetric(PerSampleResultsMixin, BaseVideoMetric):
    """Peak signal-to-noise ratio in dB, computed per frame then averaged.

    Conventions:

    - ``convention='predrnn'`` (default, PredRNN / MIM ``batch_psnr``): on
      ``u8(clip(g))`` and ``u8(x)`` (``np.uint8(v * 255)``, truncation;
      ``rounding='round'`` rounds) as integers,
      ``mse = sum(diff**2) / (H * W * C)``,
      ``psnr = 20 log10(255) - 10 log10(mse)`` (data range 255).
    - ``convention='openstl'``: on float [0, 1] frames, prediction clipped,
      ``psnr = -10 log10(mean((g - x)**2))`` (data range 1).

    PSNR is computed per sequence and per output frame (never from an
    averaged MSE); values are per output frame averaged over sequences; the
    table value is the mean over frames.

    Exact matches: ``mse == 0`` gives an infinite PSNR. Such a frame is
    reported as ``exact_match_psnr`` dB (default 100; finite values are never
    changed, and with the uint8 recipe the largest finite value is
    ``48.13 + 10 log10(H * W * C)`` dB, e.g. 84.3 dB at 64x64x1 and 95.0 dB at
    128x128x3). Pass ``float('inf')`` to keep ``inf``. The number of frames
    so replaced is output as ``psnr_num_capped``.

    Output keys (with ``prefix/``): ``psnr``, ``psnr_t1 .. psnr_t{T}``,
    ``psnr_num_capped``; with ``baselines``, the same keys with the
    baseline's suffix (``psnr_zeros``, ``psnr_num_capped_zeros``, ...).

    Args:
        convention (str): ``'predrnn'`` (default) or ``'openstl'``.
        rounding (str): uint8 conversion of the ``'predrnn'`` convention,
            ``'trunc'`` (default) or ``'round'``.
        exact_match_psnr (float): value reported when ``mse == 0``.
            Defaults to 100.0.
        **kwargs: ``baselines``, ``keep_per_sample``, ``per_frame_keys``,
            ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    def __init__(self,
                 convention: str = 'predrnn',
                 rounding: str = 'trunc',
                 exact_match_psnr: float = 100.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if convention not in PSNR_CONVENTIONS:
            raise ValueError(f'PSNRMetric: `convention` must be one of '
                             f'{PSNR_CONVENTIONS}, got {convention!r}')
        if rounding not in ROUNDING_MODES:
            raise ValueError(f'PSNRMetric: `rounding` must be one of '
                             f'{ROUNDING_MODES}, got {rounding!r}')
        exact_match_psnr = float(exact_match_psnr)
        if math.isnan(exact_match_psnr):
            raise ValueError('PSNRMetric: `exact_match_psnr` must be a '
                             'number, got nan')
        self.convention = convention
        self.rounding = rounding
        self.exact_match_psnr = exact_match_psnr

    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, torch.Tensor]]:
        psnr = psnr_frames(
            pred, gt, convention=self.convention, rounding=self.rounding)
        exact = torch.isinf(psnr)
        psnr = torch.where(exact, torch.full_like(psnr, self.exact_match_psnr),
                           psnr)
        return dict(
            frames=dict(psnr=psnr),
            counts=dict(psnr_num_capped=int(exact.sum())))
