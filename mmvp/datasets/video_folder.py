# Copyright (c) mmvp contributors. All rights reserved.
"""Custom data: clips from a folder of videos, frame folders or arrays.

Layout without a list file (every entry of ``data_root``, sorted)::

    data_root/
        walk_01.mp4               # a video (decord, OpenCV fallback)
        seq_0002/                 # a frame folder: 000001.png, 000002.png
        clip_3.npy                # uint8 [N, H, W] or [N, H, W, C]

With ``ann_file``, one clip per line ``path start split`` (``start`` and
``split`` optional; a line without ``start`` gives every clip of the
file)::

    walk_01.mp4 0 train
    walk_01.mp4 40 test
    seq_0002 12 train
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from mmvp.registry import DATASETS
from .base_clip_dataset import BaseClipDataset
from .clip_index import clip_span, clip_starts, read_clip_list
from .video_io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, VideoReadError,
                       array_info, check_backend, check_frame_numbers,
                       count_video_frames, list_frame_folder)

__all__ = ['VideoFolderDataset']

ARRAY_EXTENSIONS = ('.npy', '.npz')


@DATASETS.register_module()
class VideoFolderDataset(BaseClipDataset):
    """Fixed-length clips cut from videos, frame folders or frame arrays.

    The index is built from metadata only: decord's frame count (or an
    OpenCV count for files decord cannot read), frame file names, array
    headers. Use it with a pipeline such as::

        [dict(type='LoadVideoFrames'),
         dict(type='ResizeFrames', scale=64),
         dict(type='PackVideoPredInputs')]

    Args:
        data_root (str): Folder of the videos / frame folders / arrays.
        ann_file (str): Optional list file (``path [start [split]]`` per
            line, paths relative to ``data_root``).
        split (str, optional): Keep only list lines of this split (lines
            without a split are kept for every split).
        in_frames (int): Defaults to 10.
        out_frames (int): Defaults to 10.
        frame_interval (int): Step between the frames of a clip, in the
            file's frames. Defaults to 1.
        clip_stride (int, optional): Step between clip starts when a file
            is cut into all its clips. Defaults to the clip span
            (non-overlapping clips).
        video_extensions (Sequence[str]): File endings read as videos.
        image_extensions (Sequence[str]): Files of a frame folder.
        array_key (str, optional): Array of an .npz file (default: its
            only array).
        check_gaps (bool): Treat a frame folder whose numbering has a
            gap as invalid. Defaults to True.
        backend (str): Frame counting at index time, ``'decord'`` or
            ``'opencv'``. The pipeline's :class:`LoadVideoFrames` reads.
        skip_invalid (bool): Skip unusable entries (corrupt or truncated
            videos, too short files, gaps, unknown files) instead of
            raising; they are counted and logged once. Defaults to False.
        protocol (str): Name recorded in the metainfo and the metric keys'
            samples. Defaults to ``'video_folder'``.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``.
    """

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
                 split: Optional[str] = None,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 frame_interval: int = 1,
                 clip_stride: Optional[int] = None,
                 video_extensions: Sequence[str] = VIDEO_EXTENSIONS,
                 image_extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 array_key: Optional[str] = None,
                 check_gaps: bool = True,
                 backend: str = 'decord',
                 skip_invalid: bool = False,
                 protocol: str = 'video_folder',
                 **kwargs):
        if int(frame_interval) != frame_interval or frame_interval < 1:
            raise ValueError('frame_interval must be a positive int, got '
                             f'{frame_interval!r}')
        if clip_stride is not None and (int(clip_stride) != clip_stride
                                        or clip_stride < 1):
            raise ValueError('clip_stride must be a positive int, got '
                             f'{clip_stride!r}')
        self.frame_interval = int(frame_interval)
        self.clip_stride = clip_stride
        self.video_extensions = tuple(e.lower() for e in video_extensions)
        self.image_extensions = tuple(e.lower() for e in image_extensions)
        self.array_key = array_key
        self.check_gaps = bool(check_gaps)
        self.backend = check_backend(backend)
        self._protocol = protocol
        super().__init__(
            data_root=data_root,
            ann_file=ann_file,
            split=split,
            in_frames=in_frames,
            out_frames=out_frames,
            skip_invalid=skip_invalid,
            **kwargs)

    @property
    def protocol_name(self) -> str:
        return self._protocol

    @property
    def span(self) -> int:
        """Frames covered by one clip."""
        return clip_span(self.num_frames, self.frame_interval)

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        meta.update(
            frame_interval=self.frame_interval,
            clip_stride=self.clip_stride or self.span)
        return meta

    # -- sources ---------------------------------------------------------
    def _kind(self, path: str) -> Optional[str]:
        if osp.isdir(path):
            return 'frames'
        ext = osp.splitext(path)[1].lower()
        if ext in self.video_extensions:
            return 'video'
        if ext in ARRAY_EXTENSIONS:
            return 'array'
        return None

    def _open_source(self, path: str, name: str) -> Optional[int]:
        """Register ``path``; None (after :meth:`invalid`) if unusable."""
        if not osp.exists(path):
            self.invalid(path, 'file or folder not found')
            return None
        kind = self._kind(path)
        info = dict(name=name, path=path, frame_interval=self.frame_interval)
        if kind is None:
            self.invalid(
                path, 'not a video '
                f'({", ".join(self.video_extensions)}), frame folder or '
                'array (.npy, .npz)')
            return None
        if kind == 'video':
            try:
                num = count_video_frames(path, self.backend)
            except VideoReadError as e:
                self.invalid_read(path, e)
                return None
            info.update(source_type='video', num_frames=num)
        elif kind == 'frames':
            names = list_frame_folder(path, self.image_extensions)
            if not names:
                self.invalid(
                    path, 'frame folder without image files '
                    f'({", ".join(self.image_extensions)})')
                return None
            if self.check_gaps:
                problem = check_frame_numbers(path, names)
                if problem is not None:
                    self.invalid(path, problem)
                    return None
            info.update(
                source_type='frames',
                names=np.array(names),
                num_frames=len(names))
        else:
            key = self.array_key
            try:
                if path.endswith('.npz') and key is None:
                    key = self._only_key(path)
                shape, dtype = array_info(path, key)
            except VideoReadError as e:
                self.invalid_read(path, e)
                return None
            if len(shape) not in (3, 4):
                self.invalid(
                    path, f'array of shape {tuple(shape)}; frames '
                    '[N, H, W] or [N, H, W, C] expected')
                return None
            info.update(
                source_type='array',
                array_key=key,
                num_frames=shape[0],
                dtype=str(dtype))
            if not self._check_array_dtype(path, dtype):
                return None
        info.update(self.extra_source_info(path, info))
        return self.add_source(**info)

    def _check_array_dtype(self, path: str, dtype) -> bool:
        if dtype != np.uint8:
            self.invalid(path, f'{dtype} array; uint8 frames expected')
            return False
        return True

    def extra_source_info(self, path: str, info: dict) -> dict:
        """Hook: more keys for a source (e.g. radar encodings)."""
        return {}

    @staticmethod
    def _only_key(path: str) -> str:
        import zipfile
        try:
            with zipfile.ZipFile(path) as zf:
                keys = [n[:-4] for n in zf.namelist() if n.endswith('.npy')]
        except zipfile.BadZipFile as e:
            raise VideoReadError(f'{path}: not a valid .npz archive ({e})')
        if len(keys) != 1:
            raise VideoReadError(
                f'{path}: {len(keys)} arrays {keys}; set array_key')
        return keys[0]

    def _all_clips(self, src: int) -> List[dict]:
        source = self.sources[src]
        starts = clip_starts(source['num_frames'], self.num_frames,
                             self.frame_interval, self.clip_stride
                             or self.span)
        if not starts:
            self.invalid(
                source['path'], f"too short for one clip: "
                f"{source['num_frames']} frames, a clip of "
                f'{self.num_frames} frames every {self.frame_interval} '
                f'needs {self.span}')
        return [dict(source_idx=src, start=s) for s in starts]

    # -- index -----------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        root = self.data_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(f'data root not found: {root!r} '
                                    '(a folder of videos, frame folders or '
                                    'arrays)')
        if self.ann_file:
            data_list = self._load_list()
        else:
            data_list = []
            for name in sorted(os.listdir(root)):
                if name.startswith('.'):
                    continue
                src = self._open_source(osp.join(root, name), name)
                if src is not None:
                    data_list.extend(self._all_clips(src))
        if not data_list:
            where = self.ann_file or root
            raise ValueError(
                f'{self.__class__.__name__}: no clip of {self.num_frames} '
                f'frames (interval {self.frame_interval}) found in {where}' +
                (f' for split {self.split!r}' if self.split else '') +
                (f'; {self.num_invalid} invalid file(s) were skipped' if self.
                 invalid_files else ''))
        return data_list

    def _load_list(self) -> List[dict]:
        opened: Dict[str, Optional[int]] = {}
        data_list = []
        for entry in read_clip_list(self.ann_file):
            if (self.split is not None and entry.split is not None
                    and entry.split != self.split):
                continue
            if entry.path not in opened:
                opened[entry.path] = self._open_source(
                    osp.join(self.data_root, entry.path), entry.path)
            src = opened[entry.path]
            if src is None:
                continue
            if entry.start is None:
                data_list.extend(self._all_clips(src))
                continue
            source = self.sources[src]
            last = entry.start + self.frame_interval * (self.num_frames - 1)
            if last >= source['num_frames']:
                self.invalid(
                    f'{self.ann_file}:{entry.lineno}',
                    f'clip of {entry.path} from frame {entry.start} needs '
                    f"frame {last}, the file has {source['num_frames']}")
                continue
            data_list.append(dict(source_idx=src, start=entry.start))
        return data_list
