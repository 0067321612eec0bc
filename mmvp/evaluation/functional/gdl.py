# Copyright (c) mmvp contributors. All rights reserved.
"""Gradient difference (GDL) per frame (metric_conventions.md#gdl).

The nowcasting metric form (HKO-7 ``get_GDL``; Mathieu et al. 2016) with
forward differences along rows (``h``) and columns (``w``)::

    gdl = sum |(|d_h g| - |d_h x|)|**alpha + sum |(|d_w g| - |d_w x|)|**alpha

on [0, 1] values, summed over pixels and channels of a frame. The MotionRNN
paper gives no formula, exponent or normalisation and no official code
computes GDL, so its Table 4/5 GDL values are **not reproducible exactly**
(metric_conventions.md#gdl); mmvp's default is ``alpha=1``,
``reduction='sum'``, prediction clipped to [0, 1].
"""
from typing import Optional

import torch

from .frame_metrics import ArrayLike, _to_tensor

GDL_REDUCTIONS = ('sum', 'mean')


def _as_frames(x: ArrayLike, name: str) -> torch.Tensor:
    x = _to_tensor(x, name)
    if x.dim() != 4 or not x.is_floating_point():
        raise ValueError(f'`{name}` must be a float stack [N, C, H, W] on '
                         f'the [0, 1] scale, got shape {tuple(x.shape)} '
                         f'dtype {x.dtype}')
    return x


def gdl_frames(pred: ArrayLike,
               gt: ArrayLike,
               alpha: float = 1.0,
               clip_pred: bool = True,
               reduction: str = 'sum',
               mask: Optional[ArrayLike] = None) -> torch.Tensor:
    """Gradient difference of each frame.

    Args:
        pred: predicted frames ``[N, C, H, W]``, float on [0, 1].
        gt: true frames, same shape.
        alpha (float): Exponent of the absolute gradient difference.
            Defaults to 1.
        clip_pred (bool): Clip the prediction to [0, 1] first. Defaults to
            True.
        reduction (str): ``'sum'`` (over pixels and channels, default) or
            ``'mean'`` (that sum divided by ``C * H * W``).
        mask: optional validity mask broadcastable to ``[N, C, H, W]``; a
            difference counts where both of its pixels are valid (as in
            HKO-7).

    Returns:
        torch.Tensor: float64 ``[N]``.
    """
    if reduction not in GDL_REDUCTIONS:
        raise ValueError(f'`reduction` must be one of {GDL_REDUCTIONS}, got '
                         f'{reduction!r}')
    if alpha <= 0:
        raise ValueError(f'`alpha` must be > 0, got {alpha}')
    pred = _as_frames(pred, 'pred')
    gt = _as_frames(gt, 'gt')
    if pred.shape != gt.shape:
        raise ValueError(f'`pred` and `gt` must have the same shape, got '
                         f'{tuple(pred.shape)} and {tuple(gt.shape)}')
    g = pred.double()
    x = gt.to(pred.device).double()
    if clip_pred:
        g = g.clamp(0, 1)
    n = g.shape[0]
    total = torch.zeros(n, dtype=torch.float64, device=g.device)
    valid = None
    if mask is not None:
        valid = torch.as_tensor(mask, device=g.device).bool().expand_as(g)
    for dim in (2, 3):  # rows (h), then columns (w)
        size = g.shape[dim]
        if size < 2:
            continue
        d_g = (g.narrow(dim, 1, size - 1) - g.narrow(dim, 0, size - 1)).abs()
        d_x = (x.narrow(dim, 1, size - 1) - x.narrow(dim, 0, size - 1)).abs()
        term = (d_g - d_x).abs()
        if alpha != 1:
            term = term.pow(alpha)
        if valid is not None:
            both = valid.narrow(dim, 1, size - 1) & valid.narrow(
                dim, 0, size - 1)
            term = term * both
        total += term.reshape(n, -1).sum(1)
    if reduction == 'mean':
        total = total / g[0].numel()
    return total
