# Copyright (c) mmvp contributors. All rights reserved.
"""Channels-last (NHWC) storage of conv weights and patchified clips.

oneDNN (CPU) and cuDNN's tensor-core kernels run convolutions fastest on
channels-innermost tensors; with NCHW storage every call reorders its
operands. Only strides change: values, shapes and ``state_dict`` keys stay
as they are, and a checkpoint loads either way.
"""
import torch
import torch.nn as nn


def to_channels_last(module: nn.Module) -> nn.Module:
    """Store 4-D parameters ``channels_last`` and 5-D ones
    ``channels_last_3d``, in place (values unchanged). Returns ``module``.
    """
    for param in module.parameters():
        if param.dim() == 4:
            fmt = torch.channels_last
        elif param.dim() == 5:
            fmt = torch.channels_last_3d
        else:
            continue
        if not param.is_contiguous(memory_format=fmt):
            param.data = param.data.contiguous(memory_format=fmt)
    return module


def channels_last_inputs(frames: torch.Tensor) -> torch.Tensor:
    """Patchified clips ``[B, T, C, H, W]`` stored so that every frame
    ``frames[:, t]`` is ``channels_last`` (same values)."""
    if frames.dim() != 5:
        raise ValueError('expected clips [B, T, C, H, W], got shape '
                         f'{tuple(frames.shape)}')
    return frames.permute(0, 1, 3, 4, 2).contiguous().permute(0, 1, 4, 2, 3)
