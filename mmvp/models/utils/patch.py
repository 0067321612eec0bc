# Copyright (c) mmvp contributors. All rights reserved.
"""Space-to-depth in PredRNN's channel order (model_equations.md#patch-layout).

::

    patch[b, t, (dy*p + dx)*C + c, i, j] = frame[b, t, c, i*p + dy, j*p + dx]

The channel order is (dy, dx, c) with c fastest. This is *not*
``torch.nn.functional.pixel_unshuffle``, whose order is (c, dy, dx); keeping
the PredRNN order lets official weights and masks port unchanged.
"""
import torch


def patchify(frames: torch.Tensor, patch_size: int) -> torch.Tensor:
    """``[B, T, C, H, W]`` -> ``[B, T, p*p*C, H/p, W/p]``."""
    if patch_size == 1:
        return frames
    b, t, c, h, w = frames.shape
    p = patch_size
    if h % p or w % p:
        raise ValueError(f'frame size {h}x{w} is not divisible by '
                         f'patch_size={p}')
    x = frames.reshape(b, t, c, h // p, p, w // p, p)
    # axes: b t c i dy j dx -> b t dy dx c i j
    x = x.permute(0, 1, 4, 6, 2, 3, 5)
    return x.reshape(b, t, p * p * c, h // p, w // p)


def unpatchify(patches: torch.Tensor, patch_size: int) -> torch.Tensor:
    """Exact inverse of :func:`patchify`."""
    if patch_size == 1:
        return patches
    b, t, cp, hp, wp = patches.shape
    p = patch_size
    if cp % (p * p):
        raise ValueError(f'{cp} channels are not a multiple of '
                         f'patch_size**2={p * p}')
    c = cp // (p * p)
    x = patches.reshape(b, t, p, p, c, hp, wp)
    # axes: b t dy dx c i j -> b t c i dy j dx
    x = x.permute(0, 1, 4, 5, 2, 6, 3)
    return x.reshape(b, t, c, hp * p, wp * p)
