# Copyright (c) mmvp contributors. All rights reserved.
"""What a config's test dataset says about its frames: the frame interval
of its protocol, its frame size."""
import copy
import inspect
from typing import Any, Optional, Tuple

import numpy as np
from mmengine.config import Config

from mmvp.registry import DATASETS

__all__ = [
    'config_frame_size', 'metainfo_of_test_dataset', 'frame_interval_of'
]

# keys of a dataset config that give the frame size (int or (h, w))
_SIZE_KEYS = ('frame_size', 'image_size', 'img_size', 'resolution')


def as_hw(value: Any, where: str) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f'{where}: expected a frame size int or (height, '
                     f'width), got {value!r}')


def config_frame_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """Frame size ``(height, width)`` a config trains on, for tools that
    need an input shape (FLOPs, benchmarks), read from
    ``test_dataloader.dataset`` (or ``val``/``train``): an explicit size key,
    ``metainfo.resolution``, a resize step of the pipeline
    (``scale=(w, h)``) or the default ``image_size`` of the dataset class.
    None when nothing says. The inferencer does not use it: it runs the
    test pipeline itself."""
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        for key in _SIZE_KEYS:
            if dataset.get(key) is not None:
                return as_hw(dataset[key], f'{loader}.dataset.{key}')
        meta = dataset.get('metainfo') or {}
        if isinstance(meta, dict) and meta.get('resolution') is not None:
            return as_hw(meta['resolution'],
                         f'{loader}.dataset.metainfo.resolution')
        for step in dataset.get('pipeline') or []:
            if 'Resize' in str(step.get('type', '')) and \
                    step.get('scale') is not None:
                w, h = as_hw(step['scale'], f'{loader} Resize.scale')
                return h, w
        dataset_type = dataset.get('type')
        if isinstance(dataset_type, str):
            cls = DATASETS.get(dataset_type)
            if cls is not None:
                params = inspect.signature(cls.__init__).parameters
                for key in _SIZE_KEYS:
                    if key in params and isinstance(params[key].default,
                                                    (int, tuple, list)):
                        return as_hw(params[key].default,
                                     f'{dataset_type} default {key}')
    return None


def metainfo_of_test_dataset(cfg: Config) -> dict:
    """Metainfo of ``cfg.test_dataloader.dataset``, built with
    ``lazy_init=True`` (no clip index, no pixels).

    Raises:
        ValueError: when the config has no test dataset.
        Exception: whatever the dataset raises when it cannot be built
            (e.g. its data files are missing).
    """
    dataset = (cfg.get('test_dataloader') or {}).get('dataset')
    if not dataset:
        raise ValueError('the config has no test_dataloader.dataset')
    dataset = copy.deepcopy(dataset)
    dataset['lazy_init'] = True
    return dict(DATASETS.build(dataset).metainfo)


def frame_interval_of(metainfo: dict) -> Tuple[int, str]:
    """Frames of a video file between two frames of a clip, from a
    dataset's metainfo, and the key it came from.

    ``frame_interval_raw`` (Human3.6M: the protocol's raw-video frames
    between clip frames, e.g. 10 = every 5th frame stored, every 2nd
    stored frame used) wins over ``frame_interval`` (video folders, radar
    sequences: the step in the file's frames). A dataset that states
    neither draws consecutive frames (V-MNIST): 1.
    """
    for key in ('frame_interval_raw', 'frame_interval'):
        value = metainfo.get(key)
        if value is not None:
            if int(value) != value or value < 1:
                raise ValueError(f'the test dataset gives {key}={value!r}; '
                                 'expected a positive int')
            return int(value), key
    return 1, ''
