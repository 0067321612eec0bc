# Copyright (c) mmvp contributors. All rights reserved.
"""Shared base class of the mmvp video-prediction metrics.

Conventions common to every metric:

- a value is computed per sequence and per output frame (time step);
- the value reported for time step ``t`` is the mean over all evaluated
  sequences (key ``<name>_t<t>``, ``t`` counted from 1);
- the table value (key ``<name>``) is the mean over output time steps of
  those per-step means.

``process()`` reduces each sequence to a few float64 numbers per frame and
appends one entry per sequence to ``self.results``; MMEngine's
``collect_results`` gathers the entries of all ranks (and drops the samples
the distributed sampler padded), so the mean over sequences is exact under
DDP.

Naive baselines (``baselines=('copy_last', 'zeros')``) are scored by the
same per-frame function as the model, so they follow exactly the model's
conventions (clipping, uint8 conversion, sum or mean); see
``docs/en/advanced_guides/metric_conventions.md``.
"""
from collections import OrderedDict
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement


class BaseVideoMetric(BaseMetric):
    """Base class: per-frame values, averaged over sequences.

    Subclasses implement :meth:`compare`, which returns the per-frame rows
    of one predicted sequence against its truth (``{name: float64 tensor
    [T_out]}``) and, optionally, integer counters that are summed over
    sequences. Metrics that need more than ``(pred, gt)`` override
    :meth:`process_sample` instead.

    Naive baselines are scored by the same :meth:`compare` as the model's
    prediction and reported under the model's key names with the
    baseline's suffix (``mse_frame_sum_zeros``, ``ssim_copy_last_t3``,
    ``psnr_num_capped_zeros``, ...):

    - ``'copy_last'``: every output frame is the last observed frame
      (``data_batch['inputs'][i][in_frames - 1]``, uint8 / 255); the error
      of a model that has learnt no motion at all;
    - ``'zeros'``: every output frame is black (all zeros); the error of a
      model that has learnt nothing, not even the background. On mostly
      black data (Moving MNIST) it is a low bar for MSE and a high one for
      SSIM.

    Args:
        baselines (Sequence[str]): Naive predictions to score beside the
            model, from :attr:`BASELINES`. Only metrics that implement
            :meth:`compare` support them. Defaults to ().
        keep_per_sample (bool): Keep one record per sequence in
            ``per_sample_results`` (for ``tools/test.py --out``), for the
            metrics that make them. Defaults to True.
        per_frame_keys (bool): Also output ``<name>_t1 .. <name>_t{T}``.
            Defaults to True.
        collect_device (str): Device used to collect results across ranks,
            ``'cpu'`` or ``'gpu'``. Defaults to ``'cpu'``.
        prefix (str, optional): Prefix of the output keys (``prefix/key``),
            e.g. the protocol name set by the dataset config such as
            ``'vmnist'``. Defaults to :attr:`default_prefix` (``'vp'``).
        collect_dir (str, optional): Shared directory used by
            ``collect_device='cpu'`` in multi-node runs. Defaults to None.
    """

    default_prefix: Optional[str] = 'vp'
    BASELINES: Tuple[str, ...] = ('copy_last', 'zeros')

    def __init__(self,
                 baselines: Sequence[str] = (),
                 keep_per_sample: bool = True,
                 per_frame_keys: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
        cls = self.__class__.__name__
        if isinstance(baselines, str):
            baselines = (baselines, )
        baselines = tuple(dict.fromkeys(baselines))  # unique, in order
        bad = [b for b in baselines if b not in self.BASELINES]
        if bad:
            raise ValueError(f'{cls}: unknown baselines {bad}; expected a '
                             f'subset of {self.BASELINES}')
        if baselines and type(self).compare is BaseVideoMetric.compare:
            raise ValueError(f'{cls} does not score baselines (it needs '
                             'more than a predicted and a true frame stack); '
                             'remove `baselines` from its config')
        self.baselines = baselines
        self.keep_per_sample = keep_per_sample
        self.per_frame_keys = per_frame_keys

    # ------------------------------------------------------------------
    # input handling
    # ------------------------------------------------------------------
    @staticmethod
    def _sample_name(sample: dict, index: int) -> str:
        idx = sample.get('sample_idx', None)
        where = f'data_samples[{index}]'
        return where if idx is None else f'{where} (sample_idx={idx})'

    def get_frames(self, sample: Any, index: int):
        """Return ``(pred_frames, gt_frames)`` of one data sample, checked.

        Args:
            sample (dict | BaseDataElement): one model output.
            index (int): its position in the batch (for error messages).

        Returns:
            tuple[Tensor, Tensor]: float tensors ``[T_out, C, H, W]``.
        """
        if isinstance(sample, BaseDataElement):
            sample = sample.to_dict()
        if not isinstance(sample, dict):
            raise TypeError(f'{self.__class__.__name__}: data_samples[{index}]'
                            ' must be a dict or a data element, got '
                            f'{type(sample).__name__}')
        name = self._sample_name(sample, index)
        frames = []
        for key in ('pred_frames', 'gt_frames'):
            if key not in sample:
                raise KeyError(f'{self.__class__.__name__}: {name} has no '
                               f'key {key!r}; expected a float tensor '
                               '[T_out, C, H, W] on the [0, 1] scale')
            value = sample[key]
            if isinstance(value, np.ndarray):
                value = torch.from_numpy(value)
            if not isinstance(value, torch.Tensor):
                raise TypeError(f'{self.__class__.__name__}: {name} {key!r} '
                                'must be a tensor, got '
                                f'{type(value).__name__}')
            if value.dim() != 4 or not value.is_floating_point():
                raise ValueError(f'{self.__class__.__name__}: {name} {key!r} '
                                 'must be a float tensor [T_out, C, H, W] on '
                                 f'the [0, 1] scale, got shape '
                                 f'{tuple(value.shape)} dtype {value.dtype}')
            frames.append(value.detach())
        pred, gt = frames
        if pred.shape != gt.shape:
            raise ValueError(f'{self.__class__.__name__}: {name} '
                             f"'pred_frames' {tuple(pred.shape)} and "
                             f"'gt_frames' {tuple(gt.shape)} differ in shape")
        out_frames = sample.get('out_frames', None)
        # only the T_out predicted frames are evaluated
        if out_frames is not None and int(out_frames) != pred.shape[0]:
            raise ValueError(f'{self.__class__.__name__}: {name} has '
                             f'{pred.shape[0]} frames in \'pred_frames\' but '
                             f'out_frames={int(out_frames)}; pass only the '
                             'predicted output frames')
        return pred, gt.to(pred.device)

    # ------------------------------------------------------------------
    # MMEngine interface
    # ------------------------------------------------------------------
    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, Any]]:
        """Per-frame statistics of a predicted sequence against its truth.

        Args:
            pred (Tensor): prediction ``[T_out, C, H, W]``, not clipped.
            gt (Tensor): truth ``[T_out, C, H, W]``.

        Returns:
            dict: ``{'frames': {name: tensor [T_out]}, 'counts':
            {name: int}}`` (``'counts'`` optional).
        """
        raise NotImplementedError(
            f'{self.__class__.__name__} must implement compare() or '
            'process_sample()')

    def input_frames(self, data_batch: Any, index: int,
                     needed_by: str) -> torch.Tensor:
        """The packed uint8 frames ``[T, C, H, W]`` of sequence ``index``
        (``data_batch['inputs'][index]``), checked.

        Args:
            data_batch (Any): the raw batch given to :meth:`process`.
            index (int): position of the sample in the batch.
            needed_by (str): what needs them, for the error message.
        """
        cls = self.__class__.__name__
        if not isinstance(data_batch, dict) or 'inputs' not in data_batch:
            raise KeyError(f'{cls}({needed_by}) needs '
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
        return frames

    def last_input_frame(self, sample: dict, data_batch: Any, index: int,
                         num_out: int) -> torch.Tensor:
        """The last context frame of sequence ``index`` as [0, 1] float."""
        cls = self.__class__.__name__
        frames = self.input_frames(data_batch, index,
                                   "baselines=('copy_last', ...)")
        in_frames = sample.get('in_frames', None)
        if in_frames is None:
            in_frames = frames.shape[0] - num_out
        in_frames = int(in_frames)
        if not 1 <= in_frames <= frames.shape[0]:
            raise ValueError(f"{cls}: data_batch['inputs'][{index}] has "
                             f'{frames.shape[0]} frames, cannot take input '
                             f'frame in_frames - 1 = {in_frames - 1}')
        return frames[in_frames - 1].double() / 255.

    def baseline_frames(self, name: str, gt: torch.Tensor, sample: dict,
                        data_batch: Any, index: int) -> torch.Tensor:
        """The naive prediction ``name`` (see :attr:`BASELINES`), shaped
        like ``gt``."""
        if name == 'zeros':
            return torch.zeros_like(gt)
        last = self.last_input_frame(sample, data_batch, index,
                                     gt.shape[0]).to(gt.device, gt.dtype)
        if last.shape != gt.shape[1:]:
            raise ValueError(
                f'{self.__class__.__name__}: last input frame of '
                f'data_samples[{index}] has shape {tuple(last.shape)}, '
                f"'gt_frames' frames have {tuple(gt.shape[1:])}")
        return last.unsqueeze(0).expand_as(gt)

    def process_sample(self, pred: torch.Tensor, gt: torch.Tensor,
                       sample: dict, data_batch: Any,
                       index: int) -> Dict[str, Any]:
        """Per-frame statistics of one sequence and of its baselines.

        Args:
            pred (Tensor): prediction ``[T_out, C, H, W]``, not clipped.
            gt (Tensor): truth ``[T_out, C, H, W]``.
            sample (dict): the data sample (metainfo included).
            data_batch (Any): the raw batch given to :meth:`process`.
            index (int): position of the sample in the batch.

        Returns:
            dict: ``{'frames': {name: tensor [T_out]}, 'counts':
            {name: int}}`` (``'counts'`` optional).
        """
        stats = self.compare(pred, gt)
        frames = OrderedDict(stats['frames'])
        counts = OrderedDict(stats.get('counts', {}))
        for name in self.baselines:
            naive = self.baseline_frames(name, gt, sample, data_batch, index)
            scored = self.compare(naive, gt)
            for key, row in scored['frames'].items():
                frames[f'{key}_{name}'] = row
            for key, value in scored.get('counts', {}).items():
                counts[f'{key}_{name}'] = value
        return dict(frames=frames, counts=counts)

    def sample_stats(self, data_batch: Any,
                     data_samples: Sequence) -> Iterator[Tuple[dict, Any]]:
        """``(sample, process_sample(...))`` of every sample of a batch, the
        sample as a dict, its frames checked by :meth:`get_frames`."""
        for index, sample in enumerate(data_samples):
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred, gt = self.get_frames(sample, index)
            with torch.no_grad():
                yield sample, self.process_sample(pred, gt, sample,
                                                  data_batch, index)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce every sequence to per-frame float64 rows (one result each).

        Args:
            data_batch (Any): the raw packed batch, ``dict(inputs=[uint8
                [T, C, H, W], ...], data_samples=[...])``.
            data_samples (Sequence[dict]): model outputs with
                ``pred_frames`` and ``gt_frames``.
        """
        for _, stats in self.sample_stats(data_batch, data_samples):
            rows = OrderedDict()
            for name, row in stats['frames'].items():
                row = torch.as_tensor(row).detach()
                rows[name] = row.to('cpu', torch.float64).reshape(-1).numpy()
            counts = {
                name: int(value)
                for name, value in stats.get('counts', {}).items()
            }
            self.results.append(dict(frames=rows, counts=counts))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Mean over sequences per time step, then mean over time steps.

        Args:
            results (list): one entry per sequence, as made by
                :meth:`process`.

        Returns:
            dict: ``<name>``, ``<name>_t1 .. <name>_t{T}`` for each per-frame
            quantity and the summed counters.
        """
        if len(results) == 0:
            raise ValueError(
                f'{self.__class__.__name__}: no sequence was processed: the '
                'evaluation dataloader yielded no batch. A dataset with '
                'fewer clips than batch_size yields none with '
                'drop_last=True; set drop_last=False or a smaller batch_size')
        names = list(results[0]['frames'].keys())
        metrics = OrderedDict()
        for name in names:
            rows = [r['frames'][name] for r in results]
            lengths = {len(row) for row in rows}
            if len(lengths) != 1:
                raise ValueError(f'{self.__class__.__name__}: sequences have '
                                 f'different numbers of output frames '
                                 f'{sorted(lengths)} for {name!r}; per-frame '
                                 'values need one T_out')
            per_t = np.stack(rows).mean(0)  # mean over sequences
            metrics[name] = float(per_t.mean())  # mean over time steps
            if self.per_frame_keys:
                for t, value in enumerate(per_t):
                    metrics[f'{name}_t{t + 1}'] = float(value)
        for name in results[0]['counts']:
            metrics[name] = int(sum(r['counts'][name] for r in results))
        return dict(metrics)
