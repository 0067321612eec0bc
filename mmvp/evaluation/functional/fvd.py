# Copyright (c) mmvp contributors. All rights reserved.
"""Frechet video distance helpers (metric_conventions.md#fvd-optional).

* :func:`frechet_distance`: ``||mu_r - mu_g||^2 + Tr(S_r + S_g -
  2 (S_r S_g)^{1/2})`` in float64. The trace of the matrix square root is
  computed exactly through symmetric eigen-decompositions (no scipy):
  ``Tr((S_r S_g)^{1/2}) = Tr((A S_g A)^{1/2})`` with ``A = S_r^{1/2}``,
  because ``S_r S_g`` is similar to the symmetric positive semi-definite
  ``A S_g A``; tiny negative eigenvalues from round-off are set to 0.
* :func:`fvd_clips`: the mmvp FVD protocol: a clip is made RGB (grey
  repeated), uint8-valued float in [0, 255], ``[B, 3, T, H, W]``, and
  stretched in time to at least ``min_frames`` by repeating every frame
  ``ceil(min_frames / T)`` times.
* :func:`load_i3d_detector`: the TorchScript I3D of StyleGAN-V
  (``i3d_torchscript.pt``), called as ``detector(videos, rescale=True,
  resize=True, return_features=True)``.
"""
import math
import os
import os.path as osp
import warnings
from typing import Tuple, Union

import numpy as np
import torch

ArrayLike = Union[torch.Tensor, np.ndarray]

I3D_FILENAME = 'i3d_torchscript.pt'
# Where StyleGAN-V (src/metrics/frechet_video_distance.py) downloads it.
I3D_SOURCE_URL = ('https://www.dropbox.com/s/ge9e5ujwgetktms/'
                  'i3d_torchscript.pt?dl=1')


def _float64(x: ArrayLike, name: str) -> torch.Tensor:
    if isinstance(x, (list, tuple, float, int)):
        x = np.asarray(x, dtype=np.float64)
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise TypeError(f'`{name}` must be a tensor, array or list, got '
                        f'{type(x).__name__}')
    return x.detach().to('cpu', torch.float64)


