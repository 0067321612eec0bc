# Copyright (c) mmvp contributors. All rights reserved.
"""Standard Moving MNIST (Srivastava et al. 2015), see
``docs/en/advanced_guides/dataset_protocols.md#moving-mnist``.

Two modes:

- generated: the bouncing-digits rules of Srivastava's data handler, per
  index from ``np.random.default_rng([base_seed, split_id, index])``;
- file: the fixed test set ``mnist_test_seq.npy`` (uint8, time-major
  ``(20, 10000, 64, 64)``), read with ``np.load(mmap_mode='r')``.
"""
import math
from typing import Optional

import numpy as np

from mmvp.registry import DATASETS
from .base_digit_video import BaseDigitVideoDataset, open_checked_npy
from .digit_sources import DIGIT_SIZE, SPLIT_IDS

__all__ = [
    'MovingMNISTDataset', 'moving_mnist_trajectory',
    'generate_moving_mnist_sequence'
]

MOVING_MNIST_PROTOCOL = 'moving-mnist'
STEP_LENGTH = 0.1  # unit-box units per frame = 3.6 px on a 64 canvas


def moving_mnist_trajectory(y: float,
                            x: float,
                            theta: float,
                            num_frames: int = 20,
                            image_size: int = 64,
                            step_length: float = STEP_LENGTH) -> np.ndarray:
    """Top-left corners of one digit, Srivastava's rules
    (``dataset_protocols.md#moving-mnist``).

    Position in a unit box standing for ``image_size - 28`` px; velocity
    ``(cos theta, sin theta) * step_length`` (x, y). Each frame: step
    first, then bounce per axis (below 0: set 0 and negate; above 1: set 1
    and negate), then record. Frame 0 is one step after the start.

    Returns:
        np.ndarray: int ``[num_frames, 2]`` rows ``(top, left)`` =
        ``int(range * pos)`` (truncation).
    """
    canvas = image_size - DIGIT_SIZE
    v_y, v_x = math.sin(theta), math.cos(theta)
    out = np.zeros((num_frames, 2), np.int64)
    for t in range(num_frames):
        y += v_y * step_length
        x += v_x * step_length
        if x < 0:
            x, v_x = 0.0, -v_x
        if x > 1.0:
            x, v_x = 1.0, -v_x
        if y < 0:
            y, v_y = 0.0, -v_y
        if y > 1.0:
            y, v_y = 1.0, -v_y
        out[t] = int(canvas * y), int(canvas * x)
    return out


def generate_moving_mnist_sequence(source,
                                   index: int,
                                   split: str = 'train',
                                   base_seed: int = 2021,
                                   num_frames: int = 20,
                                   num_digits: int = 2,
                                   image_size: int = 64,
                                   epoch: Optional[int] = None,
                                   return_info: bool = False):
    """Generate Moving MNIST sequence ``index`` as uint8 ``[T, H, W]``.

    Per-sample RNG ``default_rng([base_seed, split_id, index(, epoch)])``;
    per digit the draws are: digit index, y, x ~ U[0, 1), theta ~
    U[0, 2 pi). Digits are pasted at integer positions and composited with
    element-wise max.

    Returns:
        np.ndarray | tuple: uint8 frames (and ``dict(digit_idx, corners)``
        with corners int ``[num_digits, T, 2]`` as (top, left)).
    """
    seed = [int(base_seed), SPLIT_IDS[split], int(index)]
    if epoch is not None:
        seed.append(int(epoch))
    rng = np.random.default_rng(seed)
    frames = np.zeros((num_frames, image_size, image_size), np.uint8)
    digit_idx, corners = [], []
    for _ in range(num_digits):
        idx = int(rng.integers(len(source)))
        y, x = rng.random(), rng.random()
        theta = rng.random() * 2.0 * math.pi
        traj = moving_mnist_trajectory(y, x, theta, num_frames, image_size)
        digit = source.image(idx)
        for t, (top, left) in enumerate(traj):
            win = frames[t, top:top + DIGIT_SIZE, left:left + DIGIT_SIZE]
            np.maximum(win, digit, out=win)
        digit_idx.append(idx)
        corners.append(traj)
    if return_info:
        return frames, dict(digit_idx=digit_idx, corners=np.stack(corners))
    return frames


