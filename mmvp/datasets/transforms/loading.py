# Copyright (c) mmvp contributors. All rights reserved.
"""Loading the frames of one clip (STYLE.md 5: init, sample, decode)."""
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmvp.registry import TRANSFORMS
from ..video_io import (VideoReadError, check_backend, read_array_frames,
                        read_images, read_video_frames)

__all__ = ['LoadVideoFrames', 'read_frame_cache']

COLOR_TYPES = ('color', 'grayscale', 'unchanged')


def read_frame_cache(path: str, indices) -> np.ndarray:
    """Rows ``indices`` of a uint8 frame cache ``[N, H, W, C]`` (.npy,
    memory-mapped; see ``tools/dataset_converters/h36m_frame_cache.py``)."""
    try:
        arr = np.load(path, mmap_mode='r', allow_pickle=False)
    except FileNotFoundError:
        raise VideoReadError(f'{path}: frame cache file not found') from None
    except ValueError as e:
        raise VideoReadError(f'{path}: not a readable .npy cache ({e})')
    if arr.dtype != np.uint8 or arr.ndim != 4:
        raise VideoReadError(f'{path}: cache of dtype {arr.dtype} and shape '
                             f'{arr.shape}; uint8 [N, H, W, C] expected')
    indices = [int(i) for i in indices]
    if min(indices) < 0 or max(indices) >= arr.shape[0]:
        raise VideoReadError(f'{path}: cached frame {max(indices)} '
                             f'requested, the cache holds {arr.shape[0]}')
    return np.array(arr[indices])


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Read the frames of one clip.

    The source is named by ``results['source_type']``:

    - ``'video'``: ``filename`` and ``frame_inds`` (0-based decode order),
      read with decord, falling back to OpenCV on decord's errors;
    - ``'frames'``: ``frame_paths``, one image file per frame;
    - ``'cache'``: ``cache_file`` (uint8 .npy ``[N, H, W, C]``,
      memory-mapped) and ``cache_inds``. The cache's already applied
      geometric steps (``cache_ops``) are handed to the pipeline as
      ``cached_ops``; the matching crop / resize steps then skip
      themselves (and fail loudly on a mismatch);
    - ``'array'``: ``array_file`` (.npy, or .npz with ``array_key``) and
      ``frame_inds``.

    Added keys: ``out_key`` (default ``frames``: np.uint8
    ``[T, H, W, C]``, RGB for colour), ``ori_shape``, ``img_shape``.

    Args:
        backend (str): ``'decord'`` (default; OpenCV fallback) or
            ``'opencv'``.
        color_type (str): ``'color'`` (3 channels, RGB), ``'grayscale'``
            (1 channel) or ``'unchanged'``.
        out_key (str): Key to store the frames under. Use another key for
            raw values that a later step encodes (radar arrays); uint8 is
            only required for ``'frames'``.
    """

    def __init__(self,
                 backend: str = 'decord',
                 color_type: str = 'color',
                 out_key: str = 'frames'):
        self.backend = check_backend(backend)
        if color_type not in COLOR_TYPES:
            raise ValueError(f'color_type must be one of {COLOR_TYPES}, got '
                             f'{color_type!r}')
        self.color_type = color_type
        self.out_key = out_key

    def _convert(self, frames: np.ndarray, where: str) -> np.ndarray:
        if frames.ndim == 3:
            frames = frames[..., None]
        if self.color_type == 'unchanged':
            return frames
        c = frames.shape[-1]
        if self.color_type == 'grayscale':
            if c == 1:
                return frames
            if c in (3, 4) and frames.dtype == np.uint8:
                code = (cv2.COLOR_RGB2GRAY if c == 3 else cv2.COLOR_RGBA2GRAY)
                return np.stack([cv2.cvtColor(f, code) for f in frames])[...,
                                                                         None]
        else:
            if c == 3:
                return frames
            if c == 1 and frames.dtype == np.uint8:
                return np.repeat(frames, 3, axis=-1)
            if c == 4:
                return np.ascontiguousarray(frames[..., :3])
        raise VideoReadError(f'{where}: cannot convert {c}-channel '
                             f'{frames.dtype} frames to {self.color_type!r}')

    def transform(self, results: dict) -> Optional[dict]:
        kind = results.get('source_type')
        if kind == 'video':
            where = results['filename']
            frames = read_video_frames(where, results['frame_inds'],
                                       self.backend)
        elif kind == 'frames':
            paths = results['frame_paths']
            where = paths[0] if paths else '<no frames>'
            flag = 'grayscale' if self.color_type == 'grayscale' else 'color'
            if self.color_type == 'unchanged':
                flag = 'unchanged'
            frames = read_images(paths, flag)
        elif kind == 'cache':
            where = results['cache_file']
            frames = read_frame_cache(where, results['cache_inds'])
            results['cached_ops'] = list(results.get('cache_ops', ()))
        elif kind == 'array':
            where = results['array_file']
            frames = read_array_frames(where, results['frame_inds'],
                                       results.get('array_key'))
        else:
            raise KeyError(
                "LoadVideoFrames: results['source_type'] must be 'video', "
                f"'frames', 'cache' or 'array', got {kind!r}")
        if self.out_key == 'frames':
            if frames.dtype != np.uint8:
                raise VideoReadError(
                    f'{where}: {frames.dtype} frames; uint8 expected (load '
                    'raw values under another out_key and encode them)')
            frames = self._convert(frames, where)
        elif frames.ndim == 3:
            frames = frames[..., None]
        results[self.out_key] = frames
        results['ori_shape'] = tuple(frames.shape[1:3])
        results['img_shape'] = tuple(frames.shape[1:3])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backend={self.backend!r}, '
                f'color_type={self.color_type!r}, '
                f'out_key={self.out_key!r})')
