# Copyright (c) mmvp contributors. All rights reserved.
from typing import Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from mmvp.registry import MODELS
from ..utils import patchify


@MODELS.register_module()
class VideoPredDataPreprocessor(BaseDataPreprocessor):
    """Stack uint8 clips, move them to the device, scale and patchify.

    The pipeline keeps frames as uint8 ``[T, C, H, W]`` per sample; here they
    become float ``[B, T, p*p*C, H/p, W/p]`` on the [0, 1] scale (value /
    255), converted on the device so the host never holds float frames.

    Args:
        patch_size (int): Space-to-depth factor
            (model_equations.md#patch-layout).
        value_scale (float): Divisor applied to integer frames. Float inputs
            are assumed to already be on the [0, 1] scale.
        non_blocking (bool): Copy to the device asynchronously. Defaults
            to True: a blocking copy waits for every kernel queued before
            it, a host synchronisation at the start of each step (see
            docs/en/advanced_guides/customize_models.md). Copies from host
            memory to a device are safe either way; from pinned memory
            (``pin_memory=True`` in the dataloader) they also overlap.
    """

    def __init__(self,
                 patch_size: int = 4,
                 value_scale: float = 255.,
                 non_blocking: bool = True):
        super().__init__(non_blocking=non_blocking)
        if patch_size < 1:
            raise ValueError(f'patch_size must be >= 1, got {patch_size}')
        self.patch_size = patch_size
        self.value_scale = value_scale

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data['inputs']
        if isinstance(inputs, Sequence):
            inputs = torch.stack(list(inputs))
        if inputs.dim() != 5:
            raise ValueError('VideoPredDataPreprocessor expects clips of '
                             'shape [T, C, H, W] (batched [B, T, C, H, W]), '
                             f'got a tensor of shape {tuple(inputs.shape)}')
        if inputs.dtype.is_floating_point:
            frames = inputs.float()
        else:
            frames = inputs.float().div_(self.value_scale)
        return dict(
            inputs=patchify(frames, self.patch_size),
            data_samples=data.get('data_samples'))
