# Copyright (c) mmvp contributors. All rights reserved.
"""The generic dataset of fixed-length clips cut from files.

A protocol (:mod:`mmvp.datasets.protocols`) produces the clip list, or a
clip list file written by ``tools/dataset_converters/write_clip_list.py``
is read instead of scanning. The data list holds one tiny dict per clip,
``dict(source_idx=i, start=s)``; what the clips of one file share (path,
storage format, frame step, frame names) sits once in
:attr:`ClipDataset.sources`. With MMEngine's default
``serialize_data=True`` the list is pickled into one byte array that
dataloader workers share, and no pixel is read until a clip is fetched
(see ``docs/en/advanced_guides/dataset_protocols.md``, "Pitfall: frames
held in memory").
"""
import json
import logging
import os.path as osp
from collections import abc
from typing import Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import get_text
from mmengine.logging import print_log

from mmvp.registry import DATASETS, TRANSFORMS
from .protocols import CLIP_PROTOCOLS, BaseClipProtocol
from .transforms.loading import STORAGE_DECODERS
from .transforms.processing import CenterCropFrames, ResizeFrames
from .video_io import VideoReadError

__all__ = [
    'ClipDataset', 'BaseClipDataset', 'InvalidSourceError', 'FramePaths'
]
CLIP_LIST_VERSION = 1


class InvalidSourceError(ValueError):
    """An input file or folder is unusable; the message names it and the
    problem (raised while the clip index is built)."""


class FramePaths(abc.Sequence):
    """The frame files of a folder as a sequence of paths, joined when an
    item is read (a clip needs a few of possibly thousands)."""

    def __init__(self, folder: str, names: Sequence[str]):
        self.folder = folder
        self.names = names

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return osp.join(self.folder, str(self.names[i]))


def _repeats_cache_step(transform, params: dict) -> bool:
    """Whether ``transform`` is the crop or resize a cache recorded."""
    if isinstance(transform, CenterCropFrames):
        ratio = params.get('crop_border_ratio')
        return ratio is not None and transform.border_ratio == ratio
    if isinstance(transform, ResizeFrames):
        scale = params.get('scale')
        return scale is not None and list(transform.scale) == list(scale)
    return False


def _check_positive(name: str, value) -> int:
    if not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f'{name} must be a positive int, got {value!r}')
    return int(value)


