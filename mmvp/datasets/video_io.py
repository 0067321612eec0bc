# Copyright (c) mmvp contributors. All rights reserved.
"""Reading frames from videos, image folders and arrays.

Videos are read with decord when it is installed; on decord's errors
(``RuntimeError`` and ``DECORDError``, which is not a ``RuntimeError``)
the file is read again with OpenCV, sequentially from the first frame,
with BGR -> RGB conversion. ``CAP_PROP_FRAME_COUNT`` and
``CAP_PROP_POS_FRAMES`` are never trusted (they are garbage on broken
headers). Every error names the file and the problem.

All readers return ``np.uint8`` arrays ``[N, H, W, C]`` (RGB for colour).
"""
import os
import os.path as osp
import re
import tokenize
import zipfile
import zlib
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

try:  # decord is optional (no macOS-ARM wheels)
    import decord
    from decord._ffi.base import DECORDError
except ImportError:  # pragma: no cover - depends on the environment
    decord = None

    class DECORDError(Exception):
        """Stand-in so that ``except DECORDError`` works without decord."""


__all__ = [
    'VideoReadError', 'DECORDError', 'VIDEO_EXTENSIONS', 'IMAGE_EXTENSIONS',
    'decord_available', 'count_video_frames', 'video_info',
    'read_video_frames', 'iter_video_frames', 'read_image', 'read_images',
    'list_frame_folder', 'check_frame_numbers', 'read_array_frames',
    'array_info', 'is_video_file', 'is_image_file'
]

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv', '.flv')
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')
BACKENDS = ('decord', 'opencv')
# decord's errors that trigger the OpenCV fallback
DECODE_ERRORS = (RuntimeError, DECORDError)

_FALLBACK_LOGGED = set()


class VideoReadError(RuntimeError):
    """A video, image or array file cannot be read as needed.

    The message starts with the file path and says what went wrong.
    """


#: What numpy and zipfile raise on a corrupt .npy/.npz (garbled header
#: text reaches numpy's tokenizer; damaged compressed members reach zlib).
ARRAY_READ_ERRORS = (ValueError, OSError, EOFError, SyntaxError,
                     tokenize.TokenError, zipfile.BadZipFile, zlib.error)


def decord_available() -> bool:
    """Whether decord can be imported."""
    return decord is not None


def is_video_file(path: str) -> bool:
    return osp.splitext(path)[1].lower() in VIDEO_EXTENSIONS


def is_image_file(path: str) -> bool:
    return osp.splitext(path)[1].lower() in IMAGE_EXTENSIONS


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f'unknown video backend {backend!r}; expected one '
                         f'of {BACKENDS}')
    return backend


def _use_decord(backend: str) -> bool:
    return check_backend(backend) == 'decord' and decord is not None


def _quiet_decord() -> None:
    # ffmpeg fills stderr on corrupt files; the exception says enough
    decord.logging.set_level(decord.logging.QUIET)


def _check_file(path: str) -> None:
    if not osp.exists(path):
        raise VideoReadError(f'{path}: file not found')
    if not osp.isfile(path):
        raise VideoReadError(f'{path}: not a file')
    if osp.getsize(path) == 0:
        raise VideoReadError(f'{path}: empty file (0 bytes)')


def _log_fallback(path: str, err: Exception) -> None:
    if path not in _FALLBACK_LOGGED:
        _FALLBACK_LOGGED.add(path)
        print_log(
            f'decord cannot read {path} ({type(err).__name__}: '
            f'{str(err).splitlines()[0] if str(err) else ""}); reading it '
            'with OpenCV instead',
            logger='current',
            level=30)


def _open_decord(path: str):
    _quiet_decord()
    return decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)


def _open_cv2(path: str, decord_err: Optional[Exception] = None):
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        cap.release()
        why = (f' (decord: {type(decord_err).__name__})'
               if decord_err is not None else '')
        raise VideoReadError(
            f'{path}: cannot open as a video{why}; OpenCV cannot open it '
            'either. The file is corrupt, truncated or not a video.')
    return cap


def _cv2_count(path: str, decord_err: Optional[Exception] = None) -> int:
    cap = _open_cv2(path, decord_err)
    num = 0
    try:
        while cap.grab():
            num += 1
    finally:
        cap.release()
    if num == 0:
        raise VideoReadError(f'{path}: no frame could be decoded; the file '
                             'is corrupt, truncated or not a video')
    return num


