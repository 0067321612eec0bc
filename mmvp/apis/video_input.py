# Copyright (c) mmvp contributors. All rights reserved.
"""Reading inference inputs: a video file, a folder of frames or an array.

Every reader returns uint8 frames ``[T, H, W, C]`` (``C`` = 3 RGB, or 1
grey for grey image files and arrays). Videos are decoded with decord and,
when decord is missing or fails on the file, with OpenCV (sequential reads,
BGR -> RGB; the frame count in the header is not trusted), through the
dataset readers of :mod:`mmvp.datasets.video_io`. GIF files are read with
Pillow.
"""
import os
import os.path as osp
import re
from typing import List, Union

import cv2
import numpy as np

from mmvp.datasets import video_io

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.gif')


def _natural_key(name: str):
    return [
        int(t) if t.isdigit() else t.lower() for t in re.split(r'(\d+)', name)
    ]


def _read_gif(path: str) -> np.ndarray:
    from PIL import Image, ImageSequence
    with Image.open(path) as img:
        frames = [
            np.asarray(frame.convert('RGB'))
            for frame in ImageSequence.Iterator(img)
        ]
    if not frames:
        raise RuntimeError(f'no frame in GIF "{path}"')
    return np.stack(frames)


def read_video(path: str, backend: str = 'auto') -> np.ndarray:
    """Decode every frame of a video file.

    Args:
        path (str): The video file.
        backend (str): ``'auto'`` or ``'decord'`` (decord, falling back to
            OpenCV on decode errors; ``'decord'`` requires decord to be
            installed) or ``'opencv'``.

    Returns:
        np.ndarray: uint8 ``[T, H, W, 3]`` RGB.
    """
    if backend not in ('auto', 'decord', 'opencv'):
        raise ValueError("backend must be 'auto', 'decord' or 'opencv', got "
                         f'{backend!r}')
    if not osp.isfile(path):
        raise FileNotFoundError(f'video file not found: "{path}"')
    if path.lower().endswith('.gif'):
        return _read_gif(path)
    shared = 'opencv' if backend == 'opencv' else 'decord'
    if backend == 'decord' and not video_io.decord_available():
        raise ImportError("backend='decord' needs the decord package")
    try:
        num = video_io.count_video_frames(path, shared)
        return video_io.read_video_frames(path, range(num), shared)
    except (RuntimeError, ValueError) as err:
        raise RuntimeError(f'cannot decode video "{path}": {err}') from err


def read_image(path: str) -> np.ndarray:
    """One image as uint8 ``[H, W, C]`` (RGB, or ``C = 1`` for grey)."""
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if img is None:
        raise RuntimeError(f'cannot read image "{path}"')
    if img.dtype != np.uint8:
        raise ValueError(f'image "{path}" has dtype {img.dtype}; expected '
                         '8-bit frames')
    if img.ndim == 2:
        return img[..., None]
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def list_frame_files(folder: str) -> List[str]:
    """Image files of ``folder`` in natural order (``2.png`` before
    ``10.png``)."""
    names = [
        n for n in os.listdir(folder)
        if osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS
        and osp.isfile(osp.join(folder, n))
    ]
    if not names:
        raise FileNotFoundError(
            f'frame folder "{folder}" holds no image file (expected '
            f'{", ".join(IMAGE_EXTENSIONS)})')
    return [osp.join(folder, n) for n in sorted(names, key=_natural_key)]


def read_frame_folder(folder: str) -> np.ndarray:
    """All frames of a folder of images, uint8 ``[T, H, W, C]``."""
    files = list_frame_files(folder)
    frames = [read_image(f) for f in files]
    shapes = {f.shape for f in frames}
    if len(shapes) != 1:
        raise ValueError(f'frames in "{folder}" differ in size or channels: '
                         f'{sorted(shapes)}')
    return np.stack(frames)


def check_frame_array(frames: np.ndarray, name: str = 'array') -> np.ndarray:
    """Check an array of frames: uint8 ``[T, H, W, C]`` (or ``[T, H, W]``,
    read as grey)."""
    if not isinstance(frames, np.ndarray):
        raise TypeError(f'{name}: expected a numpy array, got '
                        f'{type(frames).__name__}')
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3, 4):
        raise ValueError(f'{name}: expected uint8 frames [T, H, W, C] with C '
                         f'in (1, 3, 4), got shape {frames.shape}')
    if frames.dtype != np.uint8:
        raise ValueError(f'{name}: expected dtype uint8 (0..255), got '
                         f'{frames.dtype}')
    if frames.shape[0] == 0:
        raise ValueError(f'{name}: has no frame')
    if frames.shape[-1] == 4:
        frames = frames[..., :3]
    return np.ascontiguousarray(frames)


def load_frames(source: Union[str, os.PathLike, np.ndarray],
                backend: str = 'auto') -> np.ndarray:
    """Frames of a video file, a frame folder or an array, uint8
    ``[T, H, W, C]``."""
    if isinstance(source, np.ndarray):
        return check_frame_array(source)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if osp.isdir(path):
            return read_frame_folder(path)
        if not osp.exists(path):
            raise FileNotFoundError(
                f'input "{path}" does not exist (expected a video file, a '
                'folder of frames or a uint8 array [T, H, W, C])')
        frames = read_video(path, backend)
        return check_frame_array(frames, path)
    raise TypeError('an input must be a video path, a frame folder or a '
                    f'uint8 array [T, H, W, C], got {type(source).__name__}')
