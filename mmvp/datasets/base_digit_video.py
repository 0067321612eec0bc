# Copyright (c) mmvp contributors. All rights reserved.
"""Shared base of the generated digit-video datasets (Moving MNIST, V-MNIST).

The data list holds only ``dict(seq_idx=i)``; frames are produced when a
sample is fetched (:meth:`BaseDigitVideoDataset.prepare_data`), so the
dataset object stays small and is cheap to send to dataloader workers.
"""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from mmvp.registry import TRANSFORMS
from .digit_sources import build_digit_source, check_split
from .video_io import ARRAY_READ_ERRORS

__all__ = ['BaseDigitVideoDataset', 'open_checked_npy']


class BaseDigitVideoDataset(BaseDataset):
    """Base class: split handling, digit source, seeds and the data list.

    Subclasses implement :meth:`render_uint8` (``seq_idx -> uint8
    [T, H, W]``) and set ``PROTOCOL`` / ``DEFAULT_NUM_SAMPLES``.

    Results passed to the pipeline: ``frames`` (np.uint8 ``[T, H, W, 1]``,
    T = in_frames + out_frames), ``in_frames``, ``out_frames``,
    ``sample_idx`` (position in this dataset), ``seq_idx`` (generation
    index), ``split`` and ``protocol``.

    Args:
        data_root (str): Folder of the MNIST IDX files (``digit_source=
            'mnist'``). Defaults to ''.
        split (str): ``'train'`` or ``'test'``.
        digit_source (str | object): ``'mnist'`` or ``'glyphs'`` (or a
            source object).
        num_samples (int, optional): Number of sequences; defaults to
            ``DEFAULT_NUM_SAMPLES[split]``.
        in_frames (int): Input length. Defaults to 10.
        out_frames (int): Target length. Defaults to 10.
        num_digits (int): Digits per sequence. Defaults to 2.
        image_size (int): Canvas side. Defaults to 64.
        base_seed (int): First element of every per-sample seed.
        resample_each_epoch (bool): Append the epoch (see
            :meth:`set_epoch`) to the seeds, so a training epoch sees new
            sequences. Only for ``split='train'``.
        glyph_cfg (dict, optional): Extra arguments of the glyph source.
        digit_split (str, optional): Digit pool; defaults to ``split``.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``).
    """

    PROTOCOL = ''
    DEFAULT_NUM_SAMPLES = {'train': 10000, 'test': 10000}
    METAINFO: dict = dict()

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 digit_source: Union[str, object] = 'mnist',
                 num_samples: Optional[int] = None,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 num_digits: int = 2,
                 image_size: int = 64,
                 base_seed: int = 2021,
                 resample_each_epoch: bool = False,
                 glyph_cfg: Optional[dict] = None,
                 digit_split: Optional[str] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 metainfo: Optional[dict] = None,
                 **kwargs):
        check_split(split)
        for name, val in (('in_frames', in_frames), ('out_frames', out_frames),
                          ('num_digits', num_digits), ('image_size',
                                                       image_size)):
            if not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f'{name} must be a positive int, got '
                                 f'{val!r}')
        if resample_each_epoch and split != 'train':
            raise ValueError('resample_each_epoch=True is only for '
                             f"split='train' (got split={split!r}): "
                             'evaluation sequences must stay fixed')
        self.split = split
        self.in_frames = int(in_frames)
        self.out_frames = int(out_frames)
        self.num_frames = self.in_frames + self.out_frames
        self.num_digits = int(num_digits)
        self.image_size = int(image_size)
        self.base_seed = int(base_seed)
        self.resample_each_epoch = bool(resample_each_epoch)
        self.epoch = 0
        self.digit_source_name = (
            digit_source
            if isinstance(digit_source, str) else type(digit_source).__name__)
        self.digit_split = digit_split or split
        self.num_samples = self._resolve_num_samples(num_samples)
        self.digit_source = self._build_digit_source(digit_source, data_root,
                                                     glyph_cfg)
        # build transforms with mmvp's registry, so a pipeline works even
        # when no default scope is set
        transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ]
        super().__init__(
            data_root=data_root,
            pipeline=transforms,
            metainfo=metainfo,
            **kwargs)
        # facts about the protocol win over user metainfo (not passed through
        # ``metainfo`` because BaseDataset tries to read strings as files)
        self._metainfo.update(self._protocol_metainfo())

    # -- hooks for subclasses -------------------------------------------
    def _resolve_num_samples(self, num_samples: Optional[int]) -> int:
        n = (
            self.DEFAULT_NUM_SAMPLES[self.split]
            if num_samples is None else num_samples)
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f'num_samples must be a positive int, got {n!r}')
        return int(n)

    def _build_digit_source(self, digit_source, data_root, glyph_cfg):
        kwargs = dict(glyph_cfg or {})
        name = digit_source
        if name == 'mnist' and kwargs:
            raise ValueError("glyph_cfg is only for digit_source='glyphs'")
        return build_digit_source(name, data_root, self.digit_split, **kwargs)

    def _protocol_metainfo(self) -> dict:
        return dict(
            protocol=self.PROTOCOL,
            split=self.split,
            in_frames=self.in_frames,
            out_frames=self.out_frames,
            num_frames=self.num_frames,
            resolution=(self.image_size, self.image_size),
            channels=1,
            num_digits=self.num_digits,
            digit_source=self.digit_source_name,
            base_seed=self.base_seed,
            num_samples=self.num_samples)

    def render_uint8(self, seq_idx: int) -> np.ndarray:
        """Frames of sequence ``seq_idx`` as uint8 ``[T, H, W]``.

        The one method a digit dataset defines: the protocol that draws the
        sequence (V-MNIST's and Moving MNIST's differ)."""
        raise NotImplementedError(
            f'{type(self).__name__} must implement render_uint8(seq_idx), '
            'the frames of one sequence')

    # -- dataset API ----------------------------------------------------
    def load_data_list(self) -> List[dict]:
        """One tiny dict per sequence: ``dict(seq_idx=i)``; no pixels."""
        return [dict(seq_idx=i) for i in range(self.num_samples)]

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch used by ``resample_each_epoch``.

        Call it before the epoch's dataloader iterator is created (with
        non-persistent workers each epoch's workers get a fresh copy).
        """
        self.epoch = int(epoch)

    @property
    def seed_epoch(self) -> Optional[int]:
        """Epoch appended to the seeds, or None."""
        return self.epoch if self.resample_each_epoch else None

    def prepare_data(self, idx: int):
        """Render sample ``idx`` and run the pipeline on it."""
        results = self.get_data_info(idx)
        results['in_frames'] = self.in_frames
        results['out_frames'] = self.out_frames
        results['split'] = self.split
        results['protocol'] = self.PROTOCOL
        frames = self.render_uint8(results['seq_idx'])
        results['frames'] = frames[..., None]  # [T, H, W, 1]
        return self.pipeline(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(protocol={self.PROTOCOL!r}, '
                f'split={self.split!r}, num_samples={self.num_samples}, '
                f'frames={self.in_frames}->{self.out_frames}, '
                f'size={self.image_size}, source={self.digit_source!r})')


class _LazyNpy:
    """A ``np.load(mmap_mode='r')`` handle opened on first use.

    Pickling or deep-copying it keeps only the path, so no pixels travel to
    dataloader workers.
    """

    def __init__(self, path: str):
        self.path = path
        self._array = None

    @property
    def array(self) -> np.ndarray:
        if self._array is None:
            self._array = np.load(self.path, mmap_mode='r')
        return self._array

    def close(self):
        self._array = None

    def __getstate__(self):
        return dict(path=self.path, _array=None)

    def __repr__(self):
        return f'_LazyNpy({self.path!r})'


def open_checked_npy(path: str, check) -> _LazyNpy:
    """Open ``path`` lazily after checking its header with ``check(arr)``."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'npy file not found: {path}')
    try:
        arr = np.load(path, mmap_mode='r')
    except ARRAY_READ_ERRORS as e:
        raise ValueError(f'{path}: not a readable .npy file ({e})') from e
    check(arr)
    del arr
    return _LazyNpy(path)
