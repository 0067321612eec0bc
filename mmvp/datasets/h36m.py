# Copyright (c) mmvp contributors. All rights reserved.
"""Human3.6M for video prediction (spec/data_and_metrics.md section 1).

Two benchmarks, kept apart by name:

* ``protocol='mim'`` (MIM / MotionRNN, the paper's numbers): Walking only,
  train S1, S5, S6, S7, S8 / test S9, S11, every 2nd stored image (10 raw
  frames = 0.2 s apart), clip starts every 10 (train) / 5 (test) stored
  images, centre-half crop, 128 x 128 (INTER_LINEAR). 4 -> 4 frames.
* ``protocol='openstl'`` (OpenSTL / STRPM lists): all actions, clips given
  by the meta lists ``images/<prefix>_,<b>,<b+70>``, raw frames
  ``(b - 1) + 5k``, no crop, 256 x 256. RGB here; OpenSTL itself feeds BGR.

Three ways to read the same frames (``source``):

* ``'video'``: the official ``S*/Videos/*.mp4`` (decord, OpenCV fallback);
  stored image ``i`` is raw frame ``5 i`` (spec 1.3).
* ``'jpeg'``: the flat JPEG folder of the MIM / MotionRNN code
  (``S9_Walking_1.54138969_000006.jpg``, every 5th frame, 1-based); the
  ``mim`` index is built exactly as the official provider builds it (spec
  1.1 step 4).
* ``'cache'``: per-video uint8 ``.npy`` files written by
  ``tools/dataset_converters/h36m_frame_cache.py`` (already cropped and
  resized; memory-mapped).

The clip index uses metadata only (frame counts, file names).
"""
import json
import math
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log

from mmvp.registry import DATASETS
from .base_clip_dataset import BaseClipDataset
from .clip_index import clip_starts, mim_flat_clip_index, parse_h36m_image
from .video_io import (IMAGE_EXTENSIONS, VideoReadError, array_info,
                       check_backend, count_video_frames)

__all__ = [
    'H36MDataset', 'H36M_SUBJECTS', 'H36M_PROTOCOLS', 'parse_h36m_video',
    'list_h36m_videos', 'h36m_cache_files', 'read_openstl_list',
    'H36M_CACHE_VERSION'
]

# spec 1.1 step 2
H36M_SUBJECTS = {
    'train': ('S1', 'S5', 'S6', 'S7', 'S8'),
    'test': ('S9', 'S11'),
}
ALL_SUBJECTS = H36M_SUBJECTS['train'] + H36M_SUBJECTS['test']

H36M_PROTOCOLS = {
    # spec 1.1 / 1.3: every 2nd stored image, starts every 10 / 5
    'mim':
    dict(
        actions=('Walking', ),
        raw_step=5,
        frame_step=2,
        clip_stride=dict(train=10, test=5),
        name='h36m_mim'),
    # spec 1.2 / 1.3: every stored image, starts from the meta lists
    'openstl':
    dict(
        actions=None,
        raw_step=5,
        frame_step=1,
        clip_stride=None,
        name='h36m_openstl'),
}

H36M_CACHE_VERSION = 1


