# Copyright (c) mmvp contributors. All rights reserved.
"""Geometric and value transforms of whole clips (``frames`` = np.uint8
``[T, H, W, C]``); every frame of a clip gets the same crop and resize.

Frame caches (``tools/dataset_converters/h36m_frame_cache.py``) store
frames that already went through the protocol's crop and resize (recorded
as ``cache_params``), so a cache pipeline leaves these steps out.
"""
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmvp.registry import TRANSFORMS
from ..dbz_encoding import check_encoding, dbz_to_pixel

__all__ = [
    'CenterCropFrames', 'RandomCropFrames', 'ResizeFrames',
    'EncodeRadarFrames', 'INTERPOLATIONS', 'crop_frames', 'resize_frames'
]

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'linear': cv2.INTER_LINEAR,
    'bilinear': cv2.INTER_LINEAR,
    'cubic': cv2.INTER_CUBIC,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
    'lanczos': cv2.INTER_LANCZOS4,
}


def _pair(value, name: str) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        value = (int(value), int(value))
    value = tuple(int(v) for v in value)
    if len(value) != 2 or min(value) < 1:
        raise ValueError(f'{name} must be a positive int or a pair of them, '
                         f'got {value!r}')
    return value


def _frames(results: dict, name: str) -> np.ndarray:
    frames = results.get('frames')
    if not isinstance(frames, np.ndarray) or frames.ndim != 4:
        raise KeyError(f"{name}: results['frames'] must be an array "
                       '[T, H, W, C] (run a decode transform first)')
    return frames


def crop_frames(frames: np.ndarray, top: int, left: int, height: int,
                width: int) -> np.ndarray:
    """``frames[:, top:top+height, left:left+width]`` (contiguous)."""
    return np.ascontiguousarray(frames[:, top:top + height, left:left + width])


def resize_frames(frames: np.ndarray, size_hw: Tuple[int, int],
                  interpolation: str) -> np.ndarray:
    """``cv2.resize`` of every frame to ``size_hw`` (``[T, H, W, C]``)."""
    h, w = size_hw
    if frames.shape[1:3] == (h, w):
        return frames
    flag = INTERPOLATIONS[interpolation]
    out = np.empty((frames.shape[0], h, w, frames.shape[3]), frames.dtype)
    for i, f in enumerate(frames):
        r = cv2.resize(f, (w, h), interpolation=flag)
        out[i] = r.reshape(h, w, -1)
    return out


