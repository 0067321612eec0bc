# Copyright (c) mmvp contributors. All rights reserved.
"""V-MNIST dataset, generation protocol ``vmnist-v1`` (see
``docs/en/advanced_guides/dataset_protocols.md#protocol-vmnist-v1``).

V-MNIST of the MotionRNN paper was never released; this is mmvp's
re-creation (never claim Table 5 parity). Train sequences use MNIST train
digits (60k), test sequences the t10k digits (10k).
"""
import os
from typing import Optional, Sequence

import numpy as np

from mmvp.registry import DATASETS
from .base_digit_video import BaseDigitVideoDataset, open_checked_npy
from .vmnist_protocol import (HALF, OMEGA_RANGE, SCALE_BOUNDS,
                              SCALE_RATE_RANGE, SPEED_RANGE, VMNIST_PROTOCOL,
                              generate_vmnist_sequence, to_uint8)

__all__ = ['VMNISTDataset']


@DATASETS.register_module()
class VMNISTDataset(BaseDigitVideoDataset):
    """V-MNIST (``vmnist-v1``): two distinct digits that move, rotate and
    scale at once, generated per index on demand.

    The data list holds ``dict(seq_idx=i)`` only. A fetched sample has
    ``frames`` = np.uint8 ``[T, 64, 64, 1]`` = ``round(255 * x)`` of the
    float rendering (see :meth:`render_float`), plus ``in_frames``,
    ``out_frames``, ``sample_idx``, ``seq_idx``, ``split`` and ``protocol``.

    Args:
        data_root (str): Folder of the MNIST IDX files (``digit_source=
            'mnist'``; see ``tools/dataset_converters/download_mnist.py``).
        split (str): ``'train'`` (MNIST train digits) or ``'test'`` (t10k).
        digit_source (str): ``'mnist'``, ``'glyphs'`` or ``'segments'``
            (seven-segment digits); the last two need no download.
        num_samples (int, optional): Defaults to 100,000 (train) and
            10,000 (test).
        in_frames (int): Defaults to 10.
        out_frames (int): Defaults to 10.
        num_digits (int): Defaults to 2.
        image_size (int): Defaults to 64.
        base_seed (int): Defaults to 2021.
        distinct_labels (bool): Also require different digit classes.
            Defaults to False (the two digit indices always differ).
        resample_each_epoch (bool): Train only; append the epoch to the
            seed (call :meth:`set_epoch`). Defaults to False.
        cache_file (str, optional): A uint8 ``(N, T, H, W)`` .npy written
            by :meth:`write_cache`, read with ``mmap_mode='r'``.
        glyph_cfg (dict, optional): Extra ``GlyphDigitSource`` (or
            ``SegmentDigitSource``) arguments.
        speed_range (tuple[float, float], optional): Speed range in pixels
            per frame. Defaults to (3, 6), that of ``vmnist-v1``; set
            another to test a model on speeds it was not trained on.
        omega_range (tuple[float, float], optional): Rotation speed range
            in degrees per frame. Defaults to (10, 30) (``vmnist-v1``);
            ``(0, 0)`` turns rotation off.
        scale_rate_range (tuple[float, float], optional): Scaling rate
            range (log space, per frame). Defaults to ``vmnist-v1``'s;
            ``(0, 0)`` turns scaling off.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``.
    """

    PROTOCOL = VMNIST_PROTOCOL
    DEFAULT_NUM_SAMPLES = {'train': 100000, 'test': 10000}

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 digit_source='mnist',
                 num_samples: Optional[int] = None,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 num_digits: int = 2,
                 image_size: int = 64,
                 base_seed: int = 2021,
                 distinct_labels: bool = False,
                 resample_each_epoch: bool = False,
                 cache_file: Optional[str] = None,
                 glyph_cfg: Optional[dict] = None,
                 speed_range: Optional[Sequence[float]] = None,
                 omega_range: Optional[Sequence[float]] = None,
                 scale_rate_range: Optional[Sequence[float]] = None,
                 **kwargs):
        # a digit at the largest scale (1.4) needs a margin of 14 * 1.4 px
        # on each side of its centre (dataset_protocols.md#protocol-vmnist-v1)
        min_size = int(2 * HALF * SCALE_BOUNDS[1]) + 1
        if image_size < min_size:
            raise ValueError(
                f'VMNISTDataset: image_size={image_size} is too small for '
                f'vmnist-v1 (28 px digits scaled up to 1.4x need at least '
                f'{min_size}); render at 64 and add a ResizeFrames step to '
                'the pipeline for smaller frames')
        self.distinct_labels = bool(distinct_labels)
        ranges = dict(
            speed_range=(speed_range, SPEED_RANGE),
            omega_range=(omega_range, OMEGA_RANGE),
            scale_rate_range=(scale_rate_range, SCALE_RATE_RANGE))
        for name, (value, default) in ranges.items():
            value = default if value is None else value
            if len(value) != 2 or not 0 <= float(value[0]) <= float(value[1]):
                raise ValueError(
                    f'VMNISTDataset: {name} must be (low, high) with 0 <= '
                    f'low <= high, got {value!r}')
            setattr(self, name, (float(value[0]), float(value[1])))
        self._cache = None
        if cache_file is not None and resample_each_epoch:
            raise ValueError('cache_file and resample_each_epoch=True '
                             'cannot be used together')
        super().__init__(
            data_root=data_root,
            split=split,
            digit_source=digit_source,
            num_samples=num_samples,
            in_frames=in_frames,
            out_frames=out_frames,
            num_digits=num_digits,
            image_size=image_size,
            base_seed=base_seed,
            resample_each_epoch=resample_each_epoch,
            glyph_cfg=glyph_cfg,
            **kwargs)
        if cache_file is not None:
            self._cache = open_checked_npy(cache_file, self._check_cache)

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        meta['distinct_labels'] = self.distinct_labels
        meta['speed_range'] = self.speed_range
        meta['omega_range'] = self.omega_range
        meta['scale_rate_range'] = self.scale_rate_range
        return meta

    def _check_cache(self, arr: np.ndarray) -> None:
        want = (self.num_samples, self.num_frames, self.image_size,
                self.image_size)
        if (arr.dtype != np.uint8 or arr.ndim != 4 or arr.shape[0] < want[0]
                or arr.shape[1:] != want[1:]):
            raise ValueError(
                f'V-MNIST cache file has shape {arr.shape} and dtype '
                f'{arr.dtype}; expected uint8 with shape (N >= {want[0]}, '
                f'{want[1]}, {want[2]}, {want[3]})')

    def render_float(self, seq_idx: int, return_info: bool = False):
        """Float rendering of sequence ``seq_idx``: float32 [T, H, W] in
        [0, 1] (and ``dict(params, traj)`` if ``return_info``)."""
        if not 0 <= seq_idx < self.num_samples:
            raise IndexError(f'seq_idx {seq_idx} out of range '
                             f'[0, {self.num_samples})')
        return generate_vmnist_sequence(
            self.digit_source,
            seq_idx,
            split=self.split,
            base_seed=self.base_seed,
            num_frames=self.num_frames,
            num_digits=self.num_digits,
            image_size=self.image_size,
            distinct_labels=self.distinct_labels,
            epoch=self.seed_epoch,
            return_info=return_info,
            speed_range=self.speed_range,
            omega_range=self.omega_range,
            scale_rate_range=self.scale_rate_range)

    def render_uint8(self, seq_idx: int) -> np.ndarray:
        """uint8 ``[T, H, W]`` = ``round(255 * render_float(seq_idx))``."""
        if self._cache is not None:
            return np.array(self._cache.array[seq_idx])
        return to_uint8(self.render_float(seq_idx))

    def write_cache(self, out_file: str) -> str:
        """Render all ``num_samples`` sequences into a uint8 ``(N, T, H, W)``
        .npy (the optional cache of
        ``dataset_protocols.md#protocol-vmnist-v1``), written atomically."""
        tmp = out_file + '.tmp.npy'
        arr = np.lib.format.open_memmap(
            tmp,
            mode='w+',
            dtype=np.uint8,
            shape=(self.num_samples, self.num_frames, self.image_size,
                   self.image_size))
        for i in range(self.num_samples):
            arr[i] = to_uint8(self.render_float(i))
        arr.flush()
        del arr
        os.replace(tmp, out_file)
        return out_file