@DATASETS.register_module()
class MovingMNISTDataset(BaseDigitVideoDataset):
    """Standard Moving MNIST: generated on the fly or read from
    ``mnist_test_seq.npy``.

    With ``ann_file`` set (joined with ``data_root`` when relative), frames
    are read from that .npy (uint8, ``(T, N, H, W)`` time-major as
    distributed; ``npy_layout='NTHW'`` for sample-major copies) through a
    memory map opened in each worker; frames ``0 .. in+out-1`` are used.
    Otherwise sequences are generated per index (see
    :func:`generate_moving_mnist_sequence`) from the digits of
    ``digit_split`` (defaults to ``split``: train digits for train, t10k
    digits for test).

    A fetched sample has ``frames`` np.uint8 ``[T, 64, 64, 1]``, plus
    ``in_frames``, ``out_frames``, ``sample_idx``, ``seq_idx``, ``split``
    and ``protocol``.

    Args:
        data_root (str): Folder of the MNIST IDX files and/or the .npy.
        ann_file (str): The .npy file; '' (default) generates sequences.
        split (str): ``'train'`` or ``'test'``.
        digit_source (str): ``'mnist'`` or ``'glyphs'`` (generated mode).
        num_samples (int, optional): Generated: defaults to 10,000 per
            split. File: defaults to all N sequences (must be <= N).
        in_frames (int): Defaults to 10.
        out_frames (int): Defaults to 10.
        num_digits (int): Defaults to 2.
        image_size (int): Defaults to 64.
        base_seed (int): Defaults to 2021.
        resample_each_epoch (bool): Generated train only: new sequences
            each epoch (call :meth:`set_epoch`).
        digit_split (str, optional): Digit pool for generation.
        npy_layout (str): ``'TNHW'`` (default, the standard file) or
            ``'NTHW'``.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``,
            ``glyph_cfg``.
    """

    PROTOCOL = MOVING_MNIST_PROTOCOL
    DEFAULT_NUM_SAMPLES = {'train': 10000, 'test': 10000}

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
                 split: str = 'train',
                 digit_source='mnist',
                 num_samples: Optional[int] = None,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 num_digits: int = 2,
                 image_size: int = 64,
                 base_seed: int = 2021,
                 resample_each_epoch: bool = False,
                 digit_split: Optional[str] = None,
                 npy_layout: str = 'TNHW',
                 **kwargs):
        if npy_layout not in ('TNHW', 'NTHW'):
            raise ValueError("npy_layout must be 'TNHW' or 'NTHW', got "
                             f'{npy_layout!r}')
        if not ann_file and image_size < DIGIT_SIZE:
            raise ValueError(f'image_size must be >= {DIGIT_SIZE} to hold a '
                             f'digit, got {image_size}')
        self.npy_layout = npy_layout
        self.npy_file = None
        self._npy = None
        if ann_file:
            if resample_each_epoch:
                raise ValueError('resample_each_epoch=True needs generated '
                                 "sequences (ann_file='')")
            # resolve the path as BaseDataset does, to check it early
            from mmengine.fileio import join_path
            from mmengine.utils import is_abs
            path = ann_file
            if not is_abs(path) and data_root:
                path = join_path(data_root, path)
            self.npy_file = path
            self._npy_len = None
            self._npy = open_checked_npy(
                path, lambda arr: self._check_npy(arr, path, in_frames +
                                                  out_frames, image_size))
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            split=split,
            digit_source=digit_source,
            num_samples=num_samples,
            in_frames=in_frames,
            out_frames=out_frames,
            num_digits=num_digits,
            image_size=image_size,
            base_seed=base_seed,
            resample_each_epoch=resample_each_epoch,
            digit_split=digit_split,
            **kwargs)

    def _check_npy(self, arr: np.ndarray, path: str, num_frames: int,
                   image_size: int) -> None:
        t_ax = 0 if self.npy_layout == 'TNHW' else 1
        want = ('(T >= {t}, N, {s}, {s})'
                if t_ax == 0 else '(N, T >= {t}, {s}, {s})').format(
                    t=num_frames, s=image_size)
        problem = None
        if arr.dtype != np.uint8:
            problem = f'dtype {arr.dtype}'
        elif arr.ndim != 4 or arr.shape[2:] != (image_size, image_size):
            problem = f'shape {arr.shape}'
        elif arr.shape[t_ax] < num_frames:
            problem = (f'shape {arr.shape} ({arr.shape[t_ax]} frames, '
                       f'{num_frames} needed)')
        elif (t_ax == 0 and arr.shape[0] > arr.shape[1]
              and arr.shape[1] == num_frames):
            problem = (f'shape {arr.shape}, which looks sample-major '
                       "(N, T, H, W); pass npy_layout='NTHW' if it is")
        if problem is not None:
            raise ValueError(
                f'{path}: {problem}; expected uint8 {self.npy_layout} '
                f'{want}, e.g. (20, 10000, 64, 64) for the standard '
                'time-major mnist_test_seq.npy')
        self._npy_len = int(arr.shape[1 - t_ax])

    def _resolve_num_samples(self, num_samples):
        if self._npy is None:
            return super()._resolve_num_samples(num_samples)
        if num_samples is None:
            return self._npy_len
        n = super()._resolve_num_samples(num_samples)
        if n > self._npy_len:
            raise ValueError(f'num_samples={n} but {self.npy_file} holds '
                             f'{self._npy_len} sequences')
        return n

    def _build_digit_source(self, digit_source, data_root, glyph_cfg):
        if self._npy is not None:
            return None
        return super()._build_digit_source(digit_source, data_root, glyph_cfg)

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        if self._npy is not None:
            meta['mode'] = 'file'
            meta['digit_source'] = None
            meta['npy_layout'] = self.npy_layout
        else:
            meta['mode'] = 'generated'
            meta['step_length'] = STEP_LENGTH
        return meta

    def render_uint8(self, seq_idx: int) -> np.ndarray:
        """uint8 ``[T, H, W]`` of sequence ``seq_idx``."""
        if self._npy is not None:
            arr = self._npy.array
            if self.npy_layout == 'TNHW':
                return np.ascontiguousarray(arr[:self.num_frames, seq_idx])
            return np.ascontiguousarray(arr[seq_idx, :self.num_frames])
        return generate_moving_mnist_sequence(
            self.digit_source,
            seq_idx,
            split=self.split,
            base_seed=self.base_seed,
            num_frames=self.num_frames,
            num_digits=self.num_digits,
            image_size=self.image_size,
            epoch=self.seed_epoch)
