# Copyright (c) mmvp contributors. All rights reserved.
"""Decode transforms: one per storage format, as in mmaction2.

Every decode transform reads ``results['filename']`` (the video file,
frame folder, cache file or array file) and ``results['frame_inds']``
(1-D int array of 0-based positions in the storage's frame order) and
writes ``results[out_key]`` (uint8 ``[T, H, W, C]``, RGB for colour),
``ori_shape`` and ``img_shape``. Files are read through
:mod:`mmengine.fileio`, so ``backend_args`` selects local disk, S3, HTTP,
... for every dataset. See ``docs/en/advanced_guides/customize_dataset.md``.
"""
import io
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import List, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get, get_file_backend, list_dir_or_file
from mmengine.fileio.backends import LocalBackend

from mmvp.registry import TRANSFORMS
from .. import video_io
from ..video_io import (ARRAY_READ_ERRORS, DECODE_ERRORS, IMAGE_EXTENSIONS,
                        VideoReadError, check_backend, check_decoded_image,
                        read_array_frames, read_video_frames, stack_images)

__all__ = [
    'BaseDecode', 'DecordDecode', 'OpenCVDecode', 'FrameFolderDecode',
    'FrameCacheDecode', 'ArrayDecode', 'LoadVideoFrames', 'DECODE_TRANSFORMS',
    'STORAGE_DECODERS', 'read_frame_cache'
]

COLOR_TYPES = ('color', 'grayscale', 'unchanged')


def _is_local(path: str, backend_args: Optional[dict]) -> bool:
    return isinstance(
        get_file_backend(path, backend_args=backend_args), LocalBackend)


def _fetch(path: str, backend_args: Optional[dict]) -> bytes:
    try:
        data = get(path, backend_args=backend_args)
    except (OSError, ValueError) as e:
        raise VideoReadError(f'{path}: cannot read the file ({e})') from None
    if not data:
        raise VideoReadError(f'{path}: empty file (0 bytes)')
    return data


def _frame_inds(results: dict, name: str) -> np.ndarray:
    if 'filename' not in results or 'frame_inds' not in results:
        raise KeyError(f"{name}: results need 'filename' and 'frame_inds' "
                       f'(keys: {sorted(results)})')
    inds = np.asarray(results['frame_inds'])
    if inds.ndim != 1 or inds.size == 0 or not np.issubdtype(
            inds.dtype, np.integer):
        raise ValueError(f"{name}: {results['filename']}: frame_inds must "
                         'be a non-empty 1-D int array, got '
                         f'{results["frame_inds"]!r}')
    return inds.astype(np.int64)


def read_frame_cache(path: str, indices) -> np.ndarray:
    """Rows ``indices`` of a uint8 frame cache ``[N, H, W, C]`` (.npy,
    memory-mapped; see ``tools/dataset_converters/h36m_frame_cache.py``)."""
    try:
        arr = np.load(path, mmap_mode='r', allow_pickle=False)
    except FileNotFoundError:
        raise VideoReadError(f'{path}: frame cache file not found') from None
    except ARRAY_READ_ERRORS as e:
        raise VideoReadError(f'{path}: not a readable .npy cache ({e})')
    return _cache_rows(arr, path, indices)


def _cache_rows(arr: np.ndarray, path: str, indices) -> np.ndarray:
    if arr.dtype != np.uint8 or arr.ndim != 4:
        raise VideoReadError(f'{path}: cache of dtype {arr.dtype} and shape '
                             f'{arr.shape}; uint8 [N, H, W, C] expected')
    indices = [int(i) for i in indices]
    if min(indices) < 0 or max(indices) >= arr.shape[0]:
        raise VideoReadError(f'{path}: cached frame {max(indices)} '
                             f'requested, the cache holds {arr.shape[0]}')
    return np.array(arr[indices])


