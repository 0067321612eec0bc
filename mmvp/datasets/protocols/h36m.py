# Copyright (c) mmvp contributors. All rights reserved.
"""Human3.6M protocols ``mim`` (MIM / MotionRNN, the paper's numbers) and
``openstl`` (OpenSTL / STRPM meta lists); see
``docs/en/advanced_guides/dataset_protocols.md#protocol-mim`` and
``dataset_protocols.md#protocol-openstl``.

Three storages of the same frames (``source``): ``'video'`` (the official
``S*/Videos/*.mp4``; stored image ``i`` is raw frame ``5 i``, see
``dataset_protocols.md#frame-numbering``), ``'jpeg'`` (the flat JPEG
folder of the MIM / MotionRNN code, indexed exactly as the official
provider does, see ``dataset_protocols.md#the-official-loader``) and
``'cache'`` (per-video uint8 ``.npy`` files written by
``tools/dataset_converters/h36m_frame_cache.py``, already cropped and
resized). The clip index uses metadata only (frame counts, file names).
"""
import json
import math
import os
import os.path as osp
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log

from ..clip_index import (clip_starts, list_file_lines, mim_flat_clip_index,
                          parse_h36m_image)
from ..video_io import (IMAGE_EXTENSIONS, VideoReadError, array_info,
                        check_backend, video_info)
from .base import CLIP_PROTOCOLS, BaseClipProtocol

__all__ = [
    'H36MProtocol', 'H36MMimProtocol', 'H36MOpenSTLProtocol', 'H36M_SUBJECTS',
    'H36M_PROTOCOLS', 'H36M_CACHE_VERSION', 'H36M_FPS', 'parse_h36m_video',
    'list_h36m_videos', 'h36m_cache_files', 'read_openstl_list',
    'cache_params_of', 'read_cache_record'
]

# the subject split (dataset_protocols.md#protocol-mim)
H36M_SUBJECTS = {
    'train': ('S1', 'S5', 'S6', 'S7', 'S8'),
    'test': ('S9', 'S11'),
}
ALL_SUBJECTS = H36M_SUBJECTS['train'] + H36M_SUBJECTS['test']

H36M_PROTOCOLS = {
    # every 2nd stored image, starts every 10 / 5
    # (dataset_protocols.md#protocol-mim)
    'mim':
    dict(
        actions=('Walking', ),
        raw_step=5,
        frame_step=2,
        clip_stride=dict(train=10, test=5),
        name='h36m_mim'),
    # every stored image, starts from the meta lists
    # (dataset_protocols.md#protocol-openstl)
    'openstl':
    dict(
        actions=None,
        raw_step=5,
        frame_step=1,
        clip_stride=None,
        name='h36m_openstl'),
}

H36M_CACHE_VERSION = 2
#: Video frame rate of Human3.6M; the protocols' frame steps are given in it.
H36M_FPS = 50


def parse_h36m_video(subject: str, filename: str) -> Optional[dict]:
    """Parse ``<Action>[ <n>].<camera>.mp4`` of subject ``subject``.

    Returns ``dict(key, action, camera)`` with ``key =
    f"{subject}_{action.replace(' ', '_')}.{camera}"`` (the Pavlakos image
    prefix, see ``dataset_protocols.md#distributed-forms``), or None if the
    name does not follow the pattern.
    """
    parts = filename.rsplit('.', 2)
    if len(parts) != 3 or parts[2].lower() != 'mp4':
        return None
    action, camera = parts[0], parts[1]
    if not action or not camera.isdigit():
        return None
    key = f"{subject}_{action.replace(' ', '_')}.{camera}"
    return dict(key=key, action=action, camera=camera)


def _scenario(key: str) -> str:
    """Token 1 of the part before the first '.' split at '_'
    (``dataset_protocols.md#pitfall-walking-only``): 'Walking' for
    'S9_Walking_1.54138969'."""
    tokens = key.split('.')[0].split('_')
    return tokens[1] if len(tokens) > 1 else ''


def _keep_action(key: str, actions: Optional[Sequence[str]]) -> bool:
    return actions is None or _scenario(key) in actions


