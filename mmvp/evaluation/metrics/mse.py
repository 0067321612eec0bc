# Copyright (c) mmvp contributors. All rights reserved.
from typing import Dict, Optional

import torch

from mmvp.registry import METRICS
from ..functional import frame_squared_error_sum
from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin


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


@METRICS.register_module()
class MSEMetric(PerSampleResultsMixin, BaseVideoMetric):
    """Mean squared error in the field's "per-frame sum" convention.

    Convention (official MotionRNN / PredRNN ``core/trainer.py``): for
    output frame ``t`` of a sequence,
    ``mse_t = sum_{h,w,c} (x - clip(g, 0, 1))**2`` on the [0, 1] scale, a
    **sum** over all pixels and channels, the prediction ``g`` clipped, the
    truth ``x`` not. ``clip_pred=False`` gives the OpenSTL convention (same
    sum, no clipping). Values are per output frame averaged over sequences;
    the table value is the mean over frames. The paper's "MSE" is
    ``mse_frame_sum``; its Human3.6M column "MSE/10" is ``mse_div10``.

    Output keys (with ``prefix/``):

    - ``mse_frame_sum``, ``mse_frame_sum_t1 .. _t{T}``: the per-frame sum;
    - ``mse_pixel``, ``mse_pixel_t*``: the per-value mean (sum divided by
      ``C * H * W``);
    - ``mse_div10``, ``mse_div10_t*``: with ``scaled_keys=True``;
    - for each baseline ``b`` in ``baselines`` (see
      :class:`BaseVideoMetric`): the same keys with the suffix ``_b``, e.g.
      ``mse_frame_sum_copy_last``, ``mse_frame_sum_zeros_t3``.

    Args:
        clip_pred (bool): Clip the prediction to [0, 1] first (official).
            False = OpenSTL. Defaults to True.
        scaled_keys (bool): Add ``mse_div10`` keys. Defaults to False.
        copy_last_baseline (bool): Shorthand that adds ``'copy_last'`` to
            ``baselines``. Defaults to False.
        **kwargs: ``baselines``, ``keep_per_sample``, ``per_frame_keys``,
            ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    def __init__(self,
                 clip_pred: bool = True,
                 scaled_keys: bool = False,
                 copy_last_baseline: bool = False,
                 **kwargs) -> None:
        if copy_last_baseline:
            baselines = kwargs.get('baselines', ())
            if isinstance(baselines, str):
                baselines = (baselines, )
            kwargs['baselines'] = ('copy_last', *baselines)
        super().__init__(**kwargs)
        self.clip_pred = clip_pred
        self.scaled_keys = scaled_keys

    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, torch.Tensor]]:
        err_sum = frame_squared_error_sum(pred, gt, clip_pred=self.clip_pred)
        # Human3.6M "MSE/10"
        return dict(
            frames=error_sum_rows('mse', err_sum, pred[0].numel(),
                                  10 if self.scaled_keys else None))