def count_video_frames(path: str, backend: str = 'decord') -> int:
    """Number of frames of a video, from metadata where possible.

    decord's ``len(VideoReader)``; on decord errors (or with
    ``backend='opencv'``) the frames are counted by grabbing them all with
    OpenCV (``CAP_PROP_FRAME_COUNT`` is not trusted).

    Raises:
        VideoReadError: if neither backend can read any frame.
    """
    _check_file(path)
    err = None
    if _use_decord(backend):
        try:
            num = len(_open_decord(path))
            if num > 0:
                return num
            err = RuntimeError('decord reports 0 frames')
        except DECODE_ERRORS as e:
            err = e
        _log_fallback(path, err)
    return _cv2_count(path, err)


def video_info(path: str, backend: str = 'decord') -> Tuple[int, float]:
    """``(frames, fps)`` of a video: the frame count as
    :func:`count_video_frames` reads it, and the container's average frame
    rate (0.0 when it is not known)."""
    _check_file(path)
    err = None
    if _use_decord(backend):
        try:
            vr = _open_decord(path)
            num = len(vr)
            if num > 0:
                return num, float(vr.get_avg_fps() or 0.0)
            err = RuntimeError('decord reports 0 frames')
        except DECODE_ERRORS as e:
            err = e
        _log_fallback(path, err)
    num = _cv2_count(path, err)
    cap = cv2.VideoCapture(path)
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    cap.release()
    return num, fps


