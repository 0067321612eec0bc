# Copyright (c) mmvp contributors. All rights reserved.
"""Pixel <-> radar reflectivity (dBZ) encodings.

Frames are stored on the [0, 1] scale; how a value maps to dBZ is a
property of the dataset, never of the metric. The two known encodings are
incompatible: never apply one to data encoded with the other.

* ``'motionrnn'`` (the official PredRNN/MotionRNN radar code): uint8
  ``p = uint8(clip(x, 0, 1) * 255)`` (truncation), ``dBZ = p / 2 + 15``.
* ``'hko'`` (HKO-7): ``x = (dBZ + 10) / 70``, i.e. ``dBZ = 70 x - 10``.

Datasets name their encoding in their metainfo (``dbz_encoding``); CSI-type
metrics turn a dBZ threshold into an event mask through it. The module
lives in :mod:`mmvp.utils` so that both the datasets and the metrics can use
it without importing each other; ``mmvp.datasets.dbz_encoding`` re-exports
it. See ``docs/en/advanced_guides/metric_conventions.md``.
"""
from typing import Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]

__all__ = ['DBZ_ENCODINGS', 'check_encoding', 'pixel_to_dbz', 'dbz_to_pixel']

DBZ_ENCODINGS = ('motionrnn', 'hko')


def check_encoding(encoding: str) -> str:
    """Return ``encoding`` if it is one of :data:`DBZ_ENCODINGS`, else
    raise a ValueError naming the known ones."""
    if encoding not in DBZ_ENCODINGS:
        raise ValueError(f'unknown dBZ encoding {encoding!r}; expected one '
                         f'of {DBZ_ENCODINGS}')
    return encoding


def pixel_to_dbz(values: ArrayLike, encoding: str) -> ArrayLike:
    """dBZ of frames on the [0, 1] scale."""
    check_encoding(encoding)
    if isinstance(values, torch.Tensor):
        x = values.float().clamp(0, 1)
        if encoding == 'motionrnn':
            return torch.floor(x * 255) / 2 + 15
        return 70 * x - 10
    x = np.clip(np.asarray(values, dtype=np.float64), 0, 1)
    if encoding == 'motionrnn':
        return np.floor(x * 255) / 2 + 15
    return 70 * x - 10


def dbz_to_pixel(dbz: ArrayLike, encoding: str) -> ArrayLike:
    """The [0, 1] value that encodes ``dbz`` (clipped to the range)."""
    check_encoding(encoding)
    if encoding == 'motionrnn':
        x = (dbz - 15) * 2 / 255
    else:
        x = (dbz + 10) / 70
    if isinstance(x, torch.Tensor):
        return x.clamp(0, 1)
    return np.clip(x, 0, 1)