def parse_h36m_video(subject: str, filename: str) -> Optional[dict]:
    """Parse ``<Action>[ <n>].<camera>.mp4`` of subject ``subject``.

    Returns ``dict(key, action, camera)`` with ``key =
    f"{subject}_{action.replace(' ', '_')}.{camera}"`` (the Pavlakos image
    prefix, spec 1.2), or None if the name does not follow the pattern.
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
    """Token 1 of the part before the first '.' split at '_' (spec 1.1
    step 2): 'Walking' for 'S9_Walking_1.54138969'."""
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
    videos.sort(key=lambda v: v['key'])  # spec 1.3 step 2
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
    if not osp.isfile(path):
        raise FileNotFoundError(f'OpenSTL Human3.6M list not found: {path}')
    out = []
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
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


@DATASETS.register_module()
class H36MDataset(BaseClipDataset):
    """Human3.6M clips for video prediction.

    See the module docstring for the protocols and sources. Frames reach
    the pipeline uncropped at native size (``source='video'`` /
    ``'jpeg'``) or cropped and resized (``'cache'``); the pipeline's
    :class:`CenterCropFrames` / :class:`ResizeFrames` steps do the
    protocol's geometry and skip themselves on cached frames. Configs:
    ``configs/_base_/datasets/h36m_mim_walking128_4to4.py`` and
    ``h36m_openstl256_4to4.py``.

    Args:
        data_root (str): Folder with ``S1/Videos/*.mp4`` ... (``'video'``),
            the flat JPEG folder (``'jpeg'``, unless ``image_dir``), or
            the root that ``ann_file`` paths are relative to.
        split (str): ``'train'`` or ``'test'``: the subjects (``mim``) and
            the default clip stride (10 / 5 stored images).
        protocol (str): ``'mim'`` (default) or ``'openstl'``.
        source (str): ``'video'`` (default), ``'jpeg'`` or ``'cache'``.
        in_frames (int): Defaults to 4.
        out_frames (int): Defaults to 4.
        subjects (Sequence[str], optional): Override the split's subjects
            (``mim``), e.g. ``['S8']`` for a monitoring split.
        actions (Sequence[str], optional): Scenario names kept (token 1 of
            the key, so ``'Walking'`` keeps ``Walking_1`` but not
            ``WalkDog``). Defaults to ``('Walking',)`` for ``mim`` and
            all for ``openstl``. ``['*']`` keeps all.
        clip_stride (int, optional): Stored images between clip starts
            (``mim``). Defaults to 10 (train) / 5 (other splits).
        frame_step (int, optional): Stored images between the frames of
            a clip. Defaults to 2 (``mim``) / 1 (``openstl``).
        ann_file (str): OpenSTL meta list (``openstl``; required), e.g.
            ``meta/human/train.txt``, relative to ``data_root``.
        image_dir (str): The JPEG folder for ``source='jpeg'`` (default:
            ``data_root``).
        cache_dir (str): The frame cache for ``source='cache'``.
        backend (str): How frame counts are read at index time:
            ``'decord'`` (``len``; OpenCV fallback) or ``'opencv'``.
        frame_count_caps (dict | str, optional): ``{key: frames}`` (or a
            JSON file of it) capping a video's frame count, e.g. by the
            length of its pose annotation (``D2_Positions``), where the
            Pavlakos images stop (spec 1.3 step 3). Defaults to None.
        skip_invalid (bool): Skip unusable videos / images (counted and
            logged once) instead of raising. Defaults to False.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``.
    """

    def __init__(self,
                 data_root: str = 'data/h36m',
                 split: str = 'train',
                 protocol: str = 'mim',
                 source: str = 'video',
                 in_frames: int = 4,
                 out_frames: int = 4,
                 subjects: Optional[Sequence[str]] = None,
                 actions: Optional[Sequence[str]] = None,
                 clip_stride: Optional[int] = None,
                 frame_step: Optional[int] = None,
                 ann_file: str = '',
                 image_dir: str = '',
                 cache_dir: str = '',
                 backend: str = 'decord',
                 frame_count_caps: Optional[Union[str, dict]] = None,
                 skip_invalid: bool = False,
                 **kwargs):
        if protocol not in H36M_PROTOCOLS:
            raise ValueError(f'unknown Human3.6M protocol {protocol!r}; '
                             f'expected one of {tuple(H36M_PROTOCOLS)}')
        if source not in ('video', 'jpeg', 'cache'):
            raise ValueError(f"source must be 'video', 'jpeg' or 'cache', "
                             f'got {source!r}')
        cfg = H36M_PROTOCOLS[protocol]
        if protocol == 'mim' and subjects is None:
            if split not in H36M_SUBJECTS:
                raise ValueError(
                    f"split must be 'train' or 'test' (or give subjects), "
                    f'got {split!r}')
            subjects = H36M_SUBJECTS[split]
        if protocol == 'openstl':
            if not ann_file:
                raise ValueError(
                    "protocol='openstl' needs ann_file: OpenSTL's meta list "
                    '(tools/prepare_data/meta/human/{train,test}.txt)')
            if subjects is not None or clip_stride is not None:
                raise ValueError("protocol='openstl' takes its clips from "
                                 'ann_file; subjects / clip_stride do not '
                                 'apply')
        self.protocol = protocol
        self.source = source
        self.subjects = tuple(subjects) if subjects is not None else None
        if actions is None:
            actions = cfg['actions']
        elif list(actions) == ['*']:
            actions = None
        self.actions = tuple(actions) if actions is not None else None
        self.raw_step = cfg['raw_step']
        self.frame_step = int(frame_step or cfg['frame_step'])
        if cfg['clip_stride'] is not None:
            self.clip_stride = int(clip_stride
                                   or cfg['clip_stride'].get(split, 5))
        else:
            self.clip_stride = None
        self.image_dir = image_dir
        self.cache_dir = cache_dir
        self.backend = check_backend(backend)
        if isinstance(frame_count_caps, str):
            with open(frame_count_caps, encoding='utf-8') as f:
                frame_count_caps = json.load(f)
        self.frame_count_caps = dict(frame_count_caps or {})
        if source == 'cache' and not cache_dir:
            raise ValueError("source='cache' needs cache_dir (written by "
                             'tools/dataset_converters/h36m_frame_cache.py)')
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
        return H36M_PROTOCOLS[self.protocol]['name']

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        meta.update(
            dataset='Human3.6M',
            source=self.source,
            subjects=self.subjects,
            actions=self.actions,
            raw_step=self.raw_step,
            frame_step=self.frame_step,
            frame_interval_raw=self.raw_step * self.frame_step,
            clip_stride=self.clip_stride,
            channel_order='RGB')
        return meta

    # -- index -----------------------------------------------------------
    def load_data_list(self) -> List[dict]:
        if self.source == 'jpeg':
            folder = self.image_dir or self.data_root
            if self.protocol == 'mim':
                return self._load_mim_jpeg(folder)
            return self._load_openstl_jpeg(folder)
        if self.protocol == 'mim':
            if self.source == 'video':
                return self._load_mim_video()
            return self._load_mim_cache()
        return self._load_openstl_files()

    def _cap(self, key: str, num_raw: int) -> int:
        return min(num_raw, int(self.frame_count_caps.get(key, num_raw)))

    def _count(self, path: str, key: str) -> Optional[int]:
        try:
            return self._cap(key, count_video_frames(path, self.backend))
        except VideoReadError as e:
            self.invalid_read(path, e)
            return None

    def _too_short(self, path: str, num_raw: int, num_img: int) -> None:
        span = self.frame_step * (self.num_frames - 1) + 1
        self.invalid(
            path, f'too short for one clip: {num_raw} frames = {num_img} '
            f'stored images (every {self.raw_step}th frame), a clip of '
            f'{self.num_frames} frames needs {span} stored images = at '
            f'least {self.raw_step * (span - 1) + 1} frames')

    def _mim_clips(self, source_idx: int, num_img: int) -> List[dict]:
        starts = clip_starts(num_img, self.num_frames, self.frame_step,
                             self.clip_stride)
        return [
            dict(source_idx=source_idx, start=self.raw_step * s)
            for s in starts
        ]

    def _load_mim_video(self) -> List[dict]:
        """Spec 1.3 steps 1-4."""
        data_list = []
        videos = list_h36m_videos(self.data_root, self.subjects, self.actions,
                                  self.invalid)
        for video in videos:
            num_raw = self._count(video['path'], video['key'])
            if num_raw is None:
                continue
            num_img = math.ceil(num_raw / self.raw_step)
            idx = self.add_source(
                source_type='video',
                name=video['key'],
                path=video['path'],
                frame_interval=self.raw_step * self.frame_step,
                num_frames=num_raw)
            clips = self._mim_clips(idx, num_img)
            if not clips:
                self._too_short(video['path'], num_raw, num_img)
            data_list.extend(clips)
        self._check_any(data_list)
        return data_list

    def _cache_entries(self) -> Dict[str, dict]:
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
                with open(path, encoding='utf-8') as f:
                    rec = json.load(f)
                key = rec['key']
                npy = osp.join(self.cache_dir, rec['file'])
                if rec.get('version') != H36M_CACHE_VERSION:
                    raise ValueError(f"cache format {rec.get('version')}, "
                                     f'expected {H36M_CACHE_VERSION}')
            except (ValueError, KeyError, TypeError) as e:
                self.invalid(path, f'not a valid frame cache record ({e})')
                continue
            entries[key] = dict(rec, json=path, npy=npy)
        return entries

    def _cache_source(self, rec: dict) -> Optional[int]:
        try:
            shape, dtype = array_info(rec['npy'])
        except VideoReadError as e:
            self.invalid_read(rec['npy'], e)
            return None
        want = int(rec['num_images'])
        if dtype != np.uint8 or len(shape) != 4 or shape[0] != want:
            self.invalid(
                rec['npy'], f'cache array {dtype} {tuple(shape)} does not '
                f"match its record {rec['json']} ({want} uint8 images)")
            return None
        if int(rec.get('raw_step', 0)) != self.raw_step:
            self.invalid(
                rec['json'], f"cache holds every {rec.get('raw_step')}th "
                f'frame; this protocol needs every {self.raw_step}th')
            return None
        return self.add_source(
            source_type='cache',
            name=rec['key'],
            path=rec['npy'],
            frame_interval=self.raw_step * self.frame_step,
            cache_step=self.raw_step,
            cache_ops=list(rec.get('ops', ())),
            num_frames=self._cap(rec['key'], int(rec['num_raw_frames'])))

    def _load_mim_cache(self) -> List[dict]:
        data_list = []
        entries = self._cache_entries()
        keys = sorted(k for k, rec in entries.items()
                      if k.split('_')[0] in self.subjects
                      and _keep_action(k, self.actions))
        for key in keys:
            rec = entries[key]
            idx = self._cache_source(rec)
            if idx is None:
                continue
            num_raw = self.sources[idx]['num_frames']
            num_img = math.ceil(num_raw / self.raw_step)
            clips = self._mim_clips(idx, num_img)
            if not clips:
                self._too_short(rec['npy'], num_raw, num_img)
            data_list.extend(clips)
        self._check_any(data_list)
        return data_list

    def _scan_jpeg_folder(self, folder: str) -> List[str]:
        """Spec 1.1 steps 1-2: sorted names of the split (checked)."""
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
                self.invalid(path, 'not an image file')
                continue
            if parse_h36m_image(name) is None:
                self.invalid(
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

    def _group_sources(self, folder: str, names: List[str]) -> List[int]:
        """One 'frames' source per video (prefix.camera); returns the
        group start positions in ``names`` and registers the sources."""
        starts, keys = [], []
        for i, name in enumerate(names):
            key = name.rsplit('_', 1)[0]
            if not keys or key != keys[-1]:
                keys.append(key)
                starts.append(i)
        bounds = starts + [len(names)]
        for k, key in enumerate(keys):
            self.add_source(
                source_type='frames',
                name=key,
                path=folder,
                names=np.array(names[bounds[k]:bounds[k + 1]]),
                frame_interval=self.frame_step)
        return starts

    def _load_mim_jpeg(self, folder: str) -> List[dict]:
        """Spec 1.1 exactly: the official index over the flat folder."""
        names = self._scan_jpeg_folder(folder)
        indices = mim_flat_clip_index(
            names,
            seq_len=self.num_frames,
            interval=self.frame_step,
            stride=self.clip_stride,
            raw_step=self.raw_step)
        group_starts = self._group_sources(folder, names)
        data_list = []
        g = 0
        for index in indices:
            # accepted clips never straddle two videos (same prefix and
            # camera at both ends of a sorted range)
            while g + 1 < len(group_starts) and group_starts[g + 1] <= index:
                g += 1
            data_list.append(dict(source_idx=g, start=index - group_starts[g]))
        self._check_any(data_list)
        return data_list

    # -- openstl ---------------------------------------------------------
    def _openstl_clips(self, lookup, locate) -> List[dict]:
        """Clips of the meta list; ``lookup(key, where)`` gives the source
        index, ``locate(src, raw_start, where)`` the clip start in the
        source's frame units (or None)."""
        data_list = []
        for key, _, begin, lineno in read_openstl_list(self.ann_file):
            where = f'{self.ann_file}:{lineno}'
            if not _keep_action(key, self.actions):
                continue
            src = lookup(key, where)
            if src is None:
                continue
            # 1-based raw frame -> 0-based raw index (spec 1.3)
            start = locate(src, begin - 1, where)
            if start is not None:
                data_list.append(dict(source_idx=src, start=start))
        self._check_any(data_list)
        return data_list

    def _locate_raw(self, src: int, start: int, where: str) -> Optional[int]:
        source = self.sources[src]
        last = self.frame_inds(source, start)[-1]
        if last >= source['num_frames']:
            self.invalid(
                where, f"clip at raw frame {start} needs frame {last} of "
                f"{source['path']}, which has {source['num_frames']}")
            return None
        return start

    def _load_openstl_files(self) -> List[dict]:
        """Clips of the OpenSTL meta list from videos or the cache."""
        if self.source == 'video':
            videos = list_h36m_videos(self.data_root, ALL_SUBJECTS, None,
                                      self.invalid)
            by_key = {v['key']: v for v in videos}
        else:
            by_key = self._cache_entries()
        opened: Dict[str, Optional[int]] = {}

        def lookup(key, where):
            if key in opened:
                return opened[key]
            rec = by_key.get(key)
            idx = None
            if rec is None:
                self.invalid(where, f'no video or cache entry for {key}')
            elif self.source == 'video':
                num_raw = self._count(rec['path'], key)
                if num_raw is not None:
                    idx = self.add_source(
                        source_type='video',
                        name=key,
                        path=rec['path'],
                        frame_interval=self.raw_step * self.frame_step,
                        num_frames=num_raw)
            else:
                idx = self._cache_source(rec)
            opened[key] = idx
            return idx

        return self._openstl_clips(lookup, self._locate_raw)

    def _load_openstl_jpeg(self, folder: str) -> List[dict]:
        """OpenSTL's own layout: ``<data_root>/images/<prefix>_<frame6>.jpg``
        read at raw frames ``b, b + 5, ...`` (1-based file numbers)."""
        groups: Dict[str, Dict[int, str]] = {}
        opened: Dict[str, Optional[int]] = {}
        listed = {}

        def lookup(key, where):
            if key in opened:
                return opened[key]
            idx = None
            img_dir = osp.join(folder, osp.dirname(self._prefix_of[key]))
            if img_dir not in listed:
                if not osp.isdir(img_dir):
                    raise FileNotFoundError(
                        f'OpenSTL Human3.6M image folder not found: '
                        f'{img_dir}')
                listed[img_dir] = True
                for name in sorted(os.listdir(img_dir)):
                    parsed = parse_h36m_image(name)
                    if parsed is None:
                        continue
                    groups.setdefault(f'{parsed[0]}.{parsed[1]}',
                                      {})[parsed[2]] = name
            frames = groups.get(key)
            if not frames:
                self.invalid(where, f'no images of {key} in {img_dir}')
            else:
                nums = sorted(frames)
                idx = self.add_source(
                    source_type='frames',
                    name=key,
                    path=img_dir,
                    names=np.array([frames[n] for n in nums]),
                    numbers=np.array(nums),
                    frame_interval=self.frame_step)
            opened[key] = idx
            return idx

        def locate(src, start, where):
            # images are numbered raw + 1; a clip is consecutive images
            source = self.sources[src]
            nums = source['numbers']
            want = np.array([
                start + 1 + self.raw_step * self.frame_step * k
                for k in range(self.num_frames)
            ])
            pos = np.minimum(np.searchsorted(nums, want), len(nums) - 1)
            found = nums[pos] == want
            if not found.all():
                miss = int(want[int(np.argmin(found))])
                self.invalid(
                    where, f"image {source['name']}_{miss:06d}.jpg not found "
                    f"in {source['path']}")
                return None
            steps = np.arange(self.num_frames) * self.frame_step
            if not (pos == pos[0] + steps).all():
                self.invalid(
                    where, f"images of {source['name']} from frame "
                    f'{start + 1} are not every {self.raw_step}th frame')
                return None
            return int(pos[0])

        self._prefix_of = {
            key: prefix
            for key, prefix, _, _ in read_openstl_list(self.ann_file)
        }
        try:
            return self._openstl_clips(lookup, locate)
        finally:
            del self._prefix_of

    def _check_any(self, data_list: list) -> None:
        if not data_list:
            what = {
                'video': f'videos under {self.data_root}',
                'jpeg': f'images in {self.image_dir or self.data_root}',
                'cache': f'cached videos in {self.cache_dir}'
            }[self.source]
            raise ValueError(
                f'Human3.6M ({self.protocol}, split={self.split!r}, '
                f'subjects={self.subjects}, actions={self.actions}): no clip '
                f'found in {what}' +
                (f'; {self.num_invalid} file(s) were invalid' if self.
                 invalid_files else ''))
