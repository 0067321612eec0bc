# Copyright (c) mmvp contributors. All rights reserved.
"""Packing of pipeline results into model inputs (the data contract of
``docs/en/advanced_guides/customize_dataset.md#writing-a-dataset-class``)."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmvp.registry import TRANSFORMS
from mmvp.structures import VideoPredDataSample

__all__ = ['PackVideoPredInputs']


@TRANSFORMS.register_module()
class PackVideoPredInputs(BaseTransform):
    """Pack ``frames`` and meta information for a video-prediction model.

    Required keys: ``frames`` (np.uint8 ``[T, H, W, C]``; ``[T, H, W]`` is
    read as C = 1), ``in_frames``, ``out_frames`` with
    ``T == in_frames + out_frames``.

    Output: ``dict(inputs=torch.uint8 [T, C, H, W] (contiguous),
    data_samples=VideoPredDataSample)`` whose metainfo holds every key of
    ``meta_keys`` present in the results (``in_frames`` and ``out_frames``
    always). The uint8 -> float conversion happens in the model's data
    preprocessor.

    Args:
        meta_keys (Sequence[str]): Keys copied into the metainfo when
            present.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('sample_idx', 'seq_idx',
                                             'in_frames', 'out_frames',
                                             'split', 'protocol', 'source',
                                             'start_frame', 'pixel_to_dbz')):
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> Optional[dict]:
        for key in ('frames', 'in_frames', 'out_frames'):
            if key not in results:
                raise KeyError(f'PackVideoPredInputs: results lack {key!r} '
                               f'(keys: {sorted(results)})')
        frames = results['frames']
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
            raise TypeError(
                "PackVideoPredInputs: 'frames' must be a np.uint8 array "
                f'[T, H, W, C], got {type(frames).__name__} of dtype '
                f"{getattr(frames, 'dtype', None)}")
        if frames.ndim == 3:
            frames = frames[..., None]
        if frames.ndim != 4:
            raise ValueError("PackVideoPredInputs: 'frames' must be "
                             f'[T, H, W, C], got shape {frames.shape}')
        num = int(results['in_frames']) + int(results['out_frames'])
        if frames.shape[0] != num:
            raise ValueError(
                f"PackVideoPredInputs: 'frames' has {frames.shape[0]} "
                f"frames but in_frames + out_frames = {num}")
        inputs = torch.from_numpy(
            np.ascontiguousarray(frames.transpose(0, 3, 1, 2))).contiguous()
        metainfo = {
            key: results[key]
            for key in self.meta_keys if key in results
        }
        metainfo['in_frames'] = int(results['in_frames'])
        metainfo['out_frames'] = int(results['out_frames'])
        data_sample = VideoPredDataSample(metainfo=metainfo)
        return dict(inputs=inputs, data_samples=data_sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