def _cv2_iter(path: str,
              indices: Sequence[int],
              decord_err: Optional[Exception] = None
              ) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(index, RGB frame)`` for the unique ``indices`` in ascending
    order, grabbing the video sequentially from the start with OpenCV.

    Raises:
        VideoReadError: when the video ends (or a frame does not decode)
            before the last wanted frame.
    """
    wanted = set(int(i) for i in indices)
    last = max(wanted)
    cap = _open_cv2(path, decord_err)
    pos = 0
    try:
        while pos <= last:
            if not cap.grab():
                break
            if pos in wanted:
                ok, frame = cap.retrieve()
                if not ok or frame is None:
                    break
                wanted.discard(pos)
                yield pos, cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
            pos += 1
    finally:
        cap.release()
    if wanted:
        raise VideoReadError(
            f'{path}: OpenCV decoded only {pos} frames, frame '
            f'{min(wanted)} is needed; the video is truncated or corrupt')


def _cv2_read(path: str,
              indices: Sequence[int],
              decord_err: Optional[Exception] = None) -> Dict[int, np.ndarray]:
    """Read ``indices`` sequentially from the start with OpenCV (RGB)."""
    return dict(_cv2_iter(path, indices, decord_err))


def _check_indices(path: str, indices: Sequence[int],
                   num: Optional[int]) -> None:
    if len(indices) == 0:
        raise ValueError(f'{path}: no frame indices given')
    if min(indices) < 0:
        raise VideoReadError(f'{path}: negative frame index {min(indices)}')
    if num is not None and max(indices) >= num:
        raise VideoReadError(f'{path}: frame {max(indices)} requested, the '
                             f'video has {num} frames')


def read_video_frames(path: str,
                      indices: Sequence[int],
                      backend: str = 'decord') -> np.ndarray:
    """Frames ``indices`` (0-based decode order) of a video, RGB uint8.

    Args:
        path (str): Video file.
        indices (Sequence[int]): Frame indices, any order, repeats allowed.
        backend (str): ``'decord'`` (falls back to OpenCV on decord's
            errors) or ``'opencv'`` (sequential read).

    Returns:
        np.ndarray: uint8 ``[len(indices), H, W, 3]`` in RGB order.
    """
    _check_file(path)
    indices = [int(i) for i in indices]
    _check_indices(path, indices, None)
    err = None
    if _use_decord(backend):
        try:
            vr = _open_decord(path)
            _check_indices(path, indices, len(vr))
            uniq = sorted(set(indices))
            batch = vr.get_batch(uniq).asnumpy()
            pos = {j: k for k, j in enumerate(uniq)}
            return np.ascontiguousarray(batch[[pos[i] for i in indices]])
        except DECODE_ERRORS as e:
            if isinstance(e, VideoReadError):
                raise
            err = e
        _log_fallback(path, err)
    frames = _cv2_read(path, indices, err)
    return np.stack([frames[i] for i in indices])


def iter_video_frames(path: str,
                      indices: Sequence[int],
                      backend: str = 'decord',
                      chunk_size: int = 32
                      ) -> Iterator[Tuple[int, np.ndarray]]:
    """Yield ``(index, RGB frame)`` for sorted unique ``indices``, decoding
    at most ``chunk_size`` frames at once (decord) or streaming (OpenCV).

    Used to decode a whole video once (frame cache) without holding all of
    its frames in memory. If decord fails midway, the remaining frames are
    read with OpenCV.
    """
    _check_file(path)
    todo = sorted(set(int(i) for i in indices))
    _check_indices(path, todo, None)
    err = None
    if _use_decord(backend):
        try:
            vr = _open_decord(path)
            _check_indices(path, todo, len(vr))
            while todo:
                chunk = todo[:chunk_size]
                batch = vr.get_batch(chunk).asnumpy()
                for i, frame in zip(chunk, batch):
                    yield i, frame
                todo = todo[chunk_size:]
            return
        except DECODE_ERRORS as e:
            if isinstance(e, VideoReadError):
                raise
            err = e
        _log_fallback(path, err)
    yield from _cv2_iter(path, todo, err)


def read_image(path: str, color_type: str = 'color') -> np.ndarray:
    """One image as uint8 ``[H, W, 3]`` RGB (``'color'``) or ``[H, W, 1]``
    (``'grayscale'``); ``'unchanged'`` keeps the stored channels."""
    flags = {
        'color': cv2.IMREAD_COLOR,
        'grayscale': cv2.IMREAD_GRAYSCALE,
        'unchanged': cv2.IMREAD_UNCHANGED
    }
    if color_type not in flags:
        raise ValueError(f'color_type must be one of {tuple(flags)}, got '
                         f'{color_type!r}')
    try:
        buf = np.fromfile(path, dtype=np.uint8)  # non-ASCII paths work too
    except OSError as e:
        raise VideoReadError(f'{path}: cannot read the image file ({e})')
    img = cv2.imdecode(buf, flags[color_type]) if buf.size else None
    return check_decoded_image(path, img)


def check_decoded_image(path: str,
                        img: Optional[np.ndarray],
                        bgr: bool = True) -> np.ndarray:
    """A decoded image (None: decoding failed) as uint8 ``[H, W, C]``:
    2-D (grayscale) images get a channel axis, and with ``bgr`` OpenCV's
    BGR(A) channel order becomes RGB(A).

    Raises:
        VideoReadError: naming ``path``, when ``img`` is None or not uint8.
    """
    if img is None:
        raise VideoReadError(f'{path}: cannot decode as an image (corrupt, '
                             'truncated or not an image)')
    if img.dtype != np.uint8:
        raise VideoReadError(f'{path}: {img.dtype} image; uint8 expected')
    if img.ndim == 2:
        return img[..., None]
    if bgr and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if bgr and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return img


def read_images(paths: Sequence[str], color_type: str = 'color') -> np.ndarray:
    """Images of equal size stacked to uint8 ``[N, H, W, C]``."""
    return stack_images([read_image(p, color_type) for p in paths], paths)


def stack_images(frames: Sequence[np.ndarray],
                 paths: Sequence[str]) -> np.ndarray:
    """``frames`` (read from ``paths``) stacked to ``[N, H, W, C]``.

    Raises:
        VideoReadError: naming the first frame whose shape differs from
            the first one's.
    """
    for p, f in zip(paths[1:], frames[1:]):
        if f.shape != frames[0].shape:
            raise VideoReadError(
                f'{p}: image of shape {f.shape}, but {paths[0]} has '
                f'{frames[0].shape}; the frames of a clip must match')
    return np.stack(frames)


_NUMBER = re.compile(r'(\d+)(?!.*\d)')


def _frame_sort_key(name: str):
    stem = osp.splitext(name)[0]
    m = _NUMBER.search(stem)
    if m is None:
        return (stem, -1, name)
    return (stem[:m.start()], int(m.group(1)), name)


def list_frame_folder(folder: str,
                      extensions: Sequence[str] = IMAGE_EXTENSIONS
                      ) -> List[str]:
    """Image file names of a frame folder, in frame order.

    Names that end in a number are ordered by that number (so ``img_9``
    comes before ``img_10``), others lexicographically. Hidden files are
    ignored.
    """
    exts = tuple(e.lower() for e in extensions)
    names = [
        n for n in os.listdir(folder)
        if not n.startswith('.') and osp.splitext(n)[1].lower() in exts
        and osp.isfile(osp.join(folder, n))
    ]
    return sorted(names, key=_frame_sort_key)


def check_frame_numbers(folder: str, names: Sequence[str]) -> Optional[str]:
    """Look for a gap in the numbering of a frame folder.

    Frame numbers are the last run of digits in each name. The step is the
    most common difference between consecutive numbers (1 for every frame,
    5 for every 5th); any other difference is a gap or a duplicate.

    Returns:
        str | None: A description of the first problem, or None.
    """
    keys = [_frame_sort_key(n) for n in names]
    if len(keys) < 2 or any(k[1] < 0 for k in keys):
        return None
    prefixes = {k[0] for k in keys}
    if len(prefixes) > 1:
        return (f'frame names have {len(prefixes)} different prefixes '
                f'({sorted(prefixes)[:3]}); expected one numbered sequence')
    nums = np.array([k[1] for k in keys])
    diffs = np.diff(nums)
    vals, counts = np.unique(diffs, return_counts=True)
    step = int(vals[np.argmax(counts)])
    bad = np.nonzero(diffs != step)[0]
    if step < 1:
        bad = np.nonzero(diffs < 1)[0]
        step = 1
    if bad.size == 0:
        return None
    i = int(bad[0])
    a, b = names[i], names[i + 1]
    if diffs[i] == 0:
        return f'frames {a} and {b} have the same number {nums[i]}'
    return (f'gap in the frame numbers: {a} (frame {nums[i]}) is followed '
            f'by {b} (frame {nums[i + 1]}), expected a step of {step}')


# ----------------------------------------------------------------------
# arrays: .npy (memory-mapped) and members of .npz archives
# ----------------------------------------------------------------------
def _npz_member(zf: zipfile.ZipFile, key: str, path: str) -> str:
    name = key if key.endswith('.npy') else key + '.npy'
    if name not in zf.namelist():
        keys = [n[:-4] for n in zf.namelist() if n.endswith('.npy')]
        raise VideoReadError(f'{path}: no array {key!r} in the archive '
                             f'(arrays: {keys})')
    return name


def _read_npy_header(fp, path: str):
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
        else:
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    except ARRAY_READ_ERRORS as e:
        raise VideoReadError(f'{path}: not a readable .npy array ({e})')
    if fortran:
        raise VideoReadError(f'{path}: Fortran-ordered arrays are not '
                             'supported; save it in C order')
    return shape, dtype


def array_info(path: str, key: Optional[str] = None) -> Tuple[tuple, str]:
    """``(shape, dtype)`` of a .npy file or of array ``key`` of a .npz
    archive, from the header only."""
    _check_file(path)
    if path.endswith('.npz'):
        if key is None:
            raise ValueError(f'{path}: an .npz archive needs an array key')
        try:
            with zipfile.ZipFile(path) as zf:
                with zf.open(_npz_member(zf, key, path)) as fp:
                    shape, dtype = _read_npy_header(fp, f'{path}[{key}]')
        except ARRAY_READ_ERRORS as e:
            raise VideoReadError(f'{path}: not a valid .npz archive ({e})')
        return tuple(shape), dtype
    with open(path, 'rb') as fp:
        shape, dtype = _read_npy_header(fp, path)
    return tuple(shape), dtype


def read_array_frames(path: str,
                      indices: Sequence[int],
                      key: Optional[str] = None) -> np.ndarray:
    """Rows ``indices`` of a frame array ``[N, ...]`` without loading it.

    A .npy file is memory-mapped. An array inside a .npz archive is read
    row by row by seeking in the zip member (fast for stored archives from
    ``np.savez``; ``np.savez_compressed`` members are decompressed up to
    the row, so unzip such archives once for random access).
    """
    indices = [int(i) for i in indices]
    if not path.endswith('.npz'):
        _check_file(path)
        try:
            arr = np.load(path, mmap_mode='r', allow_pickle=False)
        except ARRAY_READ_ERRORS as e:
            raise VideoReadError(f'{path}: not a readable .npy array ({e})')
        _check_array_rows(path, arr.shape, indices)
        return np.array(arr[indices])
    if key is None:
        raise ValueError(f'{path}: an .npz archive needs an array key')
    _check_file(path)
    try:
        with zipfile.ZipFile(path) as zf:
            with zf.open(_npz_member(zf, key, path)) as fp:
                shape, dtype = _read_npy_header(fp, f'{path}[{key}]')
                if dtype.hasobject:
                    raise VideoReadError(f'{path}[{key}]: object array; '
                                         'numeric frames expected')
                _check_array_rows(f'{path}[{key}]', shape, indices)
                start = fp.tell()
                row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
                out = np.empty((len(indices), ) + tuple(shape[1:]), dtype)
                for k, i in sorted(enumerate(indices), key=lambda x: x[1]):
                    fp.seek(start + i * row)
                    data = fp.read(row)
                    if len(data) != row:
                        raise VideoReadError(
                            f'{path}[{key}]: truncated, row {i} is '
                            'incomplete')
                    out[k] = np.frombuffer(data, dtype).reshape(shape[1:])
    except ARRAY_READ_ERRORS as e:
        raise VideoReadError(f'{path}: not a valid .npz archive ({e})')
    return out


def _check_array_rows(path: str, shape: tuple, indices: Sequence[int]):
    if len(shape) < 3:
        raise VideoReadError(f'{path}: array of shape {tuple(shape)}; '
                             'frames [N, H, W] or [N, H, W, C] expected')
    if indices and (min(indices) < 0 or max(indices) >= shape[0]):
        raise VideoReadError(f'{path}: frame {max(indices)} requested, the '
                             f'array has {shape[0]} frames')
