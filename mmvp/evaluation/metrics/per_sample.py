# Copyright (c) mmvp contributors. All rights reserved.
"""Per-sample records for ``tools/test.py --out``.

``tools/test.py`` dumps, next to the aggregate metrics, the records a
metric exposes as ``per_sample_results``: a list of dicts with a
``sample_idx`` and per-sample values (scalars or per-timestep lists),
filled in ``compute_metrics`` on the main process (after MMEngine gathered
the results of all ranks, so the list covers the whole test set once).
"""
from typing import Any, List, Optional, Sequence

from mmengine.structures import BaseDataElement


def sample_index(sample: Any, fallback: Any = None) -> Any:
    """``sample_idx`` of a data sample (dict or data element)."""
    if isinstance(sample, BaseDataElement):
        return sample.metainfo.get('sample_idx', fallback)
    if isinstance(sample, dict):
        return sample.get('sample_idx', fallback)
    return fallback


class PerSampleResultsMixin:
    """Keeps one record per evaluated sequence in ``per_sample_results``.

    For :class:`BaseVideoMetric` subclasses: :meth:`process` tags each
    result with its ``sample_idx``; :meth:`compute_metrics` turns the
    per-frame rows into records ``{'sample_idx': i, '<name>': [v_t1, ...]}``.
    Set ``keep_per_sample=False`` to skip them.
    """

    keep_per_sample: bool = True
    per_sample_results: Optional[List[dict]] = None

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        start = len(self.results)
        super().process(data_batch, data_samples)
        for k, sample in enumerate(data_samples):
            self.results[start + k]['sample_idx'] = sample_index(sample)

    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics(results)
        if self.keep_per_sample:
            self.per_sample_results = [
                dict(
                    sample_idx=r.get('sample_idx'),
                    **{
                        name: [float(v) for v in row]
                        for name, row in r['frames'].items()
                    }) for r in results
            ]
        return metrics
