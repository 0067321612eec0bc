# Copyright (c) mmvp contributors. All rights reserved.
"""The shared base of the per-frame error-sum metrics (MSE, MAE)."""
from typing import Dict, Optional

import torch

from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin

__all__ = ['FrameErrorSumMetric', 'error_sum_rows']


def error_sum_rows(name: str, err_sum: torch.Tensor, num_values: int,
                   scale: Optional[int]) -> Dict[str, torch.Tensor]:
    """``<name>_frame_sum``, ``<name>_pixel`` (sum / ``num_values``) and,
    when ``scale`` is given, ``<name>_div<scale>`` rows of a per-frame
    error sum."""
    rows = {
        f'{name}_frame_sum': err_sum,
        f'{name}_pixel': err_sum / num_values
    }
    if scale is not None:
        rows[f'{name}_div{scale}'] = err_sum / scale
    return rows


class FrameErrorSumMetric(PerSampleResultsMixin, BaseVideoMetric):
    """A per-frame error summed over all pixels and channels, reported as
    :func:`error_sum_rows` (``<name>_frame_sum``, ``<name>_pixel`` and,
    with ``scaled_keys=True``, ``<name>_div<SCALE>``).

    Subclasses set :attr:`ERROR_NAME` and :attr:`SCALE` and define
    :meth:`frame_error_sum`.

    Args:
        clip_pred (bool): Clip the prediction to [0, 1] first. Defaults to
            False.
        scaled_keys (bool): Add the ``<name>_div<SCALE>`` keys. Defaults to
            False.
        **kwargs: See :class:`BaseVideoMetric`.
    """

    #: Key prefix of the rows, e.g. ``'mse'``.
    ERROR_NAME: str = ''
    #: Divisor of the ``scaled_keys`` rows (a paper's "MSE/10").
    SCALE: int = 1

    def __init__(self,
                 clip_pred: bool = False,
                 scaled_keys: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.clip_pred = clip_pred
        self.scaled_keys = scaled_keys

    def frame_error_sum(self, pred: torch.Tensor,
                        gt: torch.Tensor) -> torch.Tensor:
        """The error of every frame, summed over its values: ``[N]``.

        Each subclass defines it (``MSEMetric``: squared, ``MAEMetric``:
        absolute error)."""
        raise NotImplementedError(
            f'{type(self).__name__} must define frame_error_sum(pred, gt)')

    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, torch.Tensor]]:
        err_sum = self.frame_error_sum(pred, gt)
        return dict(
            frames=error_sum_rows(self.ERROR_NAME, err_sum, pred[0].numel(),
                                  self.SCALE if self.scaled_keys else None))
