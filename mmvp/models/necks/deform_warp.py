# Copyright (c) mmvp contributors. All rights reserved.
"""The MotionGRU warp: a modulated deformable convolution (DCNv2).

spec/models.md section 3.3. For tap ``n = (a, b)``, ``a, b`` in
``{-r..r}`` (row-major, ``n = (a + r) * k + (b + r)``)::

    Y[o,i,j] = sum_c sum_n W[o,c,a,b] * m[n,i,j]
               * bilinear0(E[c], i + a + F[n], j + b + F[N + n])

``F`` holds all row offsets first, then all column offsets; ``bilinear0``
reads zeros outside the map. Two numerically equal paths:

* ``grid_sample``: one sampling call for all ``k*k`` taps (taps stacked
  along the height axis), then a 1x1 contraction with ``W``;
* ``torchvision``: ``torchvision.ops.deform_conv2d`` with the offsets
  interleaved per tap as ``(dy, dx)``, used when torchvision is installed.
"""
import torch
import torch.nn.functional as F

_TORCHVISION_DEFORM = None


def _torchvision_deform_conv2d():
    global _TORCHVISION_DEFORM
    if _TORCHVISION_DEFORM is None:
        try:
            from torchvision.ops import deform_conv2d
        except Exception:  # not installed, or built for another torch
            deform_conv2d = False
        _TORCHVISION_DEFORM = deform_conv2d
    return _TORCHVISION_DEFORM


def torchvision_available() -> bool:
    """Whether ``torchvision.ops.deform_conv2d`` can be used."""
    return bool(_torchvision_deform_conv2d())


def offsets_to_interleaved(offsets: torch.Tensor) -> torch.Tensor:
    """``[all dy | all dx]`` (MotionRNN) -> per-tap ``(dy, dx)`` (DCN)."""
    b, c2, h, w = offsets.shape
    n = c2 // 2
    return torch.stack([offsets[:, :n], offsets[:, n:]],
                       dim=2).reshape(b, c2, h, w)


def _warp_grid_sample(feat, offsets, mask, weight):
    b, c, h, w = feat.shape
    k = weight.shape[-1]
    n = k * k
    r = (k - 1) // 2
    if h < 2 or w < 2:
        raise ValueError(f'the warp needs maps of at least 2x2, got {h}x{w}')
    dtype = offsets.dtype
    device = offsets.device
    taps = torch.arange(-r, r + 1, device=device, dtype=dtype)
    tap_a = taps.repeat_interleave(k).view(1, n, 1, 1)  # row offset of tap
    tap_b = taps.repeat(k).view(1, n, 1, 1)  # column offset of tap
    rows = torch.arange(h, device=device, dtype=dtype).view(1, 1, h, 1)
    cols = torch.arange(w, device=device, dtype=dtype).view(1, 1, 1, w)
    y = rows + tap_a + offsets[:, :n]  # [B, N, h, w]
    x = cols + tap_b + offsets[:, n:]
    # align_corners=True: pixel p <-> 2p/(size-1) - 1; x (column) first.
    grid = torch.stack([x * (2.0 / (w - 1)) - 1, y * (2.0 / (h - 1)) - 1],
                       dim=-1)
    grid = grid.reshape(b, n * h, w, 2).to(feat.dtype)
    samples = F.grid_sample(
        feat, grid, mode='bilinear', padding_mode='zeros',
        align_corners=True)  # [B, c, N*h, w]
    samples = samples.view(b, c, n, h, w) * mask.unsqueeze(1).to(feat.dtype)
    return F.conv2d(
        samples.reshape(b, c * n, h, w),
        weight.reshape(weight.shape[0], c * n, 1, 1))


def _warp_torchvision(feat, offsets, mask, weight):
    k = weight.shape[-1]
    deform_conv2d = _torchvision_deform_conv2d()
    return deform_conv2d(
        feat,
        offsets_to_interleaved(offsets).to(feat.dtype),
        weight,
        bias=None,
        stride=1,
        padding=(k - 1) // 2,
        dilation=1,
        mask=mask.to(feat.dtype))


def deform_warp(feat: torch.Tensor,
                offsets: torch.Tensor,
                mask: torch.Tensor,
                weight: torch.Tensor,
                impl: str = 'auto') -> torch.Tensor:
    """Warp ``feat`` ``[B, c, h, w]`` by ``offsets`` ``[B, 2N, h, w]``.

    Args:
        feat: The encoded hidden state E.
        offsets: The filter F; channels ``[:N]`` row (y) offsets and
            ``[N:]`` column (x) offsets in tap order.
        mask: ``[B, N, h, w]`` modulation, one scalar per tap and pixel.
        weight: ``[c_out, c, k, k]`` warp convolution weight, ``N = k*k``.
        impl: ``'grid_sample'``, ``'torchvision'``, or ``'auto'``
            (torchvision when available, else grid_sample).
    """
    k = weight.shape[-1]
    n = k * k
    if weight.shape[-2] != k or k % 2 == 0:
        raise ValueError('the warp kernel must be square and odd, got '
                         f'{tuple(weight.shape[-2:])}')
    if offsets.shape[1] != 2 * n or mask.shape[1] != n:
        raise ValueError(f'a {k}x{k} warp needs {2 * n} offset channels and '
                         f'{n} mask channels, got {offsets.shape[1]} and '
                         f'{mask.shape[1]}')
    if impl == 'auto':
        impl = 'torchvision' if torchvision_available() else 'grid_sample'
    if impl == 'grid_sample':
        return _warp_grid_sample(feat, offsets, mask, weight)
    if impl == 'torchvision':
        if not torchvision_available():
            raise RuntimeError("warp impl='torchvision' needs an importable "
                               'torchvision.ops.deform_conv2d; install a '
                               "torchvision that matches torch or use "
                               "impl='grid_sample'")
        return _warp_torchvision(feat, offsets, mask, weight)
    raise ValueError(f"warp impl must be 'auto', 'grid_sample' or "
                     f"'torchvision', got {impl!r}")
