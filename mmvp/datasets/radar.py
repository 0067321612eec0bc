# Copyright (c) mmvp contributors. All rights reserved.
"""Precipitation radar nowcasting (spec/data_and_metrics.md section 2).

The paper's Shanghai radar data are not public (spec 2.1). mmvp offers:

* :class:`RadarDataset`: sequences of radar frames that are already
  dBZ-encoded pixels (folders of PNG frames, uint8 .npy / .npz arrays),
  with the encoding named by ``dbz_encoding`` (``'motionrnn'``: ``dBZ =
  p / 2 + 15``, the official code's; ``'hko'``: ``x = (dBZ + 10) / 70``).
  The paper's task: 5 -> 10 frames at 64 x 64 (INTER_AREA).
* :class:`MeteoNetDataset`: the recommended open substitute (spec 2.4),
  Météo-France MeteoNet reflectivity read from its own files: one ``.npz``
  per ~10-day period with arrays ``data`` (maps), ``dates`` (one datetime
  per map) and ``miss_dates``; windows of 15 frames with a step of 2 scans
  (10 min), normalised by ``x = clip((dBZ + 10) / 70, 0, 1)`` (HKO
  convention); missing pixels become no echo. Numbers on it are a
  substitute, never comparable to the paper's Table 4.

Both record ``dbz_encoding`` in the metainfo (and in every sample), so
CSI-type metrics convert thresholds with
:func:`mmvp.datasets.dbz_encoding.dbz_to_pixel`.
"""
import datetime
import glob
import os.path as osp
import pickle
import zipfile
from typing import List, Optional, Sequence, Tuple

import numpy as np

from mmvp.registry import DATASETS
from .base_clip_dataset import BaseClipDataset
from .clip_index import clip_span
from .dbz_encoding import check_encoding
from .video_folder import VideoFolderDataset
from .video_io import ARRAY_READ_ERRORS, VideoReadError, array_info

__all__ = [
    'RadarDataset', 'MeteoNetDataset', 'load_meteonet_dates',
    'METEONET_PRODUCTS'
]


@DATASETS.register_module()
class RadarDataset(VideoFolderDataset):
    """dBZ-encoded radar frame sequences (PNG folders or uint8 arrays).

    Every entry of ``data_root`` (or of ``ann_file``) is one sequence; see
    :class:`VideoFolderDataset` for the layout, list file and bad-input
    handling. Frames are grey uint8 pixels ``p`` whose dBZ is given by the
    encoding (spec 2.2); load them with
    ``LoadVideoFrames(color_type='grayscale')``.

    Args:
        dbz_encoding (str): ``'motionrnn'`` (default) or ``'hko'``.
        in_frames (int): Defaults to 5.
        out_frames (int): Defaults to 10.
        check_gaps (bool): Check the numbering of PNG frames for gaps.
            Defaults to False: radar frames are often named by time stamps
            (``201801011148.png`` -> ``201801011200.png``), whose numbers
            jump at every hour; enable it for sequentially numbered frames.
        **kwargs: :class:`VideoFolderDataset` arguments.
    """

    def __init__(self,
                 data_root: str = 'data/radar',
                 dbz_encoding: str = 'motionrnn',
                 in_frames: int = 5,
                 out_frames: int = 10,
                 check_gaps: bool = False,
                 protocol: str = 'radar',
                 **kwargs):
        self.dbz_encoding = check_encoding(dbz_encoding)
        super().__init__(
            data_root=data_root,
            in_frames=in_frames,
            out_frames=out_frames,
            check_gaps=check_gaps,
            protocol=protocol,
            **kwargs)

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        meta.update(dbz_encoding=self.dbz_encoding, channels=1)
        return meta

    def extra_source_info(self, path: str, info: dict) -> dict:
        return dict(dbz_encoding=self.dbz_encoding)

    def source_results(self, source: dict, inds: List[int]) -> dict:
        results = super().source_results(source, inds)
        results['dbz_encoding'] = self.dbz_encoding
        return results


