# Copyright (c) mmvp contributors. All rights reserved.
from typing import Dict

import torch

from mmvp.registry import METRICS
from ..functional import gdl_frames
from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin


@METRICS.register_module()
class GDLMetric(PerSampleResultsMixin, BaseVideoMetric):
    """Gradient difference per output frame.

    For output frame ``t`` of a sequence::

        gdl_t = sum |(|d_h g| - |d_h x|)|**alpha
              + sum |(|d_w g| - |d_w x|)|**alpha

    with forward differences along rows and columns, ``g`` the prediction
    clipped to [0, 1] and ``x`` the truth, summed over pixels and channels
    (``reduction='sum'``) and averaged over sequences; the table value is
    the mean over output frames.

    Note:
        The MotionRNN paper reports GDL (Tables 4 and 5) without a formula,
        exponent or normalisation, and no official code computes it. The
        table magnitudes rule out a per-pixel mean, but whether they used
        ``alpha=1`` or ``2`` is unknown: **the paper's GDL values are not
        reproducible exactly**; do not compare mmvp's GDL with them as
        equals.

    Output keys (with ``prefix/``): ``gdl``, ``gdl_t1 .. gdl_t{T}``.
    ``per_sample_results`` holds ``{'sample_idx', 'gdl': [per frame]}``
    records for ``tools/test.py --out``.

    Args:
        alpha (float): Exponent. Defaults to 1.
        reduction (str): ``'sum'`` over pixels and channels (default) or
            ``'mean'`` (the sum divided by ``C * H * W``).
        clip_pred (bool): Clip the prediction to [0, 1]. Defaults to True.
        **kwargs: ``baselines``, ``keep_per_sample``, ``per_frame_keys``,
            ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 reduction: str = 'sum',
                 clip_pred: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        # validate now rather than at the first batch
        gdl_frames(
            torch.zeros(1, 1, 2, 2),
            torch.zeros(1, 1, 2, 2),
            alpha=alpha,
            reduction=reduction)
        self.alpha = alpha
        self.reduction = reduction
        self.clip_pred = clip_pred

    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, torch.Tensor]]:
        return dict(
            frames=dict(
                gdl=gdl_frames(
                    pred,
                    gt,
                    alpha=self.alpha,
                    clip_pred=self.clip_pred,
                    reduction=self.reduction)))
