# Copyright (c) mmvp contributors. All rights reserved.
"""Write frame sequences to MP4 / AVI (OpenCV) or animated GIF (Pillow).

Files are written atomically (:func:`mmvp.utils.atomic_io.atomic_write_file`):
to a temporary file in the target folder, then renamed over the target, so
a crash never leaves a truncated video under the final name.
"""
import os.path as osp
from typing import Optional

import cv2
import numpy as np

from mmvp.utils.atomic_io import atomic_write_file

VIDEO_WRITERS = {
    '.mp4': 'mp4v',
    '.avi': 'MJPG',
    '.gif': None,
}


def as_uint8_hwc(frames) -> np.ndarray:
    """Frames -> uint8 ``[T, H, W, C]`` with ``C`` 1 or 3.

    Accepts uint8 ``[T, H, W, C]`` / ``[T, H, W]`` arrays, or float arrays
    and tensors on the [0, 1] scale laid out ``[T, H, W, C]`` or (tensors)
    ``[T, C, H, W]`` (clipped, then rounded).
    """
    try:
        import torch
        if isinstance(frames, torch.Tensor):
            frames = frames.detach().cpu()
            if frames.dim() == 4 and frames.shape[1] in (1, 3) and \
                    frames.shape[-1] not in (1, 3):
                frames = frames.permute(0, 2, 3, 1)
            frames = frames.numpy()
    except ImportError:  # pragma: no cover
        pass
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[..., None]
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError('frames must be [T, H, W, C] with C = 1 or 3, got '
                         f'shape {frames.shape}')
    if frames.dtype != np.uint8:
        if not np.issubdtype(frames.dtype, np.floating):
            raise ValueError('frames must be uint8 or float on [0, 1], got '
                             f'{frames.dtype}')
        frames = np.round(np.clip(frames, 0, 1) * 255).astype(np.uint8)
    if frames.shape[0] == 0:
        raise ValueError('no frame to write')
    return np.ascontiguousarray(frames)


def _write_opencv(frames: np.ndarray, path: str, fps: float,
                  fourcc: str) -> None:
    t, h, w, c = frames.shape
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), float(fps),
                             (w, h), True)
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot open a {fourcc!r} writer for '
                           f'"{path}" ({w}x{h} at {fps} fps)')
    try:
        for frame in frames:
            if c == 1:
                frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
            else:
                frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
            writer.write(frame)
    finally:
        writer.release()


def _write_gif(frames: np.ndarray, path: str, fps: float) -> None:
    from PIL import Image
    images = [
        Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f,
                        'L' if f.shape[-1] == 1 else 'RGB') for f in frames
    ]
    duration = max(int(round(1000 / fps)), 20)
    images[0].save(
        path,
        format='GIF',
        save_all=True,
        append_images=images[1:],
        duration=duration,
        loop=0)


def write_video(frames,
                path: str,
                fps: float = 4.0,
                fourcc: Optional[str] = None) -> str:
    """Write ``frames`` to ``path`` atomically.

    Args:
        frames: uint8 ``[T, H, W, C]`` RGB (or grey) frames; see
            :func:`as_uint8_hwc` for the accepted forms.
        path (str): ``.mp4`` (OpenCV ``mp4v``), ``.avi`` (``MJPG``) or
            ``.gif`` (Pillow, looping).
        fps (float): Frames per second.
        fourcc (str, optional): Override the OpenCV codec.

    Returns:
        str: ``path``.
    """
    ext = osp.splitext(path)[1].lower()
    if ext not in VIDEO_WRITERS:
        raise ValueError(f'cannot write "{path}": the file must end with '
                         f'{", ".join(VIDEO_WRITERS)}')
    if fps <= 0:
        raise ValueError(f'fps must be > 0, got {fps}')
    frames = as_uint8_hwc(frames)

    def write(tmp: str) -> None:
        if ext == '.gif':
            _write_gif(frames, tmp, fps)
        else:
            _write_opencv(frames, tmp, fps, fourcc or VIDEO_WRITERS[ext])

    atomic_write_file(path, write)
    return path
