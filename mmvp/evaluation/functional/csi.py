# Copyright (c) mmvp contributors. All rights reserved.
"""Categorical (contingency-table) scores of radar nowcasts.

metric_conventions.md#csi-pod-far-and-hss-radar. At a reflectivity level ``L``
(dBZ), a pixel is an *event* when its dBZ is ``>= L``. The dBZ of a [0, 1]
value is a property of the dataset's encoding
(:mod:`mmvp.datasets.dbz_encoding`: ``'motionrnn'`` ``dBZ = uint8(x*255)/2
+ 15``, ``'hko'`` ``dBZ = 70x - 10``); predictions are clipped to [0, 1]
first (the official code clips, then truncates to uint8).

Counts per frame: ``a`` hits (pred & obs), ``b`` false alarms (pred & not
obs), ``c`` misses (obs & not pred), ``d`` correct negatives. Scores::

    CSI = a / (a + b + c)        POD = a / (a + c)
    FAR = b / (a + b)
    HSS = 2 (a d - b c) / ((a + c)(c + d) + (a + b)(b + d))

(The paper's prose swaps the names of misses and false alarms; CSI is
symmetric in ``b`` and ``c``, POD and FAR are not. mmvp uses the standard
names above.)
"""
from typing import Dict, Sequence, Union

import numpy as np
import torch

from mmvp.utils.dbz_encoding import check_encoding, pixel_to_dbz

ArrayLike = Union[torch.Tensor, np.ndarray]

CATEGORICAL_SCORES = ('csi', 'pod', 'far', 'hss')


def event_mask(frames: ArrayLike, threshold_dbz: float,
               encoding: str) -> torch.Tensor:
    """Boolean mask of the pixels whose dBZ is ``>= threshold_dbz``.

    Args:
        frames: float values on the [0, 1] scale (any shape), clipped
            before conversion.
        threshold_dbz (float): Level ``L`` in dBZ.
        encoding (str): ``'motionrnn'`` or ``'hko'``.
    """
    check_encoding(encoding)
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if not frames.is_floating_point():
        raise TypeError('`frames` must be float on the [0, 1] scale, got '
                        f'dtype {frames.dtype}')
    return pixel_to_dbz(frames, encoding) >= threshold_dbz


def contingency_counts(pred: ArrayLike, gt: ArrayLike,
                       thresholds: Sequence[float],
                       encoding: str) -> torch.Tensor:
    """Hits, false alarms, misses and correct negatives of every frame.

    Args:
        pred: predictions ``[N, C, H, W]`` on the [0, 1] scale.
        gt: truth, same shape.
        thresholds (Sequence[float]): Levels in dBZ.
        encoding (str): The dataset's dBZ encoding.

    Returns:
        torch.Tensor: int64 ``[N, len(thresholds), 4]`` holding
        ``(a, b, c, d)`` per frame and threshold.
    """
    if isinstance(pred, np.ndarray):
        pred = torch.from_numpy(np.ascontiguousarray(pred))
    if isinstance(gt, np.ndarray):
        gt = torch.from_numpy(np.ascontiguousarray(gt))
    if pred.dim() != 4 or pred.shape != gt.shape:
        raise ValueError('`pred` and `gt` must be float stacks [N, C, H, W] '
                         f'of one shape, got {tuple(pred.shape)} and '
                         f'{tuple(gt.shape)}')
    gt = gt.to(pred.device)
    n = pred.shape[0]
    out = []
    for level in thresholds:
        p = event_mask(pred, float(level), encoding).reshape(n, -1)
        o = event_mask(gt, float(level), encoding).reshape(n, -1)
        a = (p & o).sum(1)
        b = (p & ~o).sum(1)
        c = (~p & o).sum(1)
        d = (~p & ~o).sum(1)
        out.append(torch.stack([a, b, c, d], dim=1))
    return torch.stack(out, dim=1).to(torch.int64)


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, float(empty))
    ok = den != 0
    np.divide(num, den, out=out, where=ok)
    return out


def categorical_scores(counts: ArrayLike,
                       empty: float = float('nan')) -> Dict[str, np.ndarray]:
    """CSI, POD, FAR and HSS from contingency counts.

    Args:
        counts: ``[..., 4]`` counts ``(a, b, c, d)``.
        empty (float): Value where a score is undefined (zero
            denominator): NaN by default; the official MotionRNN / PredRNN
            code returns 0.0 (``cal_csi`` when neither prediction nor truth
            has an event, ``cal_far`` when nothing is predicted).

    Returns:
        dict: ``{'csi', 'pod', 'far', 'hss'}`` float64 arrays of shape
        ``counts.shape[:-1]``.
    """
    if isinstance(counts, torch.Tensor):
        counts = counts.detach().cpu().numpy()
    counts = np.asarray(counts, dtype=np.float64)
    if counts.shape[-1] != 4:
        raise ValueError('`counts` must end with the 4 counts (a, b, c, d), '
                         f'got shape {counts.shape}')
    a, b, c, d = (counts[..., i] for i in range(4))
    return dict(
        csi=_ratio(a, a + b + c, empty),
        pod=_ratio(a, a + c, empty),
        far=_ratio(b, a + b, empty),
        hss=_ratio(2 * (a * d - b * c), (a + c) * (c + d) + (a + b) * (b + d),
                   empty))
