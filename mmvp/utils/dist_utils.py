# Copyright (c) mmvp contributors. All rights reserved.
"""Distributed runs on machines without CUDA (gloo backend)."""
import datetime
import gc
from typing import Optional

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

__all__ = [
    'prepare_distributed', 'finish_distributed', 'setup_cpu_distributed',
    'cpu_model_wrapper_cfg', 'qualify_model_wrapper_type'
]


def _is_ddp_wrapper(wrapper_type) -> bool:
    """Whether MMEngine would give this wrapper ``device_ids``: the same
    test as ``Runner.wrap_model`` (a DistributedDataParallel subclass)."""
    from torch.nn.parallel import DistributedDataParallel

    from mmvp.registry import MODEL_WRAPPERS
    if isinstance(wrapper_type, str):
        try:
            wrapper_type = MODEL_WRAPPERS.get(wrapper_type)
        except Exception:  # noqa: B902  unknown scope prefix
            wrapper_type = None
        if wrapper_type is None:
            return False
    return isinstance(wrapper_type, type) and issubclass(
        wrapper_type, DistributedDataParallel)


def cpu_model_wrapper_cfg(cfg: Config) -> None:
    """Make the DDP wrapper config usable for CPU modules, in place.

    MMEngine passes ``device_ids=[LOCAL_RANK]`` to DDP, which only works for
    GPU modules. Without a wrapper config this sets
    ``model_wrapper_cfg=dict(type='MMDistributedDataParallel',
    device_ids=None, ...)``, keeping the config's
    ``find_unused_parameters``; a user wrapper config that subclasses
    ``DistributedDataParallel`` only gets ``device_ids=None``.
    """
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        return
    if not _is_ddp_wrapper(wrapper.get('type', 'MMDistributedDataParallel')):
        return
    if wrapper.get('device_ids', None) is not None:
        print_log(
            f'model_wrapper_cfg.device_ids={wrapper["device_ids"]} needs '
            'CUDA; using device_ids=None for this CPU run.',
            logger='current')
    wrapper['device_ids'] = None


def setup_cpu_distributed(cfg: Config, launcher: Optional[str] = None) -> bool:
    """Prepare a distributed run when CUDA is absent
    (dependency_notes.md#mmengine).

    MMEngine's ``init_dist`` calls ``torch.cuda.set_device`` and its DDP
    wrapper passes ``device_ids=[LOCAL_RANK]``; both fail on CPU. For the
    ``pytorch`` launcher (torchrun) this creates the gloo process group
    first, so the Runner skips its own initialisation, and it adapts the
    model wrapper config (:func:`cpu_model_wrapper_cfg`).

    Args:
        cfg (Config): The full config; modified in place.
        launcher (str, optional): Defaults to ``cfg.launcher``.

    Returns:
        bool: True if the CPU set-up was applied.
    """
    launcher = launcher or cfg.get('launcher', 'none')
    if launcher == 'none' or torch.cuda.is_available():
        return False
    if launcher != 'pytorch':
        print_log(
            f'launcher={launcher!r} without CUDA: MMEngine initialises this '
            'launcher for GPUs only. For CPU runs use --launcher pytorch '
            '(tools/dist_train.sh).',
            logger='current')
    elif not dist.is_initialized():
        kwargs = {}
        timeout = cfg.get('env_cfg', {}).get('dist_cfg', {}).get('timeout')
        if timeout is not None:
            kwargs['timeout'] = datetime.timedelta(seconds=timeout)
        dist.init_process_group(backend='gloo', **kwargs)
    cpu_model_wrapper_cfg(cfg)
    return True


def qualify_model_wrapper_type(cfg: Config) -> None:
    """Prefix an mmvp model wrapper type with its scope, in place.

    ``Runner.wrap_model`` looks the wrapper class up in MMEngine's root
    registry, which does not see mmvp's child registry, so
    ``type='VideoPredictorDDP'`` would resolve to None there. The
    scope-qualified name ``'mmvp.VideoPredictorDDP'`` resolves in both.
    """
    from mmengine.registry import MODEL_WRAPPERS as ROOT_WRAPPERS

    from mmvp.registry import MODEL_WRAPPERS
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None or not isinstance(wrapper.get('type'), str):
        return
    name = wrapper['type']
    if '.' in name or ROOT_WRAPPERS.get(name) is not None:
        return
    if MODEL_WRAPPERS.get(name) is not None:
        wrapper['type'] = f'{MODEL_WRAPPERS.scope}.{name}'


def prepare_distributed(cfg: Config, launcher: Optional[str] = None) -> None:
    """Everything the tools do before building a distributed Runner:
    :func:`qualify_model_wrapper_type` and, without CUDA,
    :func:`setup_cpu_distributed`. A no-op for ``launcher='none'``."""
    launcher = launcher or cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    qualify_model_wrapper_type(cfg)
    setup_cpu_distributed(cfg, launcher)


def finish_distributed() -> None:
    """End a run that succeeded: wait for every rank, collect the objects
    that hold the process group, then destroy it. A no-op when no process
    group exists.

    Call it after the last reference to the Runner is dropped (``del
    runner``). The Runner's DDP wrapper holds the group and sits in
    reference cycles, so without a collection here it, and with it the
    group's C++ object and gloo's worker threads, would only be freed
    during interpreter finalisation, where that can abort the process
    (SIGABRT, "terminate called without an active exception") after the
    work is done and fail a finished job. PyTorch asks every process to
    call ``destroy_process_group`` at the end of ``main``. The tools call
    this only after success: a rank that failed must not wait in the
    barrier for ranks that will never reach it.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    dist.barrier()
    gc.collect()
    dist.destroy_process_group()
