# Copyright (c) mmvp contributors. All rights reserved.
import torch

from mmvp.registry import METRICS
from ..functional import frame_abs_error_sum
from .frame_error_sum import FrameErrorSumMetric


@METRICS.register_module()
class MAEMetric(FrameErrorSumMetric):
    """Mean absolute error in the field's "per-frame sum" convention.

    Convention (MIM ``pred_learn`` and OpenSTL ``MAE``): for output frame
    ``t`` of a sequence, ``mae_t = sum_{h,w,c} |g - x|`` on the [0, 1]
    scale, a **sum** over all pixels and channels of the **unclipped**
    prediction ``g`` (``clip_pred=True`` clips it to [0, 1] first). Values
    are per output frame averaged over sequences; the table value is the mean
    over frames. The Human3.6M column "MAE/100" is ``mae_div100``.

    Output keys (with ``prefix/``): ``mae_frame_sum``, ``mae_pixel`` (sum
    divided by ``C * H * W``), ``mae_div100`` with ``scaled_keys=True``; each
    with ``_t1 .. _t{T}`` per-frame keys; with ``baselines``, the same keys
    with the baseline's suffix (``mae_frame_sum_zeros``, ...).

    Args:
        clip_pred (bool): Clip the prediction first. Defaults to False (MIM
            and OpenSTL parity).
        scaled_keys (bool): Add ``mae_div100`` keys. Defaults to False.
        **kwargs: ``baselines``, ``keep_per_sample``, ``per_frame_keys``,
            ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    ERROR_NAME = 'mae'
    SCALE = 100  # Human3.6M "MAE/100"

    def frame_error_sum(self, pred: torch.Tensor,
                        gt: torch.Tensor) -> torch.Tensor:
        return frame_abs_error_sum(pred, gt, clip_pred=self.clip_pred)