def list_h36m_videos(root: str,
                     subjects: Sequence[str],
                     actions: Optional[Sequence[str]] = None,
                     on_invalid=None) -> List[dict]:
    """Videos ``root/S*/Videos/*.mp4`` of ``subjects``, sorted by key.

    ``_ALL*`` files are skipped. Files that are not ``<Action>.<camera>
    .mp4`` are passed to ``on_invalid(path, reason)`` (default: raise).
    Missing subject folders are reported once in the log.

    Returns:
        list[dict]: ``dict(key, action, camera, subject, path)``.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(
            f'Human3.6M root not found: {root} (expected the official '
            'layout S1/Videos/<Action>.<camera>.mp4 ... S11/Videos/...)')
    videos, missing = [], []
    for subject in subjects:
        folder = osp.join(root, subject, 'Videos')
        if not osp.isdir(folder):
            missing.append(subject)
            continue
        for name in sorted(os.listdir(folder)):
            if name.startswith('.') or name.startswith('_ALL'):
                continue
            path = osp.join(folder, name)
            info = parse_h36m_video(subject, name)
            if info is None:
                reason = ('not an .mp4 video'
                          if not name.lower().endswith('.mp4') else
                          'name does not follow <Action>.<camera>.mp4')
                if on_invalid is None:
                    raise ValueError(f'{path}: {reason}')
                on_invalid(path, reason)
                continue
            if not _keep_action(info['key'], actions):
                continue
            info.update(subject=subject, path=path)
            videos.append(info)
    if missing:
        print_log(
            f'Human3.6M: no Videos folder for subject(s) {missing} under '
            f'{root}; they are left out',
            logger='current',
            level=30)
    videos.sort(key=lambda v: v['key'])  # dataset_protocols.md#protocol-mim
    return videos


def h36m_cache_files(cache_dir: str, key: str) -> Tuple[str, str]:
    """``(npy, json)`` paths of the cache of video ``key``."""
    return (osp.join(cache_dir,
                     f'{key}.npy'), osp.join(cache_dir, f'{key}.json'))


def read_openstl_list(path: str) -> List[Tuple[str, str, int, int]]:
    """Parse an OpenSTL Human3.6M meta list.

    Lines ``images/S1_Directions.54138969_,1276,1346``.

    Returns:
        list[tuple]: ``(key, image_prefix, begin, lineno)`` with
        ``key = 'S1_Directions.54138969'``, ``image_prefix`` the first
        column and ``begin`` the 1-based raw frame of the first image.
    """
    out = []
    for lineno, line in list_file_lines(path, 'OpenSTL Human3.6M list'):
        cols = line.split(',')
        if len(cols) < 2 or not cols[0].endswith('_'):
            raise ValueError(
                f'{path}:{lineno}: expected "images/<prefix>_,<begin>,'
                f'<end>", got {line!r}')
        try:
            begin = int(cols[1])
        except ValueError:
            raise ValueError(f'{path}:{lineno}: begin frame must be an '
                             f'integer, got {cols[1]!r}') from None
        if begin < 1:
            raise ValueError(f'{path}:{lineno}: begin frame {begin} '
                             '< 1 (frames are numbered from 1)')
        key = osp.basename(cols[0])[:-1]
        out.append((key, cols[0], begin, lineno))
    return out


def cache_params_of(border_ratio: Optional[float],
                    size: int,
                    interpolation: str = 'linear') -> dict:
    """The geometry a frame cache applies: the centre crop's border ratio
    (None: full frame), the output ``scale`` ``[w, h]`` and the
    interpolation."""
    return dict(
        crop_border_ratio=border_ratio,
        scale=[int(size), int(size)],
        interpolation=interpolation)


_OPS_V1 = (re.compile(r'^CenterCropFrames\(border_ratio=([0-9.]+)\)$'),
           re.compile(r"^ResizeFrames\(scale=\((\d+), (\d+)\), "
                      r"interpolation='(\w+)'\)$"))


def read_cache_record(path: str) -> dict:
    """A cache record (.json), with ``cache_params`` also for records of
    format 1, which listed the applied steps as text (``ops``)."""
    with open(path, encoding='utf-8') as f:
        rec = json.load(f)
    if rec.get('version') == 1:
        params = dict(crop_border_ratio=None, scale=None, interpolation=None)
        for op in rec.get('ops', ()):
            crop, resize = (r.match(op) for r in _OPS_V1)
            if crop:
                params['crop_border_ratio'] = float(crop.group(1))
            elif resize:
                params['scale'] = [int(resize.group(1)), int(resize.group(2))]
                params['interpolation'] = resize.group(3)
            else:
                raise ValueError(f'unknown step {op!r} in the record')
        rec['cache_params'] = params
        rec['version'] = H36M_CACHE_VERSION
    if rec.get('version') != H36M_CACHE_VERSION:
        raise ValueError(f"cache format {rec.get('version')}, expected "
                         f'{H36M_CACHE_VERSION}')
    for key in ('key', 'file', 'num_images', 'num_raw_frames', 'raw_step',
                'cache_params'):
        if key not in rec:
            raise KeyError(key)
    return rec


class H36MProtocol(BaseClipProtocol):
    """Base of the Human3.6M protocols; see
    :class:`mmvp.datasets.H36MDataset` for the arguments."""

    protocol = ''

    def __init__(self,
                 source: str = 'video',
                 split: str = 'train',
                 subjects: Optional[Sequence[str]] = None,
                 actions: Optional[Sequence[str]] = None,
                 clip_stride: Optional[int] = None,
                 frame_step: Optional[int] = None,
                 image_dir: str = '',
                 cache_dir: str = '',
                 cache_params: Optional[dict] = None,
                 backend: str = 'decord',
                 frame_count_caps: Optional[Union[str, dict]] = None,
                 fps: float = H36M_FPS):
        super().__init__(fps)
        if source not in ('video', 'jpeg', 'cache'):
            raise ValueError(f"source must be 'video', 'jpeg' or 'cache', "
                             f'got {source!r}')
        cfg = H36M_PROTOCOLS[self.protocol]
        self.name = cfg['name']
        self.source = source
        self.subjects = tuple(subjects) if subjects is not None else None
        if actions is None:
            actions = cfg['actions']
        elif list(actions) == ['*']:
            actions = None
        self.actions = tuple(actions) if actions is not None else None
        self.raw_step = cfg['raw_step']
        self.frame_step = int(frame_step or cfg['frame_step'])
        self.clip_stride = (None if cfg['clip_stride'] is None else int(
            clip_stride or cfg['clip_stride'].get(split, 5)))
        self.image_dir = image_dir
        self.cache_dir = cache_dir
        if source == 'cache' and not cache_dir:
            raise ValueError("source='cache' needs cache_dir (written by "
                             'tools/dataset_converters/h36m_frame_cache.py)')
        self.cache_params = (None if cache_params is None else
                             self._norm_params(cache_params))
        self.backend = check_backend(backend)
        if isinstance(frame_count_caps, str):
            with open(frame_count_caps, encoding='utf-8') as f:
                frame_count_caps = json.load(f)
        self.frame_count_caps = dict(frame_count_caps or {})

    @staticmethod
    def _norm_params(params: dict) -> dict:
        params = dict(params)
        scale = params.get('scale')
        if isinstance(scale, int):
            params['scale'] = [scale, scale]
        elif scale is not None:
            params['scale'] = [int(v) for v in scale]
        return params

    def metainfo(self, dataset) -> dict:
        return dict(
            dataset='Human3.6M',
            source=self.source,
            subjects=self.subjects,
            actions=self.actions,
            raw_step=self.raw_step,
            frame_step=self.frame_step,
            frame_interval_raw=self.raw_step * self.frame_step,
            clip_stride=self.clip_stride,
            channel_order='RGB')

    # -- shared ----------------------------------------------------------
    def _cap(self, key: str, num_raw: int) -> int:
        return min(num_raw, int(self.frame_count_caps.get(key, num_raw)))

    def _video_source(self, ds, video: dict) -> Optional[int]:
        """Register a video (frame count capped, frame step scaled to the
        protocol's time)."""
        try:
            num_raw, fps = video_info(video['path'], self.backend)
        except VideoReadError as e:
            ds.invalid_read(video['path'], e)
            return None
        raw_step = self.raw_step * self.time_scale(video['path'], fps)
        return self._add_raw_source(
            ds,
            'video',
            video['key'],
            video['path'],
            raw_step,
            num_frames=self._cap(video['key'], num_raw),
            fps=fps)

    def _add_raw_source(self, ds, storage: str, key: str, path: str,
                        raw_step: int, **info) -> int:
        """Register a video or cache whose consecutive stored frames are
        ``raw_step`` raw frames apart (the protocol's step, scaled by the
        file's frame rate); a clip takes every ``frame_step``-th of them.
        ``info``: further :meth:`ClipDataset.add_source` keys."""
        return ds.add_source(
            storage=storage,
            name=key,
            path=path,
            frame_interval=raw_step * self.frame_step,
            raw_step=raw_step,
            **info)

    def _cache_entries(self, ds) -> Dict[str, dict]:
        """Videos in ``cache_dir`` (from their .json records)."""
        if not osp.isdir(self.cache_dir):
            raise FileNotFoundError(
                f'frame cache not found: {self.cache_dir} (write it with '
                'tools/dataset_converters/h36m_frame_cache.py)')
        entries = {}
        for name in sorted(os.listdir(self.cache_dir)):
            if not name.endswith('.json'):
                continue
            path = osp.join(self.cache_dir, name)
            try:
                rec = read_cache_record(path)
            except (ValueError, KeyError, TypeError) as e:
                ds.invalid(path, f'not a valid frame cache record ({e})')
                continue
            npy = osp.join(self.cache_dir, rec['file'])
            entries[rec['key']] = dict(rec, json=path, npy=npy)
        return entries

    def _cache_source(self, ds, rec: dict) -> Optional[int]:
        declared = self.cache_params
        if declared is not None and declared != rec['cache_params']:
            raise ValueError(
                f"{rec['json']}: the cache was made with "
                f"{rec['cache_params']}, the config declares cache_params="
                f'{declared}; rebuild the cache or change the config')
        try:
            shape, dtype = array_info(rec['npy'])
        except VideoReadError as e:
            ds.invalid_read(rec['npy'], e)
            return None
        want = int(rec['num_images'])
        if dtype != np.uint8 or len(shape) != 4 or shape[0] != want:
            ds.invalid(
                rec['npy'], f'cache array {dtype} {tuple(shape)} does not '
                f"match its record {rec['json']} ({want} uint8 images)")
            return None
        # a cache of a video at k times the protocol's frame rate holds
        # every (k * raw_step)th frame (the converter samples by time)
        raw_step = int(rec.get('raw_step', 0))
        if raw_step < 1 or raw_step % self.raw_step:
            ds.invalid(
                rec['json'], f"cache holds every {rec.get('raw_step')}th "
                f'frame; this protocol needs every {self.raw_step}th')
            return None
        return self._add_raw_source(
            ds,
            'cache',
            rec['key'],
            rec['npy'],
            raw_step,
            cache_step=raw_step,
            cache_params=rec['cache_params'],
            num_frames=self._cap(rec['key'], int(rec['num_raw_frames'])))

    def check_any(self, ds, data_list: list) -> List[dict]:
        if not data_list:
            what = {
                'video': f'videos under {ds.data_root}',
                'jpeg': f'images in {self.image_dir or ds.data_root}',
                'cache': f'cached videos in {self.cache_dir}'
            }[self.source]
            raise ValueError(
                f'Human3.6M ({self.protocol}, split={ds.split!r}, '
                f'subjects={self.subjects}, actions={self.actions}): no clip '
                f'found in {what}' +
                (f'; {ds.num_invalid} file(s) were invalid' if ds.
                 invalid_files else ''))
        return data_list


@CLIP_PROTOCOLS.register_module()
class H36MMimProtocol(H36MProtocol):
    """Protocol ``mim``: Walking only, subjects by split, every 2nd stored
    image, clip starts every 10 (train) / 5 (test) stored images
    (``dataset_protocols.md#protocol-mim``)."""

    protocol = 'mim'

    def __init__(self, split: str = 'train', subjects=None, **kwargs):
        if subjects is None:
            if split not in H36M_SUBJECTS:
                raise ValueError(
                    f"split must be 'train' or 'test' (or give subjects), "
                    f'got {split!r}')
            subjects = H36M_SUBJECTS[split]
        super().__init__(split=split, subjects=subjects, **kwargs)

    def load_data_list(self, ds) -> List[dict]:
        if self.source == 'jpeg':
            return self._load_jpeg(ds, self.image_dir or ds.data_root)
        if self.source == 'video':
            videos = list_h36m_videos(ds.data_root, self.subjects,
                                      self.actions, ds.invalid)
            sources = (self._video_source(ds, v) for v in videos)
        else:
            entries = self._cache_entries(ds)
            keys = sorted(
                k for k in entries if k.split('_')[0] in self.subjects
                and _keep_action(k, self.actions))
            sources = (self._cache_source(ds, entries[k]) for k in keys)
        data_list = []
        for idx in sources:
            if idx is None:
                continue
            source = ds.sources[idx]
            raw_step = source['raw_step']
            num_raw = source['num_frames']
            num_img = math.ceil(num_raw / raw_step)
            starts = clip_starts(num_img, ds.num_frames, self.frame_step,
                                 self.clip_stride)
            if not starts:
                span = self.frame_step * (ds.num_frames - 1) + 1
                ds.invalid(
                    source['path'], f'too short for one clip: {num_raw} '
                    f'frames = {num_img} stored images (every {raw_step}th '
                    f'frame), a clip of {ds.num_frames} frames needs {span} '
                    f'stored images = at least {raw_step * (span - 1) + 1} '
                    'frames')
            data_list.extend(
                dict(source_idx=idx, start=raw_step * s) for s in starts)
        return self.check_any(ds, data_list)

    def _scan_jpeg_folder(self, ds, folder: str) -> List[str]:
        """Sorted names of the split (steps 1-2 of
        ``dataset_protocols.md#the-official-loader``)."""
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'Human3.6M image folder not found: {folder} (expected flat '
                'JPEGs <Subj>_<Action>.<camera>_<frame6>.jpg)')
        kept = []
        for name in sorted(os.listdir(folder)):  # plain lexicographic sort
            if name.startswith('.'):
                continue
            path = osp.join(folder, name)
            if osp.splitext(name)[1].lower() not in IMAGE_EXTENSIONS:
                ds.invalid(path, 'not an image file')
                continue
            if parse_h36m_image(name) is None:
                ds.invalid(
                    path, 'name does not follow '
                    '<Subj>_<Action>.<camera>_<frame>.jpg')
                continue
            tokens = name.split('.')[0].split('_')
            subject, scenario = tokens[0], tokens[1] if len(tokens) > 1 else ''
            if self.subjects is not None and subject not in self.subjects:
                continue
            if self.actions is not None and scenario not in self.actions:
                continue
            kept.append(name)
        return kept

    def _load_jpeg(self, ds, folder: str) -> List[dict]:
        """The official index over the flat folder, exactly."""
        names = self._scan_jpeg_folder(ds, folder)
        indices = mim_flat_clip_index(
            names,
            seq_len=ds.num_frames,
            interval=self.frame_step,
            stride=self.clip_stride,
            raw_step=self.raw_step)
        # one 'frames' source per video (prefix.camera)
        starts, keys = [], []
        for i, name in enumerate(names):
            key = name.rsplit('_', 1)[0]
            if not keys or key != keys[-1]:
                keys.append(key)
                starts.append(i)
        bounds = starts + [len(names)]
        first = len(ds.sources)
        for k, key in enumerate(keys):
            ds.add_source(
                storage='frames',
                name=key,
                path=folder,
                names=np.array(names[bounds[k]:bounds[k + 1]]),
                frame_interval=self.frame_step)
        data_list = []
        g = 0
        for index in indices:
            # accepted clips never straddle two videos (same prefix and
            # camera at both ends of a sorted range)
            while g + 1 < len(starts) and starts[g + 1] <= index:
                g += 1
            data_list.append(
                dict(source_idx=first + g, start=index - starts[g]))
        return self.check_any(ds, data_list)


