# Copyright (c) mmvp contributors. All rights reserved.
"""Your own data: every video, frame folder or frame array under the root
(or the files of a ``path [start [split]]`` list) cut into clips."""
import os
import os.path as osp
import zipfile
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..clip_index import clip_span, clip_starts, read_clip_list
from ..video_io import (IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, VideoReadError,
                        array_info, check_backend, check_frame_numbers,
                        list_frame_folder, video_info)
from .base import CLIP_PROTOCOLS, BaseClipProtocol

__all__ = ['VideoFolderProtocol', 'ARRAY_EXTENSIONS']

ARRAY_EXTENSIONS = ('.npy', '.npz')


def _only_key(path: str) -> str:
    try:
        with zipfile.ZipFile(path) as zf:
            keys = [n[:-4] for n in zf.namelist() if n.endswith('.npy')]
    except zipfile.BadZipFile as e:
        raise VideoReadError(f'{path}: not a valid .npz archive ({e})')
    if len(keys) != 1:
        raise VideoReadError(
            f'{path}: {len(keys)} arrays {keys}; set array_key')
    return keys[0]


@CLIP_PROTOCOLS.register_module()
class VideoFolderProtocol(BaseClipProtocol):
    """Clips from the entries of ``data_root`` (sorted; hidden ones left
    out) or from the dataset's ``ann_file`` list (``path [start [split]]``
    per line; a line without ``start`` gives every clip of the file).

    Args:
        name (str): Protocol name. Defaults to ``'video_folder'``.
        frame_interval (int): Step between the frames of a clip.
        clip_stride (int, optional): Step between clip starts when a file
            is cut into all its clips. Defaults to the clip span.
        video_extensions, image_extensions (Sequence[str]): File endings
            of videos and of frame images.
        array_key (str, optional): Array of an .npz file (default: its
            only array).
        check_gaps (bool): Treat a frame folder whose numbering has a gap
            as invalid. Defaults to True.
        uint8_arrays (bool): Require uint8 arrays. Defaults to True.
        backend (str): Frame counting, ``'decord'`` or ``'opencv'``.
        extra (dict, optional): Keys added to every sample.
        fps (float, optional): See :class:`BaseClipProtocol`.
    """

    def __init__(self,
                 name: str = 'video_folder',
                 frame_interval: int = 1,
                 clip_stride: Optional[int] = None,
                 video_extensions: Sequence[str] = VIDEO_EXTENSIONS,
                 image_extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 array_key: Optional[str] = None,
                 check_gaps: bool = True,
                 uint8_arrays: bool = True,
                 backend: str = 'decord',
                 extra: Optional[dict] = None,
                 fps: Optional[float] = None):
        super().__init__(fps)
        for key, v in (('frame_interval', frame_interval), ('clip_stride',
                                                            clip_stride)):
            if v is not None and (int(v) != v or v < 1):
                raise ValueError(f'{key} must be a positive int, got {v!r}')
        self.name = name
        self.frame_interval = int(frame_interval)
        self.clip_stride = clip_stride
        self.video_extensions = tuple(e.lower() for e in video_extensions)
        self.image_extensions = tuple(e.lower() for e in image_extensions)
        self.array_key = array_key
        self.check_gaps = bool(check_gaps)
        self.uint8_arrays = bool(uint8_arrays)
        self.backend = check_backend(backend)
        self.extra = dict(extra or {})

    def metainfo(self, dataset) -> dict:
        return dict(
            frame_interval=self.frame_interval,
            clip_stride=self.clip_stride
            or clip_span(dataset.num_frames, self.frame_interval))

    def storage_of(self, path: str) -> Optional[str]:
        if osp.isdir(path):
            return 'frames'
        ext = osp.splitext(path)[1].lower()
        if ext in self.video_extensions:
            return 'video'
        return 'array' if ext in ARRAY_EXTENSIONS else None

    def open_source(self, ds, path: str, name: str) -> Optional[int]:
        """Register ``path``; None (after ``ds.invalid``) if unusable."""
        if not osp.exists(path):
            ds.invalid(path, 'file or folder not found')
            return None
        storage = self.storage_of(path)
        info = dict(
            name=name,
            path=path,
            storage=storage,
            frame_interval=self.frame_interval,
            extra=self.extra)
        if storage is None:
            ds.invalid(
                path, f'not a video ({", ".join(self.video_extensions)}), '
                'frame folder or array (.npy, .npz)')
            return None
        try:
            if storage == 'video':
                num, fps = video_info(path, self.backend)
                info['frame_interval'] *= self.time_scale(path, fps)
                info.update(num_frames=num, fps=fps)
            elif storage == 'frames':
                names = list_frame_folder(path, self.image_extensions)
                problem = (None if not self.check_gaps or not names else
                           check_frame_numbers(path, names))
                if not names or problem:
                    ds.invalid(
                        path, problem or 'frame folder without image files '
                        f'({", ".join(self.image_extensions)})')
                    return None
                info.update(names=np.array(names), num_frames=len(names))
            else:
                key = self.array_key
                if path.endswith('.npz') and key is None:
                    key = _only_key(path)
                shape, dtype = array_info(path, key)
                if len(shape) not in (3, 4):
                    ds.invalid(
                        path, f'array of shape {tuple(shape)}; frames '
                        '[N, H, W] or [N, H, W, C] expected')
                    return None
                if self.uint8_arrays and dtype != np.uint8:
                    ds.invalid(path, f'{dtype} array; uint8 frames expected')
                    return None
                info.update(array_key=key, num_frames=shape[0])
        except VideoReadError as e:
            ds.invalid_read(path, e)
            return None
        return ds.add_source(**info)

    def all_clips(self, ds, src: int) -> List[dict]:
        source = ds.sources[src]
        step = source['frame_interval']
        span = clip_span(ds.num_frames, step)
        starts = clip_starts(source['num_frames'], ds.num_frames, step,
                             self.clip_stride or span)
        if not starts:
            ds.invalid(
                source['path'], f"too short for one clip: "
                f"{source['num_frames']} frames, a clip of "
                f'{ds.num_frames} frames every {step} needs {span}')
        return [dict(source_idx=src, start=s) for s in starts]

    def load_data_list(self, ds) -> List[dict]:
        root = ds.data_root
        if not root or not osp.isdir(root):
            raise FileNotFoundError(f'data root not found: {root!r} '
                                    '(a folder of videos, frame folders or '
                                    'arrays)')
        if ds.ann_file:
            data_list = self._load_list(ds)
        else:
            data_list = []
            for name in sorted(os.listdir(root)):
                if name.startswith('.'):
                    continue
                src = self.open_source(ds, osp.join(root, name), name)
                if src is not None:
                    data_list.extend(self.all_clips(ds, src))
        if not data_list:
            raise ValueError(
                f'{ds.__class__.__name__}: no clip of {ds.num_frames} '
                f'frames (interval {self.frame_interval}) found in '
                f'{ds.ann_file or root}' +
                (f' for split {ds.split!r}' if ds.split else '') +
                (f'; {ds.num_invalid} invalid file(s) were skipped' if ds.
                 invalid_files else ''))
        return data_list

    def _load_list(self, ds) -> List[dict]:
        opened: Dict[str, Optional[int]] = {}
        data_list = []
        for entry in read_clip_list(ds.ann_file):
            if (ds.split is not None and entry.split is not None
                    and entry.split != ds.split):
                continue
            if entry.path not in opened:
                opened[entry.path] = self.open_source(
                    ds, osp.join(ds.data_root, entry.path), entry.path)
            src = opened[entry.path]
            if src is None:
                continue
            if entry.start is None:
                data_list.extend(self.all_clips(ds, src))
                continue
            source = ds.sources[src]
            last = ds.frame_inds(source, entry.start)[-1]
            if last >= source['num_frames']:
                ds.invalid(
                    f'{ds.ann_file}:{entry.lineno}',
                    f'clip of {entry.path} from frame {entry.start} needs '
                    f"frame {last}, the file has {source['num_frames']}")
                continue
            data_list.append(dict(source_idx=src, start=entry.start))
        return data_list
