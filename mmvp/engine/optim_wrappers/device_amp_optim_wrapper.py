# Copyright (c) mmvp contributors. All rights reserved.
"""Mixed-precision optimizer wrapper for GPUs and CPUs."""
from contextlib import contextmanager
from typing import Optional, Union

import torch
import torch.nn as nn
from mmengine.device import get_device
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmvp.registry import OPTIM_WRAPPERS

# Devices on which MMEngine's own AmpOptimWrapper runs.
_MMENGINE_AMP_DEVICES = ('cuda', 'npu', 'mlu', 'musa')


@OPTIM_WRAPPERS.register_module()
class DeviceAmpOptimWrapper(AmpOptimWrapper):
    """:class:`~mmengine.optim.AmpOptimWrapper` that also runs on CPU.

    On CUDA (and the other devices MMEngine supports) it behaves exactly like
    ``AmpOptimWrapper``: fp16 autocast by default, ``dtype='bfloat16'`` on
    request. On CPU, where MMEngine's wrapper refuses to start, it autocasts
    to bfloat16 with a ``torch.amp.GradScaler('cpu')``. fp16 autocast on
    CPU is refused: PyTorch does not support it and emulating it was
    measured at about 200x slower than fp32 (dependency_notes.md#mmengine).

    The loss-scaler state is saved in and resumed from checkpoints as in
    MMEngine.

    Args:
        loss_scale (float | str | dict): ``'dynamic'``, a static scale or
            ``GradScaler`` keyword arguments. Defaults to ``'dynamic'``.
        dtype (str | torch.dtype, optional): Autocast dtype. ``None`` means
            float16 on GPUs and bfloat16 on CPU. ``'float32'`` disables
            autocast on CPU.
        use_fsdp (bool): Use ``ShardedGradScaler`` (GPU only).
        device (str, optional): Force ``'cpu'`` or a GPU device type.
            Defaults to :func:`mmengine.device.get_device`.
        **kwargs: Passed to :class:`~mmengine.optim.OptimWrapper`.
    """

    def __init__(self,
                 loss_scale: Union[str, float, dict] = 'dynamic',
                 dtype: Optional[Union[str, torch.dtype]] = None,
                 use_fsdp: bool = False,
                 device: Optional[str] = None,
                 **kwargs):
        device_type = (device or get_device()).split(':')[0]
        self.device_type = device_type
        if device_type in _MMENGINE_AMP_DEVICES:
            super().__init__(
                loss_scale=loss_scale,
                dtype=dtype,
                use_fsdp=use_fsdp,
                **kwargs)
            return
        if device_type != 'cpu':
            raise ValueError(
                f'DeviceAmpOptimWrapper: AMP is not supported on device '
                f'{device_type!r}; use cpu or one of '
                f'{", ".join(_MMENGINE_AMP_DEVICES)}.')
        if use_fsdp:
            raise ValueError('DeviceAmpOptimWrapper: use_fsdp=True needs a '
                             'GPU; this run is on CPU.')
        self.cast_dtype = self._cpu_dtype(dtype)

        OptimWrapper.__init__(self, **kwargs)
        self._scale_update_param = None
        if loss_scale == 'dynamic':
            self.loss_scaler = torch.amp.GradScaler('cpu')
        elif isinstance(loss_scale, (int, float)):
            self._scale_update_param = float(loss_scale)
            self.loss_scaler = torch.amp.GradScaler(
                'cpu', init_scale=float(loss_scale))
        elif isinstance(loss_scale, dict):
            self.loss_scaler = torch.amp.GradScaler('cpu', **loss_scale)
        else:
            raise TypeError('loss_scale must be of type float, dict, or '
                            f'"dynamic", but got {loss_scale!r}')

    @classmethod
    def _cpu_dtype(cls, dtype) -> torch.dtype:
        """Validate the autocast dtype for CPU; bfloat16 by default."""
        if dtype is None:
            return torch.bfloat16
        name = dtype if isinstance(dtype, str) else str(dtype).replace(
            'torch.', '')
        if name in ('float16', 'half'):
            raise ValueError(
                'DeviceAmpOptimWrapper: fp16 autocast is not supported on '
                'CPU (PyTorch allows only bfloat16 there, and fp16 is ~200x '
                "slower). Set optim_wrapper.dtype='bfloat16' (or leave it "
                'unset) for CPU runs, or train on a GPU for fp16.')
        if name not in ('bfloat16', 'float32'):
            raise ValueError(
                f'DeviceAmpOptimWrapper: dtype {dtype!r} is not valid on CPU;'
                " expected 'bfloat16' (default) or 'float32' (no autocast).")
        return getattr(torch, name)

    @contextmanager
    def optim_context(self, model: nn.Module):
        """Autocast (and gradient-accumulation no_sync) context."""
        if self.device_type != 'cpu':
            with super().optim_context(model):
                yield
            return
        with OptimWrapper.optim_context(self, model), torch.autocast(
                'cpu',
                dtype=self.cast_dtype,
                enabled=self.cast_dtype != torch.float32):
            yield
