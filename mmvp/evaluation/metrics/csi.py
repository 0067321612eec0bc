# Copyright (c) mmvp contributors. All rights reserved.
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from mmvp.registry import METRICS
from mmvp.utils.dbz_encoding import DBZ_ENCODINGS
from ..functional import (CATEGORICAL_SCORES, categorical_scores,
                          contingency_counts)
from .base_video_metric import BaseVideoMetric
from .per_sample import sample_index

CSI_REDUCTIONS = ('global', 'batch_pooled_official')


def _level_name(level: float) -> str:
    return f'{float(level):g}'


@METRICS.register_module()
class CSIMetric(BaseVideoMetric):
    """CSI, POD, FAR and HSS at dBZ thresholds, per lead time
    (metric_conventions.md#csi-pod-far-and-hss-radar).

    A pixel is an event at level ``L`` when its reflectivity is ``>= L``
    dBZ. Reflectivity comes from the dataset's encoding (never from the
    metric): ``'motionrnn'`` (``dBZ = uint8(x * 255) / 2 + 15``, the
    official PredRNN / MotionRNN radar code) or ``'hko'`` (``dBZ = 70 x -
    10``, HKO-7). The encoding is ``dbz_encoding`` here or, when that is
    None, the data samples' metainfo key ``dbz_encoding``; when both are
    given they must agree. Predictions are clipped to [0, 1].

    Reductions:

    - ``'global'`` (default, recommended for new results; HKO-7 style):
      contingency counts are summed over the whole test set for each lead
      time ``t``; the scores of ``t`` are computed once from those totals
      (NaN when a denominator is 0, e.g. no event anywhere at ``t``); the
      table value is the mean over lead times (ignoring NaN).
    - ``'batch_pooled_official'`` (``core/trainer.py`` of MotionRNN /
      PredRNN, for parity): sequences are grouped, in ``sample_idx`` order,
      into consecutive batches of ``batch_size`` (8 officially); a partial
      last batch is dropped (``drop_last``); per batch and lead time, counts
      are pooled over the batch and the score is computed, **0.0 when it is
      undefined** (``cal_csi`` with no event in prediction nor truth,
      ``cal_far`` with nothing predicted; POD and HSS alike); per lead time
      the scores are averaged over batches; the table value is the mean
      over lead times. The grouping uses ``sample_idx``, not the test
      loader's batches, so the value does not depend on the number of
      processes; it matches the official loop when the test set is read in
      order.

    Output keys (with ``prefix/``), for each score in ``scores`` and each
    level ``L`` in ``thresholds``: ``<score><L>`` (e.g. ``csi30``) and
    ``<score><L>_t1 .. _t{T}``; plus ``csi_num_sequences`` and, for the
    official reduction, ``csi_num_batches``. ``per_sample_results`` holds
    per-sequence scores per lead time (NaN when undefined).

    Args:
        thresholds (Sequence[float]): Levels in dBZ. Defaults to
            (30, 40, 50) (paper: CSI30/40/50; the code also has 20).
        dbz_encoding (str, optional): ``'motionrnn'`` or ``'hko'``; None
            reads the samples' metainfo.
        reduction (str): ``'global'`` or ``'batch_pooled_official'``.
        batch_size (int): Batch of the official reduction. Defaults to 8.
        drop_last (bool): Drop a partial last batch in the official
            reduction (the official loop does). Defaults to True.
        scores (Sequence[str]): Subset of ``('csi', 'pod', 'far', 'hss')``.
        **kwargs: ``keep_per_sample`` (fill ``per_sample_results``),
            ``per_frame_keys``, ``collect_device``, ``prefix``,
            ``collect_dir``; see :class:`BaseVideoMetric`.
    """

    def __init__(self,
                 thresholds: Sequence[float] = (30, 40, 50),
                 dbz_encoding: Optional[str] = None,
                 reduction: str = 'global',
                 batch_size: int = 8,
                 drop_last: bool = True,
                 scores: Sequence[str] = CATEGORICAL_SCORES,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        cls = self.__class__.__name__
        if reduction not in CSI_REDUCTIONS:
            raise ValueError(f'{cls}: reduction must be one of '
                             f'{CSI_REDUCTIONS}, got {reduction!r}')
        if dbz_encoding is not None and dbz_encoding not in DBZ_ENCODINGS:
            raise ValueError(f'{cls}: dbz_encoding must be one of '
                             f'{DBZ_ENCODINGS} or None, got '
                             f'{dbz_encoding!r}')
        thresholds = [float(t) for t in thresholds]
        if not thresholds:
            raise ValueError(f'{cls}: thresholds must not be empty')
        bad = [s for s in scores if s not in CATEGORICAL_SCORES]
        if bad or not scores:
            raise ValueError(f'{cls}: scores must be a non-empty subset of '
                             f'{CATEGORICAL_SCORES}, got {list(scores)}')
        if int(batch_size) < 1:
            raise ValueError(f'{cls}: batch_size must be >= 1, got '
                             f'{batch_size}')
        self.thresholds = thresholds
        self.dbz_encoding = dbz_encoding
        self.reduction = reduction
        self.batch_size = int(batch_size)
        self.drop_last = drop_last
        self.scores = tuple(scores)
        self.per_sample_results: Optional[List[dict]] = None

    def _encoding(self, sample: dict, index: int) -> str:
        cls = self.__class__.__name__
        found = sample.get('dbz_encoding', None)
        if found is not None and found not in DBZ_ENCODINGS:
            raise ValueError(f'{cls}: {self._sample_name(sample, index)} has '
                             f'metainfo dbz_encoding={found!r}; expected one '
                             f'of {DBZ_ENCODINGS}')
        if self.dbz_encoding is None:
            if found is None:
                raise KeyError(
                    f'{cls}: no dBZ encoding: set dbz_encoding='
                    f"'motionrnn' or 'hko' in the metric config, or give "
                    "the dataset a metainfo key 'dbz_encoding' (and keep it "
                    "in PackVideoPredInputs' meta_keys); "
                    f'{self._sample_name(sample, index)} has none')
            return found
        if found is not None and found != self.dbz_encoding:
            raise ValueError(
                f'{cls}: the metric is configured with dbz_encoding='
                f'{self.dbz_encoding!r} but '
                f'{self._sample_name(sample, index)} says its data use '
                f'{found!r}; the two encodings are incompatible '
                '(dataset_protocols.md#dbz-encodings)')
        return self.dbz_encoding

    def process_sample(self, pred: torch.Tensor, gt: torch.Tensor,
                       sample: dict, data_batch: Any,
                       index: int) -> Dict[str, Any]:
        encoding = self._encoding(sample, index)
        counts = contingency_counts(pred, gt, self.thresholds, encoding)
        return dict(counts=counts)

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Store the per-frame contingency counts of every sequence."""
        for sample, stats in self.sample_stats(data_batch, data_samples):
            self.results.append(
                dict(
                    sample_idx=sample_index(sample),
                    counts=stats['counts'].cpu().numpy().astype(np.int64)))

    # ------------------------------------------------------------------
    def _official_batches(self, results: list) -> List[np.ndarray]:
        cls = self.__class__.__name__
        if all(r['sample_idx'] is not None for r in results):
            results = sorted(results, key=lambda r: r['sample_idx'])
        counts = [r['counts'] for r in results]
        size = self.batch_size
        groups = [
            np.stack(counts[i:i + size]).sum(0)
            for i in range(0, len(counts), size)
            if not (self.drop_last and i + size > len(counts))
        ]
        if not groups:
            raise ValueError(
                f'{cls}(reduction=\'batch_pooled_official\'): '
                f'{len(counts)} sequences make no full batch of '
                f'{size}; lower batch_size or set drop_last=False')
        return groups

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """Scores per lead time and their mean over lead times."""
        cls = self.__class__.__name__
        if len(results) == 0:
            raise ValueError(f'{cls}: no sequence was processed; check the '
                             'evaluation dataloader')
        shapes = {r['counts'].shape for r in results}
        if len(shapes) != 1:
            raise ValueError(f'{cls}: sequences have different numbers of '
                             f'output frames {sorted(s[0] for s in shapes)};'
                             ' per-lead-time scores need one T_out')
        extra = OrderedDict()
        if self.reduction == 'global':
            total = np.stack([r['counts'] for r in results]).sum(0)
            per_t = categorical_scores(total)  # [T, K], NaN when undefined
        else:
            groups = self._official_batches(results)
            scored = [categorical_scores(g, empty=0.0) for g in groups]
            per_t = {
                name: np.stack([s[name] for s in scored]).mean(0)
                for name in CATEGORICAL_SCORES
            }
            extra['csi_num_batches'] = len(groups)
        metrics = OrderedDict()
        for name in self.scores:
            for k, level in enumerate(self.thresholds):
                key = f'{name}{_level_name(level)}'
                row = per_t[name][:, k]
                finite = row[~np.isnan(row)]
                metrics[key] = float(finite.mean()) if len(finite) else \
                    float('nan')
                if self.per_frame_keys:
                    for t, value in enumerate(row):
                        metrics[f'{key}_t{t + 1}'] = float(value)
        metrics['csi_num_sequences'] = len(results)
        metrics.update(extra)
        if self.keep_per_sample:
            self.per_sample_results = []
            for r in results:
                scored = categorical_scores(r['counts'])
                rec = dict(sample_idx=r['sample_idx'])
                for name in self.scores:
                    for k, level in enumerate(self.thresholds):
                        rec[f'{name}{_level_name(level)}'] = [
                            float(v) for v in scored[name][:, k]
                        ]
                self.per_sample_results.append(rec)
        return dict(metrics)
