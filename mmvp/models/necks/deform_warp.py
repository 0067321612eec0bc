# Copyright (c) mmvp contributors. All rights reserved.
"""The MotionGRU warp: a modulated deformable convolution (DCNv2).

model_equations.md#warp. For tap ``n = (a, b)``, ``a, b`` in
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


#: Undeformed sampling grids by (h, w, k, device, dtype); see _base_grid.
_GRID_CACHE = {}
_GRID_CACHE_SIZE = 64


def _base_grid(h: int, w: int, k: int, device: torch.device,
               dtype: torch.dtype):
    """``(base, scale)`` of a ``k x k`` warp on an ``h x w`` map.

    ``base`` ``[N, h, w, 2]`` holds the undeformed tap positions
    ``(j + b, i + a)`` already normalised for ``grid_sample`` with
    ``align_corners=True`` (pixel ``p`` <-> ``2p / (size - 1) - 1``; x, the
    column, first) and ``scale`` ``[2]`` the factors that normalise a
    ``(dx, dy)`` offset. Both are computed once in float64, outside
    autograd, and cached per ``(h, w, k, device, dtype)``; under
    ``torch.compile`` they are built inline (and constant-folded).
    """
    key = (h, w, k, device, dtype)
    cached = None if torch.compiler.is_compiling() else _GRID_CACHE.get(key)
    if cached is not None:
        return cached
    # plain tensors even when first called under torch.inference_mode
    with torch.inference_mode(False), torch.no_grad():
        r = (k - 1) // 2
        taps = torch.arange(-r, r + 1, dtype=torch.float64, device=device)
        tap_a = taps.repeat_interleave(k).view(k * k, 1, 1)  # row offset
        tap_b = taps.repeat(k).view(k * k, 1, 1)  # column offset
        rows = torch.arange(h, dtype=torch.float64, device=device)
        cols = torch.arange(w, dtype=torch.float64, device=device)
        sx, sy = 2.0 / (w - 1), 2.0 / (h - 1)
        x = (cols.view(1, 1, w) + tap_b) * sx - 1
        y = (rows.view(1, h, 1) + tap_a) * sy - 1
        base = torch.stack(torch.broadcast_tensors(x, y), dim=-1)
        # filled on the device: torch.tensor(..., device=device) would be
        # a blocking copy from the host
        scale = torch.full((2, ), sx, dtype=torch.float64, device=device)
        scale[1] = sy
        cached = (base.to(dtype).contiguous(), scale.to(dtype))
    if not torch.compiler.is_compiling():
        if len(_GRID_CACHE) >= _GRID_CACHE_SIZE:
            _GRID_CACHE.clear()
        _GRID_CACHE[key] = cached
    return cached


def _warp_grid_sample(feat, offsets, mask, weight):
    b, c, h, w = feat.shape
    k = weight.shape[-1]
    n = k * k
    if h < 2 or w < 2:
        raise ValueError(f'the warp needs maps of at least 2x2, got {h}x{w}')
    # Sample at the offsets' precision: under autocast E (a conv output) is
    # bf16/fp16 while the motion state F stays fp32, and positions rounded
    # to 8 mantissa bits would move samples by up to ~0.06 pixel.
    dtype = torch.promote_types(feat.dtype, offsets.dtype)
    base, scale = _base_grid(h, w, k, offsets.device, dtype)
    # [B, N, h, w, 2] (dx, dy) -> normalised positions, one fused op
    shift = torch.stack([offsets[:, n:], offsets[:, :n]], dim=-1)
    grid = torch.addcmul(base, shift.to(dtype), scale).view(b, n * h, w, 2)
    samples = F.grid_sample(
        feat.to(dtype),
        grid,
        mode='bilinear',
        padding_mode='zeros',
        align_corners=True)  # [B, c, N*h, w]
    samples = samples.view(b, c, n, h, w) * mask.unsqueeze(1)
    return F.conv2d(
        samples.reshape(b, c * n, h, w).to(weight.dtype),
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
