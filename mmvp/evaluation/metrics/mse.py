# Copyright (c) mmvp contributors. All rights reserved.
import torch

from mmvp.registry import METRICS
from ..functional import frame_squared_error_sum
from .frame_error_sum import FrameErrorSumMetric


@METRICS.register_module()
class MSEMetric(FrameErrorSumMetric):
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

    ERROR_NAME = 'mse'
    SCALE = 10  # Human3.6M "MSE/10"

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
        super().__init__(
            clip_pred=clip_pred, scaled_keys=scaled_keys, **kwargs)

    def frame_error_sum(self, pred: torch.Tensor,
                        gt: torch.Tensor) -> torch.Tensor:
        return frame_squared_error_sum(pred, gt, clip_pred=self.clip_pred)