@DATASETS.register_module()
class ClipDataset(BaseDataset):
    """Clips of ``in_frames + out_frames`` frames cut from files.

    A fetched clip gives the pipeline: ``storage`` (``'video'``,
    ``'frames'``, ``'cache'`` or ``'array'``), ``filename`` and
    ``frame_inds`` (positions in the storage's frame order, what the decode
    transforms read), ``frame_paths`` (frame folders), ``array_key``
    (arrays), ``video_frame_inds`` (caches: the frames in the video's
    time), ``in_frames``, ``out_frames``, ``sample_idx``, ``source_idx``,
    ``source`` (a short name of the file), ``start_frame``, ``split`` and
    ``protocol``, plus the source's ``extra`` keys.

    Args:
        protocol (dict | BaseClipProtocol): The protocol that lists the
            clips, e.g. ``dict(type='VideoFolderProtocol')``.
        in_frames (int): Input length.
        out_frames (int): Target length.
        split (str, optional): Split name, recorded in the samples.
        clip_list (str): A clip list file written by
            ``tools/dataset_converters/write_clip_list.py`` (relative to
            ``data_root``); read instead of scanning. Defaults to ''.
            With a clip list nothing is scanned, so ``data_root`` may be
            remote (``s3://...``): the list is read with
            :func:`mmengine.fileio.get_text` and ``backend_args``, and the
            decode transforms fetch the frames (give them the same
            ``backend_args``).
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments for reading ``clip_list``. Defaults to None.
        skip_invalid (bool): Skip unusable files (missing, corrupt,
            truncated, too short, gaps, not a video) instead of raising;
            they are counted and reported once in the log. Clips whose
            frames fail to decode later are then replaced by random other
            clips in training (MMEngine's refetch); if every try fails,
            the error names the files. Evaluation always raises.
            Defaults to False.
        pipeline (Sequence[dict | Callable]): Transforms, built with
            mmvp's registry.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset`
            (``data_root``, ``ann_file``, ``test_mode``, ``indices``,
            ``metainfo``, ``serialize_data``, ``lazy_init``,
            ``max_refetch``).
    """

    METAINFO: dict = dict()

    def __init__(self,
                 protocol: Union[dict, BaseClipProtocol, None] = None,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 split: Optional[str] = None,
                 clip_list: str = '',
                 backend_args: Optional[dict] = None,
                 skip_invalid: bool = False,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 **kwargs):
        if protocol is None:  # subclasses that list their own clips
            protocol = BaseClipProtocol()
            protocol.name = getattr(self, 'PROTOCOL', 'custom')
        if isinstance(protocol, dict):
            protocol = CLIP_PROTOCOLS.build(protocol)
        self.protocol = protocol
        self.in_frames = _check_positive('in_frames', in_frames)
        self.out_frames = _check_positive('out_frames', out_frames)
        self.num_frames = self.in_frames + self.out_frames
        self.skip_invalid = bool(skip_invalid)
        self.split = split
        self.clip_list = clip_list
        self.backend_args = backend_args
        self.sources: List[dict] = []
        self.invalid_files: List[Tuple[str, str]] = []
        self._read_errors_logged = set()
        self._failures: List[Tuple[str, str]] = []
        # build transforms with mmvp's registry, so a pipeline works even
        # when no default scope is set
        transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline
        ]
        super().__init__(pipeline=transforms, **kwargs)
        # protocol facts win over user metainfo
        self._metainfo.update(self._protocol_metainfo())

    # -- for protocols ---------------------------------------------------
    @property
    def protocol_name(self) -> str:
        """Protocol name recorded in the metainfo and in every sample."""
        return self.protocol.name

    def _protocol_metainfo(self) -> dict:
        meta = dict(
            protocol=self.protocol_name,
            split=self.split,
            in_frames=self.in_frames,
            out_frames=self.out_frames,
            num_frames=self.num_frames)
        meta.update(self.protocol.metainfo(self))
        meta['protocol'] = self.protocol_name
        return meta

    def add_source(self, **info) -> int:
        """Register one file; returns its ``source_idx``.

        ``info`` needs ``storage`` (a key of
        :data:`~mmvp.datasets.transforms.loading.STORAGE_DECODERS`), ``name``
        (short id), ``path`` and ``frame_interval`` (step between the
        clip's frames, in the file's frames). Optional: ``names`` (frame
        folders: the frame files in order), ``array_key``, ``cache_step``
        (caches: video frames per cache row), ``num_frames`` and ``extra``
        (keys copied into every sample of the source).
        """
        if 'source_type' in info:  # the former name of 'storage'
            info['storage'] = info.pop('source_type')
        for key in ('storage', 'name', 'path', 'frame_interval'):
            if key not in info:
                raise KeyError(f'add_source needs {key!r}')
        if info['storage'] not in STORAGE_DECODERS:
            raise ValueError(
                f"{info['path']}: storage must be one of "
                f"{tuple(STORAGE_DECODERS)}, got {info['storage']!r} (add a "
                'new format to transforms.loading.STORAGE_DECODERS)')
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
        self._check_cache_pipeline()

    def load_data_list(self) -> List[dict]:
        if self.clip_list:
            return self._read_clip_list()
        return self.protocol.load_data_list(self)

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

    def _check_cache_pipeline(self) -> None:
        """A frame cache already holds cropped and resized frames: a
        pipeline step that repeats a step recorded in the cache is an old
        config and would apply it twice."""
        records = {
            repr(s['cache_params']): s
            for s in self.sources if s.get('cache_params')
        }
        for source in records.values():
            params = source['cache_params']
            for t in getattr(self.pipeline, 'transforms', ()):
                if _repeats_cache_step(t, params):
                    raise ValueError(
                        f"{source['path']}: the frame cache already applied "
                        f'{params}; remove {t!r} from the pipeline (a cache '
                        'pipeline has no crop / resize steps)')

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
            protocol=self.protocol_name,
            storage=source['storage'],
            filename=source['path'])
        results.update(self.storage_results(source, inds))
        results.update(source.get('extra', {}))
        return results

    @staticmethod
    def storage_results(source: dict, inds: List[int]) -> dict:
        """Storage-specific reading keys of ``source``."""
        storage = source['storage']
        if storage == 'frames':
            return dict(
                frame_paths=FramePaths(source['path'], source['names']))
        if storage == 'cache':
            step = source.get('cache_step', 1)
            bad = [i for i in inds if i % step]
            if bad:
                raise VideoReadError(
                    f"{source['path']}: frame {bad[0]} is not in the cache, "
                    f'which holds every {step}th frame')
            return dict(
                frame_inds=[i // step for i in inds], video_frame_inds=inds)
        if storage == 'array':
            return dict(array_key=source.get('array_key'))
        return {}

    def prepare_data(self, idx: int):
        """Run the pipeline on clip ``idx``.

        A clip whose frames cannot be read raises, or with
        ``skip_invalid=True`` in training returns None (MMEngine then
        fetches another clip) after logging the file once.
        """
        results = self.get_data_info(idx)
        try:
            return self.pipeline(results)
        except VideoReadError as e:
            if not self.skip_invalid or self.test_mode:
                raise
            self._failures.append((results['filename'], str(e)))
            if results['source'] not in self._read_errors_logged:
                self._read_errors_logged.add(results['source'])
                print_log(
                    f'{self.__class__.__name__}: skipping clips of '
                    f"{results['source']} that cannot be read: {e}",
                    logger='current',
                    level=logging.WARNING)
            return None

    def __getitem__(self, idx: int) -> dict:
        """MMEngine's fetch with refetching, but when every try fails the
        error names the unreadable files (instead of "Cannot find valid
        image")."""
        if not self._fully_initialized:
            self.full_init()
        self._failures: List[Tuple[str, str]] = []
        if self.test_mode:
            data = self.prepare_data(idx)
            if data is None:
                raise ValueError(f'{self.__class__.__name__}: the pipeline '
                                 f'returned None for clip {idx} in test mode')
            return data
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            idx = self._rand_another()
        files = {}
        for path, err in self._failures:
            files.setdefault(path, err)
        shown = '; '.join(f'{e}' for e in list(files.values())[:10])
        raise VideoReadError(
            f'{self.__class__.__name__}: {len(self._failures)} clips in a '
            f'row could not be read, from {len(files)} file(s): {shown}'
            f'{"; ..." if len(files) > 10 else ""}. Check these files '
            '(or leave them out of the dataset)')

    # -- clip list files -------------------------------------------------
    def clip_list_dict(self) -> dict:
        """The clip list as ``write_clip_list.py`` writes it: metainfo,
        sources (paths relative to ``data_root``) and ``[source_idx,
        start]`` per clip."""
        if not self._fully_initialized:
            self.full_init()
        root = self.data_root or ''
        sources = []
        for s in self.sources:
            s = {
                k: v.tolist() if isinstance(v, np.ndarray) else v
                for k, v in s.items()
            }
            if root:
                s['path'] = osp.relpath(s['path'], root)
            sources.append(s)
        clips = []
        for i in range(len(self)):
            info = super().get_data_info(i)
            clips.append([int(info['source_idx']), int(info['start'])])
        meta = {
            k: v
            for k, v in self._protocol_metainfo().items()
            if isinstance(v, (str, int, float, bool, type(None)))
        }
        return dict(
            version=CLIP_LIST_VERSION,
            dataset=self.__class__.__name__,
            metainfo=meta,
            sources=sources,
            clips=clips)

    def _under_root(self, path: str) -> str:
        if not self.data_root or osp.isabs(path) or '://' in path:
            return path
        return osp.join(self.data_root, path)

    def _read_clip_list(self) -> List[dict]:
        path = self._under_root(self.clip_list)
        try:
            record = json.loads(get_text(path, backend_args=self.backend_args))
            if record.get('version') != CLIP_LIST_VERSION:
                raise ValueError(f"version {record.get('version')}, "
                                 f'expected {CLIP_LIST_VERSION}')
            meta, sources, clips = (record['metainfo'], record['sources'],
                                    record['clips'])
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ValueError(f'{path}: not a readable clip list ({e}); '
                             'write it with tools/dataset_converters/'
                             'write_clip_list.py') from None
        mine = self._protocol_metainfo()
        for key in ('protocol', 'in_frames', 'out_frames', 'split'):
            if meta.get(key) != mine.get(key):
                raise ValueError(
                    f'{path}: clip list of {key}={meta.get(key)!r}, this '
                    f'dataset has {key}={mine.get(key)!r}; rewrite it with '
                    'write_clip_list.py')
        for s in sources:
            s['path'] = self._under_root(s['path'])
            for key in ('names', 'numbers'):
                if key in s:
                    s[key] = np.array(s[key])
            self.add_source(**s)
        return [dict(source_idx=i, start=s) for i, s in clips]

    def __repr__(self) -> str:
        n = len(self) if self._fully_initialized else 'not loaded'
        return (f'{self.__class__.__name__}(protocol={self.protocol_name!r}, '
                f'split={self.split!r}, clips={n}, '
                f'frames={self.in_frames}->{self.out_frames})')


#: Former name of :class:`ClipDataset`, kept for user subclasses.
BaseClipDataset = ClipDataset