class BaseDecode(BaseTransform):
    """Base of the decode transforms.

    Subclasses implement :meth:`read`, which returns the frames
    ``frame_inds`` of ``filename`` as an array ``[T, H, W(, C)]``.

    Args:
        color_type (str): ``'color'`` (3 channels, RGB), ``'grayscale'``
            (1 channel) or ``'unchanged'``.
        out_key (str): Key to store the frames under. Use another key for
            raw values that a later step encodes (radar arrays); uint8 is
            only required for ``'frames'``.
        backend_args (dict, optional): :mod:`mmengine.fileio` backend
            arguments (e.g. ``dict(backend='petrel')``). Defaults to None
            (the backend is inferred from the path).
    """

    def __init__(self,
                 color_type: str = 'color',
                 out_key: str = 'frames',
                 backend_args: Optional[dict] = None):
        if color_type not in COLOR_TYPES:
            raise ValueError(f'color_type must be one of {COLOR_TYPES}, got '
                             f'{color_type!r}')
        self.color_type = color_type
        self.out_key = out_key
        self.backend_args = backend_args.copy() if backend_args else None

    def read(self, results: dict, inds: np.ndarray) -> np.ndarray:
        """The frames ``inds`` of ``results['filename']``: ``[T, H, W(,
        C)]``. Each loader defines it (decord, OpenCV, frame folders...)."""
        raise NotImplementedError(
            f'{type(self).__name__} must define read(results, inds)')

    def _convert(self, frames: np.ndarray, where: str) -> np.ndarray:
        if frames.ndim == 3:
            frames = frames[..., None]
        if self.color_type == 'unchanged':
            return frames
        c = frames.shape[-1]
        if self.color_type == 'grayscale':
            if c == 1:
                return frames
            if c in (3, 4) and frames.dtype == np.uint8:
                code = (cv2.COLOR_RGB2GRAY if c == 3 else cv2.COLOR_RGBA2GRAY)
                return np.stack([cv2.cvtColor(f, code) for f in frames])[...,
                                                                         None]
        else:
            if c == 3:
                return frames
            if c == 1 and frames.dtype == np.uint8:
                return np.repeat(frames, 3, axis=-1)
            if c == 4:
                return np.ascontiguousarray(frames[..., :3])
        raise VideoReadError(f'{where}: cannot convert {c}-channel '
                             f'{frames.dtype} frames to {self.color_type!r}')

    def transform(self, results: dict) -> dict:
        inds = _frame_inds(results, self.__class__.__name__)
        where = str(results['filename'])
        frames = self.read(results, inds)
        if self.out_key == 'frames':
            if frames.dtype != np.uint8:
                raise VideoReadError(
                    f'{where}: {frames.dtype} frames; uint8 expected (load '
                    'raw values under another out_key and encode them)')
            frames = self._convert(frames, where)
        elif frames.ndim == 3:
            frames = frames[..., None]
        results[self.out_key] = frames
        results['ori_shape'] = tuple(frames.shape[1:3])
        results['img_shape'] = tuple(frames.shape[1:3])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(color_type={self.color_type!r}, '
                f'out_key={self.out_key!r}, '
                f'backend_args={self.backend_args!r})')


@TRANSFORMS.register_module()
class DecordDecode(BaseDecode):
    """Frames of a video decoded with decord (seeking to the requested
    frames only); on decord's errors, or without decord, the video is read
    with OpenCV (:class:`OpenCVDecode`). Local videos are opened by path,
    others fetched with :func:`mmengine.fileio.get` and decoded from
    memory."""

    backend = 'decord'

    def read(self, results: dict, inds: np.ndarray) -> np.ndarray:
        path = results['filename']
        if _is_local(path, self.backend_args):
            return read_video_frames(path, inds, self.backend)
        return self._read_bytes(path, _fetch(path, self.backend_args), inds)

    def _read_bytes(self, path: str, data: bytes,
                    inds: np.ndarray) -> np.ndarray:
        if self.backend == 'decord' and video_io.decord_available():
            try:
                video_io._quiet_decord()
                vr = video_io.decord.VideoReader(
                    io.BytesIO(data),
                    ctx=video_io.decord.cpu(0),
                    num_threads=1)
                video_io._check_indices(path, list(inds), len(vr))
                uniq = sorted(set(int(i) for i in inds))
                batch = vr.get_batch(uniq).asnumpy()
                pos = {j: k for k, j in enumerate(uniq)}
                return np.ascontiguousarray(batch[[pos[int(i)] for i in inds]])
            except DECODE_ERRORS as e:
                if isinstance(e, VideoReadError):
                    raise
                video_io._log_fallback(path, e)
        # OpenCV reads files only: spool the bytes to a temporary file
        suffix = osp.splitext(path)[1]
        fd, tmp = tempfile.mkstemp(suffix=suffix)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
            try:
                return read_video_frames(tmp, inds, 'opencv')
            except VideoReadError as e:
                raise VideoReadError(str(e).replace(tmp, path)) from None
        finally:
            os.remove(tmp)


@TRANSFORMS.register_module()
class OpenCVDecode(DecordDecode):
    """Frames of a video decoded with OpenCV, sequentially from the first
    frame up to the last requested one (``CAP_PROP_FRAME_COUNT`` and
    seeking are not trusted); only the requested frames are kept."""

    backend = 'opencv'