def feature_statistics(features: ArrayLike
                       ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean and covariance (``ddof=1``, like ``np.cov(rowvar=False)``).

    Args:
        features: ``[N, D]`` with ``N >= 2``.

    Returns:
        tuple: float64 ``mu [D]`` and ``sigma [D, D]``.
    """
    feats = _float64(features, 'features')
    if feats.dim() != 2:
        raise ValueError('`features` must be [N, D], got shape '
                         f'{tuple(feats.shape)}')
    if feats.shape[0] < 2:
        raise ValueError('a covariance needs at least 2 feature vectors, got '
                         f'{feats.shape[0]}')
    mu = feats.mean(0)
    centred = feats - mu
    sigma = centred.T @ centred / (feats.shape[0] - 1)
    return mu, sigma


def _psd_sqrt(mat: torch.Tensor) -> torch.Tensor:
    mat = (mat + mat.T) / 2
    vals, vecs = torch.linalg.eigh(mat)
    return (vecs * vals.clamp(min=0).sqrt()) @ vecs.T


def trace_sqrt_product(sigma1: ArrayLike, sigma2: ArrayLike) -> float:
    """``Tr((sigma1 @ sigma2)^{1/2})`` of two covariance matrices."""
    s1 = _float64(sigma1, 'sigma1')
    s2 = _float64(sigma2, 'sigma2')
    if s1.dim() != 2 or s1.shape != s2.shape or s1.shape[0] != s1.shape[1]:
        raise ValueError('covariances must be square and of one shape, got '
                         f'{tuple(s1.shape)} and {tuple(s2.shape)}')
    root1 = _psd_sqrt(s1)
    inner = root1 @ s2 @ root1
    vals = torch.linalg.eigvalsh((inner + inner.T) / 2)
    return float(vals.clamp(min=0).sqrt().sum())


def frechet_distance(mu1: ArrayLike, sigma1: ArrayLike, mu2: ArrayLike,
                     sigma2: ArrayLike) -> float:
    """Frechet distance of two Gaussians, in float64."""
    m1 = _float64(mu1, 'mu1').reshape(-1)
    m2 = _float64(mu2, 'mu2').reshape(-1)
    if m1.shape != m2.shape:
        raise ValueError(f'means differ in size: {tuple(m1.shape)} and '
                         f'{tuple(m2.shape)}')
    s1 = _float64(sigma1, 'sigma1').reshape(m1.numel(), m1.numel())
    s2 = _float64(sigma2, 'sigma2').reshape(m2.numel(), m2.numel())
    diff = float(((m1 - m2)**2).sum())
    trace = float(torch.trace(s1) + torch.trace(s2))
    value = diff + trace - 2 * trace_sqrt_product(s1, s2)
    # round-off can give -1e-12 for identical sets
    return max(value, 0.0)


def fvd_from_features(real: ArrayLike, fake: ArrayLike) -> float:
    """Frechet distance between two sets of detector features
    ``[N, D]``."""
    mu_r, sigma_r = feature_statistics(real)
    mu_f, sigma_f = feature_statistics(fake)
    return frechet_distance(mu_r, sigma_r, mu_f, sigma_f)


def fvd_clips(frames: torch.Tensor, min_frames: int = 16) -> torch.Tensor:
    """Clips ``[B, T, C, H, W]`` -> detector input ``[B, 3, T', H, W]``.

    Args:
        frames: uint8 (0..255), or float on the [0, 1] scale (clipped and
            truncated to uint8 values like the official code). ``C`` is 1
            (repeated to RGB) or 3.
        min_frames (int): Repeat every frame ``ceil(min_frames / T)`` times
            so that ``T' >= min_frames`` (I3D needs >= 9; 16 is the mmvp
            protocol: 4 + 4 frames -> each frame twice).

    Returns:
        torch.Tensor: float32 in [0, 255].
    """
    if frames.dim() != 5 or frames.shape[2] not in (1, 3):
        raise ValueError('clips must be [B, T, C, H, W] with C = 1 or 3, got '
                         f'shape {tuple(frames.shape)}')
    if frames.dtype == torch.uint8:
        values = frames.float()
    elif frames.is_floating_point():
        values = torch.floor(frames.float().clamp(0, 1) * 255)
    else:
        raise TypeError('clips must be uint8 or float on [0, 1], got '
                        f'{frames.dtype}')
    if values.shape[2] == 1:
        values = values.expand(-1, -1, 3, -1, -1)
    repeat = max(1, math.ceil(min_frames / values.shape[1]))
    if repeat > 1:
        values = values.repeat_interleave(repeat, dim=1)
    return values.permute(0, 2, 1, 3, 4).contiguous()


def load_i3d_detector(path: str,
                      map_location: Union[str, torch.device] = 'cpu'):
    """Load the TorchScript I3D feature detector from a local file.

    Raises:
        FileNotFoundError: naming ``path``, the expected file and where it
            comes from.
    """
    path = osp.expanduser(os.fspath(path))
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'FVD detector weights not found at "{path}". FVDMetric needs '
            f'the TorchScript I3D file "{I3D_FILENAME}" (the Kinetics-400 '
            'I3D used by StyleGAN-V and universome/fvd-comparison; it is '
            f'downloaded from {I3D_SOURCE_URL}). mmvp never downloads it: '
            'fetch it once, place it at that path (or set detector_path in '
            'the metric config) and record its checksum with '
            f'`sha256sum {I3D_FILENAME}` so every result names the '
            'detector it used.')
    with warnings.catch_warnings():
        # torch.jit.load warns that TorchScript is deprecated
        warnings.simplefilter('ignore', DeprecationWarning)
        try:
            detector = torch.jit.load(path, map_location=map_location)
        except Exception as err:  # noqa: B902  re-raised with the path
            raise RuntimeError(
                f'Failed to load the FVD detector "{path}" as a TorchScript '
                f'module ({type(err).__name__}: {err}); expected '
                f'"{I3D_FILENAME}" from {I3D_SOURCE_URL}') from err
    detector.eval()
    return detector
