# Copyright (c) mmvp contributors. All rights reserved.
"""Shared base class of the mmvp video-prediction metrics (spec 4, 4.10).

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
"""
from abc import abstractmethod
from collections import OrderedDict
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement


class BaseVideoMetric(BaseMetric):
    """Base class: per-frame values, averaged over sequences.

    Subclasses implement :meth:`process_sample`, which returns the per-frame
    rows of one sequence (``{name: float64 tensor [T_out]}``) and,
    optionally, integer counters that are summed over sequences.

    Args:
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

    def __init__(self,
                 per_frame_keys: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(
            collect_device=collect_device,
            prefix=prefix,
            collect_dir=collect_dir)
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
        # trap 26: only the T_out predicted frames are evaluated
        if out_frames is not None and int(out_frames) != pred.shape[0]:
            raise ValueError(f'{self.__class__.__name__}: {name} has '
                             f'{pred.shape[0]} frames in \'pred_frames\' but '
                             f'out_frames={int(out_frames)}; pass only the '
                             'predicted output frames')
        return pred, gt.to(pred.device)

    # ------------------------------------------------------------------
    # MMEngine interface
    # ------------------------------------------------------------------
    @abstractmethod
    def process_sample(self, pred: torch.Tensor, gt: torch.Tensor,
                       sample: dict, data_batch: Any,
                       index: int) -> Dict[str, Any]:
        """Per-frame statistics of one sequence.

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

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        """Reduce every sequence to per-frame float64 rows (one result each).

        Args:
            data_batch (Any): the raw packed batch, ``dict(inputs=[uint8
                [T, C, H, W], ...], data_samples=[...])``.
            data_samples (Sequence[dict]): model outputs with
                ``pred_frames`` and ``gt_frames``.
        """
        for index, sample in enumerate(data_samples):
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred, gt = self.get_frames(sample, index)
            with torch.no_grad():
                stats = self.process_sample(pred, gt, sample, data_batch,
                                            index)
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
            raise ValueError(f'{self.__class__.__name__}: no sequence was '
                             'processed; check the evaluation dataloader')
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