@TRANSFORMS.register_module()
class CenterCropFrames(BaseTransform):
    """Centre crop of every frame.

    Give exactly one of:

    - ``border_ratio=r``: remove ``b = floor(r * H)`` rows at the top and
      bottom and ``floor(r * W)`` columns left and right, i.e.
      ``frames[:, b_h : H - b_h, b_w : W - b_w]``. ``r = 0.25`` is the
      Human3.6M centre half ``[H//4 : H - H//4, W//4 : W - W//4]``
      (``docs/en/advanced_guides/dataset_protocols.md#pitfall-centre-crop``;
      1000 x 1002 frames give a 502 x 500 crop).
    - ``crop_size=(h, w)`` (or an int): a fixed-size centre window
      (top = ``(H - h) // 2``).

    Required keys: ``frames``. Modified: ``frames``, ``img_shape``.
    """

    def __init__(self,
                 crop_size: Optional[Union[int, Sequence[int]]] = None,
                 border_ratio: Optional[float] = None):
        if (crop_size is None) == (border_ratio is None):
            raise ValueError('CenterCropFrames: give exactly one of '
                             'crop_size and border_ratio')
        self.crop_size = (None if crop_size is None else _pair(
            crop_size, 'crop_size'))
        if border_ratio is not None and not 0 <= border_ratio < 0.5:
            raise ValueError('border_ratio must be in [0, 0.5), got '
                             f'{border_ratio!r}')
        self.border_ratio = border_ratio

    def window(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """``(top, left, h, w)`` of the crop for a ``height x width``
        frame."""
        if self.border_ratio is not None:
            bh = int(np.floor(height * self.border_ratio))
            bw = int(np.floor(width * self.border_ratio))
            return bh, bw, height - 2 * bh, width - 2 * bw
        h, w = self.crop_size
        if h > height or w > width:
            raise ValueError(f'CenterCropFrames: crop {h}x{w} is larger '
                             f'than the {height}x{width} frames')
        return (height - h) // 2, (width - w) // 2, h, w

    def transform(self, results: dict) -> dict:
        frames = _frames(results, 'CenterCropFrames')
        frames = crop_frames(frames, *self.window(*frames.shape[1:3]))
        results['frames'] = frames
        results['img_shape'] = tuple(frames.shape[1:3])
        return results

    def __repr__(self) -> str:
        if self.border_ratio is not None:
            return (f'{self.__class__.__name__}('
                    f'border_ratio={self.border_ratio!r})')
        return f'{self.__class__.__name__}(crop_size={self.crop_size!r})'


@TRANSFORMS.register_module()
class RandomCropFrames(BaseTransform):
    """Random crop of size ``crop_size`` (h, w), the same for all frames.

    Required keys: ``frames``. Modified: ``frames``, ``img_shape``.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]]):
        self.crop_size = _pair(crop_size, 'crop_size')

    def transform(self, results: dict) -> dict:
        frames = _frames(results, 'RandomCropFrames')
        height, width = frames.shape[1:3]
        h, w = self.crop_size
        if h > height or w > width:
            raise ValueError(f'RandomCropFrames: crop {h}x{w} is larger '
                             f'than the {height}x{width} frames')
        top = np.random.randint(0, height - h + 1)
        left = np.random.randint(0, width - w + 1)
        results['frames'] = crop_frames(frames, top, left, h, w)
        results['img_shape'] = (h, w)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size!r})'


@TRANSFORMS.register_module()
class ResizeFrames(BaseTransform):
    """Resize every frame with ``cv2.resize`` (no antialiasing).

    Args:
        scale (int | tuple[int, int]): Output size ``(w, h)`` as in mmcv's
            ``Resize``; an int gives a square.
        interpolation (str): ``'linear'`` (cv2 default, used by the
            Human3.6M protocols), ``'area'`` (radar,
            ``dataset_protocols.md#meteonet``),
            ``'cubic'``, ``'nearest'``, ``'lanczos'``.

    Required keys: ``frames``. Modified: ``frames``, ``img_shape``.
    """

    def __init__(self,
                 scale: Union[int, Sequence[int]],
                 interpolation: str = 'linear'):
        w, h = _pair(scale, 'scale')
        self.scale = (w, h)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of '
                             f'{tuple(INTERPOLATIONS)}, got '
                             f'{interpolation!r}')
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        frames = _frames(results, 'ResizeFrames')
        w, h = self.scale
        frames = resize_frames(frames, (h, w), self.interpolation)
        results['frames'] = frames
        results['img_shape'] = (h, w)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale!r}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class EncodeRadarFrames(BaseTransform):
    """Turn raw radar values into uint8 frames in a dBZ encoding.

    Reads ``results['radar_values']`` (``[T, H, W, 1]`` of any numeric dtype)
    and these per-source keys set by the dataset: ``value_scale`` (dBZ = raw *
    scale), ``missing_values`` (raw sentinel values of missing data),
    ``no_echo_values`` (raw values meaning "below detection") and
    ``dbz_encoding`` (``'hko'`` or ``'motionrnn'``, see
    ``dataset_protocols.md#dbz-encodings``). The [0, 1] value is
    ``dbz_to_pixel(dBZ)`` (HKO: ``clip((dBZ + 10) / 70, 0, 1)``); missing and
    no-echo pixels get ``fill_dbz`` (default -10 dBZ, i.e. 0 in the HKO
    encoding). The stored pixel is ``round(255 * x)``.

    Modified: adds ``frames`` (np.uint8 ``[T, H, W, 1]``) and
    ``missing_fraction`` (share of missing pixels in the clip); removes
    ``radar_values``.
    """

    def __init__(self, fill_dbz: float = -10.0):
        self.fill_dbz = float(fill_dbz)

    def transform(self, results: dict) -> dict:
        if 'radar_values' not in results:
            raise KeyError("EncodeRadarFrames: results lack 'radar_values' "
                           "(decode with out_key='radar_values')")
        raw = results.pop('radar_values')
        encoding = check_encoding(results.get('dbz_encoding', 'hko'))
        scale = float(results.get('value_scale', 1.0))
        missing = np.zeros(raw.shape, bool)
        for v in results.get('missing_values', ()) or ():
            missing |= raw == v
        no_echo = np.zeros(raw.shape, bool)
        for v in results.get('no_echo_values', ()) or ():
            no_echo |= raw == v
        dbz = raw.astype(np.float32) * scale
        dbz[missing | no_echo] = self.fill_dbz
        x = dbz_to_pixel(dbz, encoding)
        results['frames'] = np.round(x * 255).astype(np.uint8)
        results['missing_fraction'] = float(missing.mean())
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(fill_dbz={self.fill_dbz})'