def _natural_images(folder: str, backend_args: Optional[dict]) -> List[str]:
    if _is_local(folder, backend_args):
        if not osp.isdir(folder):
            raise VideoReadError(f'{folder}: frame folder not found')
        return video_io.list_frame_folder(folder)
    names = [
        n for n in list_dir_or_file(
            folder, list_dir=False, backend_args=backend_args)
        if not n.startswith('.')
        and osp.splitext(n)[1].lower() in IMAGE_EXTENSIONS
    ]
    return sorted(names, key=video_io._frame_sort_key)


@TRANSFORMS.register_module()
class FrameFolderDecode(BaseDecode):
    """Frames stored as one image file per frame.

    ``frame_inds`` index ``results['frame_paths']`` (the full paths of the
    folder's frames in order); without ``frame_paths`` the image files of
    the folder ``filename`` in natural sort order (``img_9`` before
    ``img_10``) are used. Images are fetched with
    :func:`mmengine.fileio.get` and decoded by :func:`mmcv.imfrombytes`
    (OpenCV). All frames of a clip must have the same size.
    """

    _MAX_LISTED = 64

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._listed: 'OrderedDict[str, List[str]]' = OrderedDict()

    def _paths(self, results: dict) -> Sequence[str]:
        paths = results.get('frame_paths')
        if paths is not None:
            return paths
        folder = results['filename']
        if folder not in self._listed:
            names = _natural_images(folder, self.backend_args)
            if not names:
                raise VideoReadError(f'{folder}: no image files '
                                     f'({", ".join(IMAGE_EXTENSIONS)})')
            backend = get_file_backend(folder, backend_args=self.backend_args)
            self._listed[folder] = [
                backend.join_path(folder, n) for n in names
            ]
            if len(self._listed) > self._MAX_LISTED:
                self._listed.popitem(last=False)
        return self._listed[folder]

    def read_image(self, path: str) -> np.ndarray:
        """One image: uint8 ``[H, W, C]``, RGB(A) unless grayscale."""
        data = _fetch(path, self.backend_args)
        flag = self.color_type
        try:
            img = mmcv.imfrombytes(
                data,
                flag=flag,
                channel_order='rgb' if flag == 'color' else 'bgr',
                backend='cv2')
        except cv2.error:
            img = None
        # 'color' is decoded to RGB already; 'unchanged' keeps cv2's BGR(A)
        return check_decoded_image(path, img, bgr=flag == 'unchanged')

    def read(self, results: dict, inds: np.ndarray) -> np.ndarray:
        paths = self._paths(results)
        if inds.min() < 0 or inds.max() >= len(paths):
            raise VideoReadError(
                f"{results['filename']}: frame {int(inds.max())} requested, "
                f'the folder has {len(paths)} frames')
        names = [str(paths[i]) for i in inds]
        return stack_images([self.read_image(n) for n in names], names)


def _load_remote_array(path: str, data: bytes, key: Optional[str]):
    try:
        arr = np.load(io.BytesIO(data), allow_pickle=False)
        if isinstance(arr, np.lib.npyio.NpzFile):
            if key is None:
                raise VideoReadError(
                    f'{path}: an .npz archive needs an array key')
            if key not in arr.files:
                raise VideoReadError(f'{path}: no array {key!r} in the '
                                     f'archive (arrays: {arr.files})')
            arr = arr[key]
    except ARRAY_READ_ERRORS as e:
        raise VideoReadError(f'{path}: not a readable array ({e})')
    return arr


@TRANSFORMS.register_module()
class FrameCacheDecode(BaseDecode):
    """Rows of a uint8 frame cache ``[N, H, W, C]`` (.npy), memory-mapped
    (remote caches are fetched whole).

    A cache holds frames that already went through the protocol's crop and
    resize (``tools/dataset_converters/h36m_frame_cache.py``), so a cache
    pipeline has no crop / resize steps. When the results carry
    ``cache_params`` (what the dataset's config declares) and
    ``cache_record`` (what the cache's record says was applied), they must
    be equal, or the transform raises naming the cache.
    """

    def read(self, results: dict, inds: np.ndarray) -> np.ndarray:
        path = results['filename']
        declared = results.get('cache_params')
        record = results.get('cache_record')
        if declared is not None and record is not None and \
                dict(declared) != dict(record):
            raise VideoReadError(
                f'{path}: the cache was made with {dict(record)}, the '
                f'config declares {dict(declared)}; rebuild the cache or '
                'change the config')
        if _is_local(path, self.backend_args):
            return read_frame_cache(path, inds)
        arr = _load_remote_array(path, _fetch(path, self.backend_args), None)
        return _cache_rows(arr, path, inds)


