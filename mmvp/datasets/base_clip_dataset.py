# Copyright (c) mmvp contributors. All rights reserved.
"""Shared base of the clip datasets read from files (Human3.6M, radar,
custom video folders).

Memory layout (STYLE.md 5): the data list holds one tiny dict per clip,
``dict(source_idx=i, start=s)``; everything shared by the clips of one file
(path, frame step, frame names) sits once in :attr:`BaseClipDataset.sources`.
With MMEngine's default ``serialize_data=True`` the data list is pickled
into one byte array that dataloader workers share. No pixels are read until
a clip is fetched.
"""
import logging
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmvp.registry import TRANSFORMS
from .video_io import VideoReadError

__all__ = ['BaseClipDataset', 'InvalidSourceError']


class InvalidSourceError(ValueError):
    """An input file or folder is unusable; the message names it and the
    problem (raised while the clip index is built)."""


def _check_positive(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')
    return int(value)


class BaseClipDataset(BaseDataset):
    """Base class of datasets of fixed-length clips cut from files.

    Subclasses implement :meth:`load_data_list`, which registers each file
    with :meth:`add_source` and returns ``dict(source_idx, start)`` per
    clip, and report unusable files with :meth:`invalid`.

    A fetched clip gives the pipeline: ``source_type`` plus its reading
    keys (see :class:`mmvp.datasets.transforms.LoadVideoFrames`),
    ``frame_inds`` (frame indices in the file), ``in_frames``,
    ``out_frames``, ``sample_idx``, ``source_idx`` (position in
    :attr:`sources`), ``source`` (a short name of the file),
    ``start_frame``, ``split`` and ``protocol``.

    Args:
        in_frames (int): Input length.
        out_frames (int): Target length.
        skip_invalid (bool): Skip unusable files (missing, corrupt,
            truncated, too short, gaps, not a video) instead of raising;
            they are counted and reported once in the log. Clips whose
            frames fail to decode later are then replaced by random other
            clips in training (MMEngine's refetch); evaluation always
            raises. Defaults to False.
        pipeline (Sequence[dict | Callable]): Transforms, built with
            mmvp's registry.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``data_root``, ``ann_file``, ``test_mode``, ``indices``,
            ``metainfo``, ``serialize_data``, ``lazy_init``,
            ``max_refetch``).
    """

    PROTOCOL = 'custom'
    METAINFO: dict = dict()

    def __init__(self,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 skip_invalid: bool = False,
                 split: Optional[str] = None,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 **kwargs):
        self.in_frames = _check_positive('in_frames', in_frames)
        self.out_frames = _check_positive('out_frames', out_frames)
        self.num_frames = self.in_frames + self.out_frames
        self.skip_invalid = bool(skip_invalid)
        self.split = split
        self.sources: List[dict] = []
        self.invalid_files: List[Tuple[str, str]] = []
        self._read_errors_logged = set()
        # build transforms with mmvp's registry, so a pipeline works even
        # when no default scope is set
        transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ]
        super().__init__(pipeline=transforms, **kwargs)
        # protocol facts win over user metainfo
        self._metainfo.update(self._protocol_metainfo())

    # -- for subclasses --------------------------------------------------
    @property
    def protocol_name(self) -> str:
        """Protocol name recorded in the metainfo and in every sample."""
        return self.PROTOCOL

    def _protocol_metainfo(self) -> dict:
        return dict(
            protocol=self.protocol_name,
            split=self.split,
            in_frames=self.in_frames,
            out_frames=self.out_frames,
            num_frames=self.num_frames)

    def add_source(self, **info) -> int:
        """Register one file; returns its ``source_idx``.

        ``info`` needs ``source_type``, ``name`` (short id) and
        ``frame_interval`` (step between the clip's frames, in the file's
        frame index).
        """
        for key in ('source_type', 'name', 'frame_interval'):
            if key not in info:
                raise KeyError(f'add_source needs {key!r}')
        self.sources.append(info)
        return len(self.sources) - 1

    def invalid(self, path: str, reason: str) -> None:
        """Report an unusable file: raise, or record it with
        ``skip_invalid=True``."""
        if self.skip_invalid:
            self.invalid_files.append((str(path), reason))
            return
        raise InvalidSourceError(
            f'{path}: {reason} (pass skip_invalid=True to skip such files)')

    def invalid_read(self, path: str, err: Exception) -> None:
        """Report a file that failed to read (message without the path
        prefix that :class:`VideoReadError` messages carry)."""
        msg = str(err)
        prefix = f'{path}: '
        self.invalid(path,
                     msg[len(prefix):] if msg.startswith(prefix) else msg)

    # -- dataset API -----------------------------------------------------
    def full_init(self) -> None:
        if self._fully_initialized:
            return
        self.sources = []
        self.invalid_files = []
        super().full_init()
        self._log_invalid()

    def _log_invalid(self) -> None:
        if not self.invalid_files:
            return
        shown = '; '.join(f'{p}: {r}' for p, r in self.invalid_files[:20])
        more = len(self.invalid_files) - 20
        print_log(
            f'{self.__class__.__name__} ({self.protocol_name}, split='
            f'{self.split}): skipped {len(self.invalid_files)} invalid '
            f'file(s) (skip_invalid=True): {shown}'
            f'{f"; and {more} more" if more > 0 else ""}',
            logger='current',
            level=logging.WARNING)

    @property
    def num_invalid(self) -> int:
        """Number of files skipped with ``skip_invalid=True``."""
        return len(self.invalid_files)

    def frame_inds(self, source: dict, start: int) -> List[int]:
        """Indices of the clip's frames in its file."""
        step = source['frame_interval']
        return [start + step * k for k in range(self.num_frames)]

    def get_data_info(self, idx: int) -> dict:
        """The clip's reading information (no pixels)."""
        info = super().get_data_info(idx)
        source = self.sources[info['source_idx']]
        start = int(info['start'])
        inds = self.frame_inds(source, start)
        results = dict(
            sample_idx=info['sample_idx'],
            source_idx=info['source_idx'],
            source=source['name'],
            start_frame=start,
            frame_inds=inds,
            in_frames=self.in_frames,
            out_frames=self.out_frames,
            split=self.split,
            protocol=self.protocol_name)
        results.update(self.source_results(source, inds))
        return results

    def source_results(self, source: dict, inds: List[int]) -> dict:
        """Reading keys of ``source`` for the frames ``inds``."""
        kind = source['source_type']
        if kind == 'video':
            return dict(storage='video', filename=source['path'])
        if kind == 'frames':
            folder = source['path']
            return dict(
                storage='frames',
                filename=folder,
                frame_paths=[
                    osp.join(folder, str(n)) for n in source['names']
                ])
        if kind == 'cache':
            step = source.get('cache_step', 1)
            bad = [i for i in inds if i % step]
            if bad:
                raise VideoReadError(
                    f"{source['path']}: frame {bad[0]} is not in the cache, "
                    f'which holds every {step}th frame')
            return dict(
                storage='cache',
                filename=source['path'],
                frame_inds=np.array([i // step for i in inds]),
                video_frame_inds=inds,
                cache_ops=list(source.get('cache_ops', ())))
        if kind == 'array':
            out = dict(
                storage='array',
                filename=source['path'],
                array_key=source.get('array_key'))
            for key in ('value_scale', 'missing_values', 'dbz_encoding'):
                if key in source:
                    out[key] = source[key]
            return out
        raise ValueError(f'unknown source_type {kind!r}')

    def prepare_data(self, idx: int):
        """Run the pipeline on clip ``idx``.

        A clip whose frames cannot be read raises, or with
        ``skip_invalid=True`` in training returns None (MMEngine then
        fetches another clip) after logging the file once.
        """
        results = self.get_data_info(idx)
        try:
            packed = self.pipeline(results)
        except VideoReadError as e:
            if not self.skip_invalid or self.test_mode:
                raise
            if results['source'] not in self._read_errors_logged:
                self._read_errors_logged.add(results['source'])
                print_log(
                    f'{self.__class__.__name__}: skipping clips of '
                    f"{results['source']} that cannot be read: {e}",
                    logger='current',
                    level=logging.WARNING)
            return None
        left = results.get('cached_ops')
        if left:
            raise ValueError(
                f"{results.get('cache_file')}: the cache applied {left}, "
                'which the pipeline does not; add the matching steps '
                'to the pipeline or rebuild the cache')
        return packed

    def __repr__(self) -> str:
        n = len(self) if self._fully_initialized else 'not loaded'
        return (f'{self.__class__.__name__}(protocol={self.protocol_name!r}, '
                f'split={self.split!r}, clips={n}, '
                f'frames={self.in_frames}->{self.out_frames})')
