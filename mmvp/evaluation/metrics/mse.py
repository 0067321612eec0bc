# Copyright (c) mmvp contributors. All rights reserved.
from typing import Any, Dict, Optional

import torch

from mmvp.registry import METRICS
from ..functional import frame_squared_error_sum
from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin


@METRICS.register_module()
class MSEMetric(PerSampleResultsMixin, BaseVideoMetric):
    """Mean squared error in the field's "per-frame sum" convention.

    Convention (spec 4.1, official MotionRNN / PredRNN ``core/trainer.py``):
    for output frame ``t`` of a sequence,
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
    - ``baseline_copy_last_mse_frame_sum`` / ``baseline_copy_last_mse_pixel``
      (+ ``_t*``, + ``baseline_copy_last_mse_div10`` with ``scaled_keys``):
      with ``copy_last_baseline=True``, the same MSE for the naive
      prediction that repeats the last input frame
      (``data_batch['inputs'][i][in_frames - 1]``, uint8 / 255).

    Args:
        clip_pred (bool): Clip the prediction to [0, 1] first (official).
            False = OpenSTL. Defaults to True.
        scaled_keys (bool): Add ``mse_div10`` keys. Defaults to False.
        copy_last_baseline (bool): Add the copy-last-frame baseline keys.
            Needs ``data_batch['inputs']``. Defaults to False.
        per_frame_keys, collect_device, prefix, collect_dir: see
            :class:`BaseVideoMetric`.
    """

    def __init__(self,
                 clip_pred: bool = True,
                 scaled_keys: bool = False,
                 copy_last_baseline: bool = False,
                 per_frame_keys: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            per_frame_keys=per_frame_keys,
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        self.clip_pred = clip_pred
        self.scaled_keys = scaled_keys
        self.copy_last_baseline = copy_last_baseline

    def _rows(self, err_sum: torch.Tensor, num_values: int,
              name: str) -> Dict[str, torch.Tensor]:
        rows = {
            f'{name}_frame_sum': err_sum,
            f'{name}_pixel': err_sum / num_values,
        }
        if self.scaled_keys:
            rows[f'{name}_div10'] = err_sum / 10  # Human3.6M "MSE/10"
        return rows

    def last_input_frame(self, sample: dict, data_batch: Any, index: int,
                         num_out: int) -> torch.Tensor:
        """The last context frame of sequence ``index`` as [0, 1] float."""
        cls = self.__class__.__name__
        if not isinstance(data_batch, dict) or 'inputs' not in data_batch:
            raise KeyError(f'{cls}(copy_last_baseline=True) needs '
                           "data_batch['inputs'] (uint8 [T, C, H, W] per "
                           'sample)')
        inputs = data_batch['inputs']
        if index >= len(inputs):
            raise ValueError(f"{cls}: data_batch['inputs'] has {len(inputs)}"
                             f' entries, data_samples[{index}] has none')
        frames = torch.as_tensor(inputs[index])
        if frames.dtype != torch.uint8 or frames.dim() != 4:
            raise ValueError(f"{cls}: data_batch['inputs'][{index}] must be "
                             'a uint8 tensor [T, C, H, W], got shape '
                             f'{tuple(frames.shape)} dtype {frames.dtype}')
        in_frames = sample.get('in_frames', None)
        if in_frames is None:
            in_frames = frames.shape[0] - num_out
        in_frames = int(in_frames)
        if not 1 <= in_frames <= frames.shape[0]:
            raise ValueError(f"{cls}: data_batch['inputs'][{index}] has "
                             f'{frames.shape[0]} frames, cannot take input '
                             f'frame in_frames - 1 = {in_frames - 1}')
        return frames[in_frames - 1].double() / 255.

    def process_sample(self, pred: torch.Tensor, gt: torch.Tensor,
                       sample: dict, data_batch: Any,
                       index: int) -> Dict[str, Any]:
        num_values = pred[0].numel()
        rows = self._rows(
            frame_squared_error_sum(pred, gt, clip_pred=self.clip_pred),
            num_values, 'mse')
        if self.copy_last_baseline:
            last = self.last_input_frame(sample, data_batch, index,
                                         pred.shape[0]).to(gt.device)
            if last.shape != gt.shape[1:]:
                raise ValueError(
                    f'{self.__class__.__name__}: last input frame of '
                    f'data_samples[{index}] has shape {tuple(last.shape)}, '
                    f"'gt_frames' frames have {tuple(gt.shape[1:])}")
            baseline = last.unsqueeze(0).expand_as(gt)
            rows.update(
                self._rows(
                    frame_squared_error_sum(baseline, gt, clip_pred=True),
                    num_values, 'baseline_copy_last_mse'))
        return dict(frames=rows)