@CLIP_PROTOCOLS.register_module()
class H36MOpenSTLProtocol(H36MProtocol):
    """Protocol ``openstl``: the clips of OpenSTL's meta list (the
    dataset's ``ann_file``), raw frames ``(b - 1) + 5 k``, all actions
    (``dataset_protocols.md#protocol-openstl``)."""

    protocol = 'openstl'

    def __init__(self, subjects=None, clip_stride=None, **kwargs):
        if subjects is not None or clip_stride is not None:
            raise ValueError("protocol='openstl' takes its clips from "
                             'ann_file; subjects / clip_stride do not apply')
        super().__init__(**kwargs)

    def load_data_list(self, ds) -> List[dict]:
        if not ds.ann_file:
            raise ValueError(
                "protocol='openstl' needs ann_file: OpenSTL's meta list "
                '(tools/prepare_data/meta/human/{train,test}.txt)')
        entries = read_openstl_list(ds.ann_file)
        if self.source == 'jpeg':
            lookup, locate = self._jpeg_lookup(ds, entries)
        else:
            lookup, locate = self._file_lookup(ds), self._locate_raw
        data_list = []
        for key, _, begin, lineno in entries:
            where = f'{ds.ann_file}:{lineno}'
            if not _keep_action(key, self.actions):
                continue
            src = lookup(key, where)
            if src is None:
                continue
            # 1-based raw frame -> 0-based raw index
            # (dataset_protocols.md#frame-numbering)
            start = locate(ds, src, begin - 1, where)
            if start is not None:
                data_list.append(dict(source_idx=src, start=start))
        return self.check_any(ds, data_list)

    def _locate_raw(self, ds, src: int, start: int,
                    where: str) -> Optional[int]:
        source = ds.sources[src]
        # list frames are 50 fps frames; a video sampled by time (another
        # frame rate, see BaseClipProtocol.time_scale) scales them
        start *= source.get('raw_step', self.raw_step) // self.raw_step
        last = ds.frame_inds(source, start)[-1]
        if last >= source['num_frames']:
            ds.invalid(
                where, f'clip at raw frame {start} needs frame {last} of '
                f"{source['path']}, which has {source['num_frames']}")
            return None
        return start

    def _file_lookup(self, ds):
        """Sources of the listed videos or cache entries, opened once."""
        if self.source == 'video':
            videos = list_h36m_videos(ds.data_root, ALL_SUBJECTS, None,
                                      ds.invalid)
            by_key = {v['key']: v for v in videos}
        else:
            by_key = self._cache_entries(ds)
        opened: Dict[str, Optional[int]] = {}

        def lookup(key, where):
            if key not in opened:
                rec = by_key.get(key)
                if rec is None:
                    ds.invalid(where, f'no video or cache entry for {key}')
                    opened[key] = None
                elif self.source == 'video':
                    opened[key] = self._video_source(ds, rec)
                else:
                    opened[key] = self._cache_source(ds, rec)
            return opened[key]

        return lookup

    def _jpeg_lookup(self, ds, entries):
        """OpenSTL's own layout ``<root>/images/<prefix>_<frame6>.jpg``,
        read at raw frames ``b, b + 5, ...`` (1-based file numbers)."""
        folder = self.image_dir or ds.data_root
        prefix_of = {key: prefix for key, prefix, _, _ in entries}
        groups: Dict[str, Dict[int, str]] = {}
        opened: Dict[str, Optional[int]] = {}
        listed = set()

        def lookup(key, where):
            if key in opened:
                return opened[key]
            idx = None
            img_dir = osp.join(folder, osp.dirname(prefix_of[key]))
            if img_dir not in listed:
                if not osp.isdir(img_dir):
                    raise FileNotFoundError(
                        f'OpenSTL Human3.6M image folder not found: '
                        f'{img_dir}')
                listed.add(img_dir)
                for name in sorted(os.listdir(img_dir)):
                    parsed = parse_h36m_image(name)
                    if parsed is not None:
                        groups.setdefault(f'{parsed[0]}.{parsed[1]}',
                                          {})[parsed[2]] = name
            frames = groups.get(key)
            if not frames:
                ds.invalid(where, f'no images of {key} in {img_dir}')
            else:
                nums = sorted(frames)
                idx = ds.add_source(
                    storage='frames',
                    name=key,
                    path=img_dir,
                    names=np.array([frames[n] for n in nums]),
                    numbers=np.array(nums),
                    frame_interval=self.frame_step)
            opened[key] = idx
            return idx

        def locate(ds, src, start, where):
            # images are numbered raw + 1; a clip is consecutive images
            source = ds.sources[src]
            nums = source['numbers']
            want = np.array([
                start + 1 + self.raw_step * self.frame_step * k
                for k in range(ds.num_frames)
            ])
            pos = np.minimum(np.searchsorted(nums, want), len(nums) - 1)
            found = nums[pos] == want
            if not found.all():
                miss = int(want[int(np.argmin(found))])
                ds.invalid(
                    where, f"image {source['name']}_{miss:06d}.jpg not found "
                    f"in {source['path']}")
                return None
            steps = np.arange(ds.num_frames) * self.frame_step
            if not (pos == pos[0] + steps).all():
                ds.invalid(
                    where, f"images of {source['name']} from frame "
                    f'{start + 1} are not every {self.raw_step}th frame')
                return None
            return int(pos[0])

        return lookup, locate
