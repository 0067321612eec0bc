# Copyright (c) mmvp contributors. All rights reserved.
"""Inference inputs: what an input is and how many frames it has.

No pixel is read here. The frames of a window are decoded by the
datasets' decode transforms (:data:`mmvp.datasets.transforms.
DECODE_TRANSFORMS`), so an input is read exactly as a dataset reads the
same storage: frame folders in natural order, RGB with alpha dropped,
videos with decord and the OpenCV fallback.
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Optional, Union

import numpy as np

from mmvp.datasets.video_io import (VideoReadError, array_info,
                                    count_video_frames, list_frame_folder)

__all__ = ['VideoInput', 'open_input', 'ARRAY_EXTENSIONS']

ARRAY_EXTENSIONS = ('.npy', '.npz')
InputType = Union[str, os.PathLike, np.ndarray]


@dataclass
class VideoInput:
    """One input of the inferencer.

    Attributes:
        name (str): The path, or ``'input <i> (array)'``.
        storage (str): ``'video'``, ``'frames'`` (folder of images),
            ``'array'`` (.npy / .npz file) or ``'memory'`` (a numpy array).
        num_frames (int): Frames of the input.
        results (dict): Keys the decode transform reads besides
            ``frame_inds`` (``filename``, ``frame_paths``, ``array_key``,
            ``array``).
    """
    name: str
    storage: str
    num_frames: int
    results: dict = field(default_factory=dict)


def _check_array(frames: np.ndarray, name: str) -> np.ndarray:
    if frames.ndim not in (3, 4) or (frames.ndim == 4
                                     and frames.shape[-1] not in (1, 3, 4)):
        raise ValueError(f'{name}: expected uint8 frames [T, H, W, C] with C '
                         f'in (1, 3, 4) or [T, H, W], got shape '
                         f'{frames.shape}')
    if frames.dtype != np.uint8:
        raise ValueError(f'{name}: expected dtype uint8 (0..255), got '
                         f'{frames.dtype}')
    if frames.shape[0] == 0:
        raise ValueError(f'{name}: has no frame')
    return frames


def _npz_key(path: str) -> str:
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.files)
    if len(keys) != 1:
        raise ValueError(f'{path}: the archive holds {len(keys)} arrays '
                         f'({keys}); save one frame array per .npz file')
    return keys[0]


def open_input(source: InputType,
               index: int = 0,
               video_backend: str = 'decord') -> VideoInput:
    """Describe one input: a video file (anything OpenCV or decord reads,
    GIF included), a folder of frame images, a uint8 ``.npy`` / ``.npz``
    frame array file, or a uint8 numpy array ``[T, H, W(, C)]``.

    Only metadata is read: decord's frame count (OpenCV counts by grabbing
    frames), the folder listing, the array header.
    """
    if isinstance(source, np.ndarray):
        name = f'input {index} (array)'
        frames = _check_array(source, name)
        return VideoInput(name, 'memory', len(frames), dict(array=frames))
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError('an input must be a video path, a frame folder, a '
                        '.npy/.npz frame array or a uint8 array [T, H, W, C], '
                        f'got {type(source).__name__}')
    path = os.fspath(source)
    if osp.isdir(path):
        names = list_frame_folder(path)
        if not names:
            raise FileNotFoundError(
                f'frame folder "{path}" holds no image file')
        return VideoInput(
            path, 'frames', len(names),
            dict(
                filename=path, frame_paths=[osp.join(path, n) for n in names]))
    if not osp.exists(path):
        raise FileNotFoundError(
            f'input "{path}" does not exist (expected a video file, a '
            'folder of frames, a .npy/.npz frame array or a uint8 array '
            '[T, H, W, C])')
    if osp.splitext(path)[1].lower() in ARRAY_EXTENSIONS:
        key: Optional[str] = None
        try:
            if path.lower().endswith('.npz'):
                key = _npz_key(path)
            shape, dtype = array_info(path, key)
        except (VideoReadError, OSError) as err:
            raise RuntimeError(f'cannot read frame array "{path}": '
                               f'{err}') from err
        if len(shape) not in (3, 4) or dtype != np.uint8 or not shape[0]:
            raise ValueError(f'{path}: expected uint8 frames [T, H, W, C] '
                             f'or [T, H, W], got {dtype} {tuple(shape)}')
        return VideoInput(path, 'array', int(shape[0]),
                          dict(filename=path, array_key=key))
    try:
        num = count_video_frames(path, video_backend)
    except (VideoReadError, ValueError) as err:
        raise RuntimeError(f'cannot decode video "{path}": {err}') from err
    return VideoInput(path, 'video', num, dict(filename=path))
