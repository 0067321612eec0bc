# Copyright (c) mmvp contributors. All rights reserved.
"""Pure per-frame metric functions (metric_conventions.md).

Every function takes frame stacks laid out as ``[N, C, H, W]`` (``N`` frames,
for example the ``T_out`` output frames of one sequence) and returns one value
per frame as a float64 tensor of shape ``[N]`` on the input's device. Inputs
may be torch tensors or numpy arrays. Float frames are on the [0, 1] scale.

Only torch is used (no scipy / scikit-image at run time).
"""
import math
from typing import Union

import numpy as np
import torch
import torch.nn.functional as F

ArrayLike = Union[torch.Tensor, np.ndarray]

ROUNDING_MODES = ('trunc', 'round')
PSNR_CONVENTIONS = ('predrnn', 'openstl')


def _to_tensor(x: ArrayLike, name: str) -> torch.Tensor:
    """``x`` as a tensor (a numpy array shares its memory); a TypeError
    for anything else."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'`{name}` must be a torch.Tensor or np.ndarray, '
                        f'got {type(x).__name__}')
    return x


def _as_tensor(x: ArrayLike, name: str) -> torch.Tensor:
    """Convert ``x`` to a tensor and check it is a ``[N, C, H, W]`` stack."""
    x = _to_tensor(x, name)
    if x.dim() != 4:
        raise ValueError(f'`{name}` must have shape [N, C, H, W], got '
                         f'{tuple(x.shape)}')
    return x


def _check_pair(pred: ArrayLike, gt: ArrayLike):
    pred = _as_tensor(pred, 'pred')
    gt = _as_tensor(gt, 'gt')
    if pred.shape != gt.shape:
        raise ValueError(f'`pred` and `gt` must have the same shape, got '
                         f'{tuple(pred.shape)} and {tuple(gt.shape)}')
    return pred, gt.to(pred.device)


def _check_float(x: torch.Tensor, name: str) -> None:
    if not x.is_floating_point():
        raise TypeError(f'`{name}` must be a float tensor on the [0, 1] '
                        f'scale, got dtype {x.dtype}')


def _float64_pair(pred: ArrayLike, gt: ArrayLike, clip_pred: bool):
    """Checked float frame stacks in float64, the prediction clipped to
    [0, 1] when ``clip_pred``."""
    pred, gt = _check_pair(pred, gt)
    _check_float(pred, 'pred')
    _check_float(gt, 'gt')
    pred = pred.double()
    return (pred.clamp(0, 1) if clip_pred else pred), gt.double()


def to_uint8(frames: ArrayLike, rounding: str = 'trunc') -> torch.Tensor:
    """Convert [0, 1] float frames to uint8 like ``np.uint8(clip(v) * 255)``.

    metric_conventions.md#8-bit-conversion: the official code truncates
    (``np.uint8`` of a float drops the fraction). Values are clipped to
    [0, 1] first, so the result is always in 0..255. The product is taken
    in float32 (float64 inputs stay float64), as the official numpy code did
    on float32 arrays.

    Args:
        frames: float frames of any shape on the [0, 1] scale. uint8 input is
            returned unchanged.
        rounding: ``'trunc'`` (official, default) or ``'round'`` (round half
            to even, as ``np.round``).

    Returns:
        torch.Tensor: uint8 tensor of the same shape.
    """
    if rounding not in ROUNDING_MODES:
        raise ValueError(f'`rounding` must be one of {ROUNDING_MODES}, got '
                         f'{rounding!r}')
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if frames.dtype == torch.uint8:
        return frames
    _check_float(frames, 'frames')
    if frames.dtype != torch.float64:
        frames = frames.float()
    scaled = frames.clamp(0, 1) * 255
    if rounding == 'round':
        scaled = torch.round(scaled)
    # float -> uint8 conversion truncates toward zero; values are >= 0.
    return scaled.to(torch.uint8)


def frame_squared_error_sum(pred: ArrayLike,
                            gt: ArrayLike,
                            clip_pred: bool = True) -> torch.Tensor:
    """Per-frame sum over pixels and channels of ``(gt - pred)**2``.

    metric_conventions.md#mse-and-mae-per-frame-sums (official MotionRNN /
    PredRNN "MSE"): the prediction is clipped to [0, 1] first, the truth is
    not; ``clip_pred=False`` gives the OpenSTL convention (no clipping).
    Computed in float64.

    Returns:
        torch.Tensor: float64, shape ``[N]``.
    """
    pred, gt = _float64_pair(pred, gt, clip_pred)
    return (gt - pred).pow(2).flatten(1).sum(1)


def frame_abs_error_sum(pred: ArrayLike,
                        gt: ArrayLike,
                        clip_pred: bool = False) -> torch.Tensor:
    """Per-frame sum over pixels and channels of ``|pred - gt|``.

    metric_conventions.md#mse-and-mae-per-frame-sums (MIM and OpenSTL "MAE"):
    unclipped prediction by default;
    ``clip_pred=True`` clips it to [0, 1] first. Computed in float64.

    Returns:
        torch.Tensor: float64, shape ``[N]``.
    """
    pred, gt = _float64_pair(pred, gt, clip_pred)
    return (pred - gt).abs().flatten(1).sum(1)


def ssim_frames(img1: ArrayLike,
                img2: ArrayLike,
                win_size: int = 7,
                k1: float = 0.01,
                k2: float = 0.03,
                data_range: float = 255.) -> torch.Tensor:
    """Per-frame SSIM with a uniform window (metric_conventions.md#ssim).

    Equals ``skimage.metrics.structural_similarity(a, b, channel_axis=-1,
    data_range=data_range)`` with its defaults (uniform ``win_size`` window,
    sample covariance ``NP / (NP - 1)``, ``(win_size - 1) // 2`` border crop,
    mean, then the average over channels). The inputs are used as given
    (convert [0, 1] floats with :func:`to_uint8` first for the official
    recipe); the computation is in float64.

    Implementation note: the SSIM map restricted to the cropped region only
    reads pixels inside the image, so a "valid" box filter
    (``avg_pool2d`` with no padding) gives exactly the cropped map of a
    reflect-padded filter.

    Args:
        img1, img2: ``[N, C, H, W]`` frames (uint8 or float in
            ``[0, data_range]``).
        win_size: odd window side, >= 3. Default 7.
        k1, k2: SSIM constants, ``C1 = (k1 * L)**2``, ``C2 = (k2 * L)**2``.
        data_range: ``L``, 255 for uint8 frames.

    Returns:
        torch.Tensor: float64, shape ``[N]``.
    """
    img1, img2 = _check_pair(img1, img2)
    if win_size < 3 or win_size % 2 == 0:
        raise ValueError(f'`win_size` must be odd and >= 3, got {win_size}')
    height, width = img1.shape[-2:]
    if height < win_size or width < win_size:
        raise ValueError(f'SSIM needs frames of at least {win_size}x'
                         f'{win_size} pixels, got {height}x{width}')
    x = img1.double()
    y = img2.double()
    num_pix = win_size * win_size
    cov_norm = num_pix / (num_pix - 1)  # sample covariance (49 / 48)
    c1 = (k1 * data_range)**2
    c2 = (k2 * data_range)**2

    def box(v):
        return F.avg_pool2d(v, win_size, stride=1)

    ux, uy = box(x), box(y)
    uxx, uyy, uxy = box(x * x), box(y * y), box(x * y)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    numerator = (2 * ux * uy + c1) * (2 * vxy + c2)
    denominator = (ux * ux + uy * uy + c1) * (vx + vy + c2)
    ssim_map = numerator / denominator
    # mean over the cropped map of each channel, then over channels; all
    # channels have the same size so this is the mean over (C, H', W').
    return ssim_map.flatten(1).mean(1)


def psnr_frames(pred: ArrayLike,
                gt: ArrayLike,
                convention: str = 'predrnn',
                rounding: str = 'trunc') -> torch.Tensor:
    """Per-frame PSNR in dB; ``inf`` where the frames are equal (mse == 0).

    Conventions (metric_conventions.md#psnr):

    - ``'predrnn'`` (default, PredRNN / MIM ``batch_psnr``): both frames
      are converted with :func:`to_uint8` (prediction clipped, truncation by
      default), the integer difference gives ``mse = mean(diff**2)`` over
      ``H * W * C`` and ``psnr = 20 log10(255) - 10 log10(mse)``.
    - ``'openstl'``: float [0, 1] frames, prediction clipped to [0, 1],
      ``psnr = -10 log10(mean((pred - gt)**2))`` (data range 1).

    Returns:
        torch.Tensor: float64, shape ``[N]``.
    """
    if convention not in PSNR_CONVENTIONS:
        raise ValueError(f'`convention` must be one of {PSNR_CONVENTIONS}, '
                         f'got {convention!r}')
    pred, gt = _check_pair(pred, gt)
    if convention == 'predrnn':
        diff = (
            to_uint8(pred, rounding).to(torch.int64) -
            to_uint8(gt, rounding).to(torch.int64))
        mse = diff.pow(2).flatten(1).double().mean(1)
        peak = 20 * math.log10(255.)
    else:
        _check_float(pred, 'pred')
        _check_float(gt, 'gt')
        mse = (pred.double().clamp(0, 1) -
               gt.double()).pow(2).flatten(1).mean(1)
        peak = 0.
    # torch.log10(0) = -inf, so an exact match gives +inf (no warning);
    # the metric class decides what to report for it.
    return peak - 10 * torch.log10(mse)