# ----------------------------------------------------------------------
# MeteoNet
# ----------------------------------------------------------------------
# MeteoNet documentation, "Rain Radar / Reflectivity":
#   old product (2016-01 .. 2018-10): uint8 dBZ levels, 255 = missing;
#     level 0 means "< 8 dBZ" (no echo at this threshold)
#   new product (2018-02 .. 2018-12): 1/10 dBZ, -100 = no detection,
#     -200 = missing
METEONET_PRODUCTS = {
    'old': dict(value_scale=1.0, missing_values=(255, ), no_echo_values=(0, )),
    'new':
    dict(value_scale=0.1, missing_values=(-200, ), no_echo_values=(-100, )),
}

_SAFE_GLOBALS = {
    ('datetime', 'datetime'),
    ('datetime', 'date'),
    ('datetime', 'timedelta'),
    ('datetime', 'timezone'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('_codecs', 'encode'),
}


class _DatesUnpickler(pickle.Unpickler):
    """Unpickles object arrays of datetimes and nothing else."""

    def find_class(self, module, name):
        if (module, name) not in _SAFE_GLOBALS:
            raise pickle.UnpicklingError(
                f'{module}.{name} is not allowed in a dates array')
        if module.startswith('numpy') and module.endswith('multiarray'):
            try:
                from numpy._core import multiarray
            except ImportError:  # numpy < 2
                from numpy.core import multiarray
            return getattr(multiarray, name)
        return super().find_class(module, name)


def _read_dates_member(fp, where: str, allow_pickle: bool) -> np.ndarray:
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    if not dtype.hasobject:
        count = int(np.prod(shape, dtype=np.int64))
        data = fp.read(count * dtype.itemsize)
        return np.frombuffer(data, dtype).reshape(shape)
    if allow_pickle:
        return pickle.load(fp)  # trusted file, on request
    try:
        return _DatesUnpickler(fp).load()
    except (pickle.UnpicklingError, AttributeError, EOFError) as e:
        raise VideoReadError(
            f'{where}: cannot read the dates without running pickled code '
            f'({e}); pass allow_pickle=True only if you trust the file')


def load_meteonet_dates(path: str,
                        key: str = 'dates',
                        allow_pickle: bool = False) -> np.ndarray:
    """The ``dates`` of a MeteoNet period as int64 seconds since the epoch.

    MeteoNet stores ``dates`` as an object array of ``datetime``, which
    ``np.load`` can only read with ``allow_pickle=True`` (running any code
    the file contains). This reads it with an unpickler that only builds
    datetimes and numpy arrays. ``path`` is an ``.npz`` archive or a
    ``dates.npy`` file (an unzipped archive).
    """
    try:
        if path.endswith('.npz'):
            with zipfile.ZipFile(path) as zf:
                member = f'{key}.npy'
                if member not in zf.namelist():
                    raise VideoReadError(f'{path}: no {key!r} array in the '
                                         'archive')
                with zf.open(member) as fp:
                    arr = _read_dates_member(fp, f'{path}[{key}]',
                                             allow_pickle)
        else:
            with open(path, 'rb') as fp:
                arr = _read_dates_member(fp, path, allow_pickle)
    except ARRAY_READ_ERRORS as e:
        raise VideoReadError(f'{path}: cannot read {key!r} ({e})')
    return _to_seconds(arr, path)


def _to_seconds(arr: np.ndarray, where: str) -> np.ndarray:
    arr = np.asarray(arr).reshape(-1)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype('datetime64[s]').astype(np.int64)
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.int64)
    epoch = datetime.datetime(1970, 1, 1)
    out = np.empty(len(arr), np.int64)
    for i, d in enumerate(arr):
        if isinstance(d, np.datetime64):
            out[i] = d.astype('datetime64[s]').astype(np.int64)
        elif isinstance(d, datetime.datetime):
            if d.tzinfo is not None:
                d = d.astimezone(datetime.timezone.utc).replace(tzinfo=None)
            out[i] = int(round((d - epoch).total_seconds()))
        else:
            raise VideoReadError(f'{where}: dates entry {i} is '
                                 f'{type(d).__name__}, expected datetime')
    return out


