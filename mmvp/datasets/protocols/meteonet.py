# Copyright (c) mmvp contributors. All rights reserved.
"""MeteoNet reflectivity (Météo-France, open): the periods' own files and
the windows without missing scans
(``docs/en/advanced_guides/dataset_protocols.md#meteonet``)."""
import datetime
import glob
import os.path as osp
import pickle
import zipfile
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..clip_index import clip_span
from ..dbz_encoding import check_encoding
from ..video_io import ARRAY_READ_ERRORS, VideoReadError, array_info
from .base import CLIP_PROTOCOLS, BaseClipProtocol

__all__ = ['MeteoNetProtocol', 'load_meteonet_dates', 'METEONET_PRODUCTS']

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


@CLIP_PROTOCOLS.register_module()
class MeteoNetProtocol(BaseClipProtocol):
    """Windows of MeteoNet reflectivity periods.

    Periods: every ``.npz`` matching ``file_patterns`` under ``data_root``
    (or a folder with ``data.npy`` and ``dates.npy``, an unzipped archive).
    A window is the dataset's ``num_frames`` maps ``frame_step`` scans
    apart whose span has no missing scan; windows start on the grid
    ``t0 + m * clip_stride`` scans (``t0``: the period's first map).
    Samples carry ``value_scale`` / ``missing_values`` / ``no_echo_values``
    / ``dbz_encoding`` for :class:`EncodeRadarFrames`.

    Args: see :class:`mmvp.datasets.MeteoNetDataset`.
    """

    name = 'meteonet'

    def __init__(self,
                 file_patterns: Sequence[str] = ('**/*.npz', ),
                 product: str = 'auto',
                 frame_step: int = 2,
                 clip_stride: Optional[int] = None,
                 scan_minutes: int = 5,
                 dbz_encoding: str = 'hko',
                 allow_pickle: bool = False):
        super().__init__()
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

    def metainfo(self, dataset) -> dict:
        return dict(
            dataset='MeteoNet',
            product=self.product,
            frame_step=self.frame_step,
            minutes_between_frames=self.frame_step * self.scan_seconds // 60,
            clip_stride=self.clip_stride
            or clip_span(dataset.num_frames, self.frame_step),
            dbz_encoding=self.dbz_encoding,
            normalisation='x = clip((dBZ + 10) / 70, 0, 1)',
            channels=1,
            substitute_note='substitute data; not comparable to the '
            "paper's Shanghai radar (Table 4)")

    def _find_periods(self, root: str) -> List[str]:
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

    @staticmethod
    def _period_arrays(period: str) -> Tuple[str, Optional[str], str]:
        """``(data file, key, dates file)`` of an archive or a folder."""
        if period.endswith('.npz'):
            return period, 'data', period
        return (osp.join(period,
                         'data.npy'), None, osp.join(period, 'dates.npy'))

    def _windows(self, ds, seconds: np.ndarray, where: str) -> List[int]:
        """Data indices of the valid window starts (dates strictly
        increasing, so the first and last slot of a window decide)."""
        span = clip_span(ds.num_frames, self.frame_step)
        if seconds.size and np.any(np.diff(seconds) <= 0):
            ds.invalid(where, 'dates are not strictly increasing')
            return []
        slots = np.round((seconds - seconds[0]) / self.scan_seconds)
        slots = slots.astype(np.int64)
        if slots.size < span:
            return []
        grid = np.arange(0, slots[-1] - span + 2, int(self.clip_stride
                                                      or span))
        pos = np.searchsorted(slots, grid)
        end = pos + span - 1
        ok = end < len(slots)
        pos, end, grid = pos[ok], end[ok], grid[ok]
        ok = (slots[pos] == grid) & (slots[end] == grid + span - 1)
        return [int(p) for p in pos[ok]]

    def load_data_list(self, ds) -> List[dict]:
        data_list = []
        periods = self._find_periods(ds.data_root)
        if not periods:
            raise ValueError(f'MeteoNet: no period file matches '
                             f'{list(self.file_patterns)} under '
                             f'{ds.data_root}')
        for period in periods:
            data_file, key, dates_file = self._period_arrays(period)
            try:
                shape, dtype = array_info(data_file, key)
                seconds = load_meteonet_dates(
                    dates_file, allow_pickle=self.allow_pickle)
            except VideoReadError as e:
                ds.invalid_read(period, e)
                continue
            if len(shape) != 3 or shape[0] != len(seconds):
                ds.invalid(
                    period, f'data of shape {tuple(shape)} and '
                    f'{len(seconds)} dates; expected [N, H, W] with one date '
                    'per map')
                continue
            product = self.product
            if product == 'auto':
                product = 'old' if dtype == np.uint8 else 'new'
            starts = self._windows(ds, seconds, period)
            if not starts:
                ds.invalid(
                    period, f'no window of {ds.num_frames} maps every '
                    f'{self.frame_step} scans without a missing scan '
                    f'({len(seconds)} maps)')
                continue
            src = ds.add_source(
                storage='array',
                name=osp.basename(period),
                path=data_file,
                array_key=key,
                frame_interval=self.frame_step,
                num_frames=shape[0],
                product=product,
                extra=dict(
                    dbz_encoding=self.dbz_encoding,
                    **METEONET_PRODUCTS[product]))
            data_list.extend(dict(source_idx=src, start=s) for s in starts)
        if not data_list:
            raise ValueError(f'MeteoNet: no valid window in {ds.data_root} '
                             f'({ds.num_invalid} invalid period(s))')
        return data_list