@TRANSFORMS.register_module()
class ArrayDecode(BaseDecode):
    """Rows of a frame array ``[N, H, W]`` / ``[N, H, W, C]``: a .npy file
    (memory-mapped) or array ``results['array_key']`` of an .npz archive
    (read row by row). Remote arrays are fetched whole."""

    def read(self, results: dict, inds: np.ndarray) -> np.ndarray:
        path = results['filename']
        key = results.get('array_key')
        if _is_local(path, self.backend_args):
            return read_array_frames(path, inds, key)
        arr = _load_remote_array(path, _fetch(path, self.backend_args), key)
        video_io._check_array_rows(path, arr.shape, [int(i) for i in inds])
        return np.array(arr[inds])


#: The registered decode transforms.
DECODE_TRANSFORMS = ('DecordDecode', 'OpenCVDecode', 'FrameFolderDecode',
                     'FrameCacheDecode', 'ArrayDecode')

#: The decode transform of each storage format (``results['storage']``);
#: a new format adds its entry here.
STORAGE_DECODERS = {
    'video': 'DecordDecode',
    'frames': 'FrameFolderDecode',
    'cache': 'FrameCacheDecode',
    'array': 'ArrayDecode',
}


def _legacy_keys(results: dict) -> str:
    """Storage of the results, translating the keys of older datasets
    (``source_type``, ``cache_file`` / ``cache_inds``, ``array_file``,
    per-clip ``frame_paths``)."""
    storage = results.get('storage', results.get('source_type'))
    if storage == 'cache' and 'filename' not in results:
        results['filename'] = results['cache_file']
        results['frame_inds'] = results['cache_inds']
    elif storage == 'array' and 'filename' not in results:
        results['filename'] = results['array_file']
    elif storage == 'frames' and 'frame_inds' not in results:
        paths = results['frame_paths']
        results.setdefault('filename', osp.dirname(paths[0]) if paths else '')
        results['frame_inds'] = np.arange(len(paths))
    return storage


@TRANSFORMS.register_module()
class LoadVideoFrames(BaseTransform):
    """Kept for old configs: delegates to the decode transform of the
    clip's storage (``results['storage']``, or ``source_type`` of older
    datasets): ``'video'`` -> :class:`DecordDecode` (``backend='decord'``)
    or :class:`OpenCVDecode` (``backend='opencv'``), ``'frames'`` ->
    :class:`FrameFolderDecode`, ``'cache'`` -> :class:`FrameCacheDecode`,
    ``'array'`` -> :class:`ArrayDecode`. New configs name the decode
    transform directly.

    Args:
        backend (str): ``'decord'`` (default; OpenCV fallback) or
            ``'opencv'``.
        color_type (str): See :class:`BaseDecode`.
        out_key (str): See :class:`BaseDecode`.
        backend_args (dict, optional): See :class:`BaseDecode`.
    """

    def __init__(self,
                 backend: str = 'decord',
                 color_type: str = 'color',
                 out_key: str = 'frames',
                 backend_args: Optional[dict] = None):
        self.backend = check_backend(backend)
        if color_type not in COLOR_TYPES:
            raise ValueError(f'color_type must be one of {COLOR_TYPES}, got '
                             f'{color_type!r}')
        self.args = dict(
            color_type=color_type, out_key=out_key, backend_args=backend_args)
        self.decoders = {}
        for storage in STORAGE_DECODERS:  # built once, up front
            self.decoder(storage)
        self.color_type = color_type
        self.out_key = out_key

    def decoder(self, storage: str) -> BaseDecode:
        """The decode transform of ``storage`` (built once)."""
        if storage not in self.decoders:
            name = STORAGE_DECODERS.get(storage)
            if storage == 'video' and self.backend == 'opencv':
                name = 'OpenCVDecode'
            if name is None:
                raise KeyError(
                    "LoadVideoFrames: results['storage'] must be one of "
                    f'{tuple(STORAGE_DECODERS)}, got {storage!r}')
            self.decoders[storage] = TRANSFORMS.build(
                dict(type=name, **self.args))
        return self.decoders[storage]

    def transform(self, results: dict) -> dict:
        return self.decoder(_legacy_keys(results))(results)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(backend={self.backend!r}, '
                f'color_type={self.color_type!r}, '
                f'out_key={self.out_key!r})')