@DATASETS.register_module()
class MeteoNetDataset(BaseClipDataset):
    """MeteoNet radar reflectivity windows (spec 2.4 substitute).

    Files: every ``.npz`` period matching ``file_patterns`` under
    ``data_root`` (or a folder with ``data.npy`` and ``dates.npy``, i.e. an
    unzipped archive, which reads faster). A window is ``clip_len`` maps
    ``frame_step`` scans apart (default 15 maps 10 min apart, spanning
    140 min) whose span has no missing scan; consecutive windows start
    ``clip_stride`` scans apart. The clip index reads only the array
    headers and the dates.

    Samples carry the raw values under ``radar_values`` plus
    ``value_scale`` / ``missing_values`` / ``no_echo_values`` /
    ``dbz_encoding``; the pipeline's :class:`EncodeRadarFrames` turns them
    into uint8 frames ``round(255 * clip((dBZ + 10) / 70, 0, 1))``
    (missing and no-echo pixels -> 0), then ``ResizeFrames(scale=64,
    interpolation='area')``.

    Args:
        data_root (str): MeteoNet reflectivity folder.
        file_patterns (Sequence[str]): Glob patterns relative to
            ``data_root`` selecting the periods of this split, e.g.
            ``['**/reflectivity_old_NW_2016_*.npz']``.
        split (str): Name recorded in the metainfo.
        product (str): ``'old'``, ``'new'`` or ``'auto'`` (by dtype:
            uint8 -> old).
        in_frames (int): Defaults to 5.
        out_frames (int): Defaults to 10.
        frame_step (int): Scans between frames. Defaults to 2 (10 min).
        clip_stride (int, optional): Scans between window starts.
            Defaults to the window span (non-overlapping).
        scan_minutes (int): Minutes between scans. Defaults to 5.
        dbz_encoding (str): Encoding of the output frames. Defaults to
            ``'hko'`` (the normalisation above).
        allow_pickle (bool): Read ``dates`` with full unpickling (only for
            trusted files whose dates the safe reader refuses).
        skip_invalid (bool): Skip unreadable periods (counted, logged
            once). Defaults to False.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``.
    """

    PROTOCOL = 'meteonet'

    def __init__(self,
                 data_root: str = 'data/meteonet',
                 file_patterns: Sequence[str] = ('**/*.npz', ),
                 split: str = 'train',
                 product: str = 'auto',
                 in_frames: int = 5,
                 out_frames: int = 10,
                 frame_step: int = 2,
                 clip_stride: Optional[int] = None,
                 scan_minutes: int = 5,
                 dbz_encoding: str = 'hko',
                 allow_pickle: bool = False,
                 skip_invalid: bool = False,
                 **kwargs):
        if product not in ('old', 'new', 'auto'):
            raise ValueError("product must be 'old', 'new' or 'auto', got "
                             f'{product!r}')
        if isinstance(file_patterns, str):
            file_patterns = [file_patterns]
        self.file_patterns = tuple(file_patterns)
        self.product = product
        self.frame_step = int(frame_step)
        self.clip_stride = clip_stride
        self.scan_seconds = int(scan_minutes) * 60
        self.dbz_encoding = check_encoding(dbz_encoding)
        self.allow_pickle = bool(allow_pickle)
        super().__init__(
            data_root=data_root,
            split=split,
            in_frames=in_frames,
            out_frames=out_frames,
            skip_invalid=skip_invalid,
            **kwargs)

    @property
    def span(self) -> int:
        """Scans covered by one window."""
        return clip_span(self.num_frames, self.frame_step)

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        meta.update(
            dataset='MeteoNet',
            product=self.product,
            frame_step=self.frame_step,
            minutes_between_frames=self.frame_step * self.scan_seconds // 60,
            clip_stride=self.clip_stride or self.span,
            dbz_encoding=self.dbz_encoding,
            normalisation='x = clip((dBZ + 10) / 70, 0, 1)',
            channels=1,
            substitute_note='substitute data; not comparable to the '
            "paper's Shanghai radar (Table 4)")
        return meta

    def _find_periods(self) -> List[str]:
        root = self.data_root
        if not osp.isdir(root):
            raise FileNotFoundError(
                f'MeteoNet root not found: {root} (expected the '
                'reflectivity .npz periods, e.g. '
                'reflectivity_old_NW_2016_01.1.npz)')
        found = set()
        for pattern in self.file_patterns:
            for path in glob.glob(osp.join(root, pattern), recursive=True):
                if path.endswith('.npz') and osp.isfile(path):
                    found.add(path)
                elif osp.isdir(path) and osp.isfile(
                        osp.join(path, 'data.npy')):
                    found.add(path)
        return sorted(found)

    def _period_arrays(self, period: str) -> Tuple[str, Optional[str], str]:
        """``(data file, key, dates file)`` of an archive or a folder."""
        if period.endswith('.npz'):
            return period, 'data', period
        return (osp.join(period,
                         'data.npy'), None, osp.join(period, 'dates.npy'))

    def _windows(self, seconds: np.ndarray, where: str) -> List[int]:
        """Data indices of the valid window starts.

        Windows start on the grid ``t0 + m * clip_stride`` of scan slots
        (``t0``: the period's first map); a window is valid if all
        ``span`` scans from its start are present (dates strictly
        increasing, so the first and last slot decide).
        """
        if seconds.size and np.any(np.diff(seconds) <= 0):
            self.invalid(where, 'dates are not strictly increasing')
            return []
        slots = np.round((seconds - seconds[0]) / self.scan_seconds)
        slots = slots.astype(np.int64)
        if slots.size < self.span:
            return []
        grid = np.arange(0, slots[-1] - self.span + 2,
                         int(self.clip_stride or self.span))
        pos = np.searchsorted(slots, grid)
        end = pos + self.span - 1
        ok = end < len(slots)
        pos, end, grid = pos[ok], end[ok], grid[ok]
        ok = (slots[pos] == grid) & (slots[end] == grid + self.span - 1)
        return [int(p) for p in pos[ok]]

    def load_data_list(self) -> List[dict]:
        data_list = []
        periods = self._find_periods()
        if not periods:
            raise ValueError(f'MeteoNet: no period file matches '
                             f'{list(self.file_patterns)} under '
                             f'{self.data_root}')
        for period in periods:
            data_file, key, dates_file = self._period_arrays(period)
            try:
                shape, dtype = array_info(data_file, key)
                seconds = load_meteonet_dates(
                    dates_file, allow_pickle=self.allow_pickle)
            except VideoReadError as e:
                self.invalid_read(period, e)
                continue
            if len(shape) != 3 or shape[0] != len(seconds):
                self.invalid(
                    period, f'data of shape {tuple(shape)} and '
                    f'{len(seconds)} dates; expected [N, H, W] with one date '
                    'per map')
                continue
            product = self.product
            if product == 'auto':
                product = 'old' if dtype == np.uint8 else 'new'
            starts = self._windows(seconds, period)
            if not starts:
                self.invalid(
                    period, f'no window of {self.num_frames} maps every '
                    f'{self.frame_step} scans without a missing scan '
                    f'({len(seconds)} maps)')
                continue
            src = self.add_source(
                source_type='array',
                name=osp.basename(period),
                path=data_file,
                array_key=key,
                frame_interval=self.frame_step,
                num_frames=shape[0],
                product=product,
                dbz_encoding=self.dbz_encoding,
                **METEONET_PRODUCTS[product])
            data_list.extend(dict(source_idx=src, start=s) for s in starts)
        if not data_list:
            raise ValueError(f'MeteoNet: no valid window in {self.data_root} '
                             f'({self.num_invalid} invalid period(s))')
        return data_list

    def source_results(self, source: dict, inds: List[int]) -> dict:
        results = super().source_results(source, inds)
        results.update(
            no_echo_values=source['no_echo_values'],
            dbz_encoding=self.dbz_encoding)
        return results
