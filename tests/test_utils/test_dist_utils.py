# Copyright (c) mmvp contributors. All rights reserved.
"""CPU DDP wrapper config (dependency_notes.md#mmengine)."""
import socket
from unittest import mock

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config

from mmvp.utils import (cpu_model_wrapper_cfg, finish_distributed,
                        prepare_distributed, qualify_model_wrapper_type,
                        setup_cpu_distributed)


def test_default_wrapper_cfg_is_added():
    cfg = Config(dict(find_unused_parameters=True))
    cpu_model_wrapper_cfg(cfg)
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=True)


def test_user_wrapper_cfg_only_gets_device_ids():
    cfg = Config(
        dict(
            model_wrapper_cfg=dict(
                type='MMDistributedDataParallel',
                find_unused_parameters=True,
                device_ids=[0])))
    cpu_model_wrapper_cfg(cfg)
    assert cfg.model_wrapper_cfg == dict(
        type='MMDistributedDataParallel',
        find_unused_parameters=True,
        device_ids=None)


def test_non_ddp_wrapper_is_left_alone():
    wrapper = dict(type='MMFullyShardedDataParallel', cpu_offload=True)
    cfg = Config(dict(model_wrapper_cfg=dict(wrapper)))
    cpu_model_wrapper_cfg(cfg)
    assert cfg.model_wrapper_cfg == wrapper


def test_setup_is_a_no_op_without_launcher_or_with_cuda():
    cfg = Config(dict(launcher='none'))
    assert not setup_cpu_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg
    cfg = Config(dict(launcher='pytorch'))
    with mock.patch.object(torch.cuda, 'is_available', return_value=True):
        assert not setup_cpu_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg


def test_setup_initialises_gloo_for_pytorch_launcher():
    cfg = Config(
        dict(launcher='pytorch', env_cfg=dict(dist_cfg=dict(timeout=60))))
    with mock.patch('torch.cuda.is_available', return_value=False), \
            mock.patch('torch.distributed.is_initialized',
                       return_value=False), \
            mock.patch('torch.distributed.init_process_group') as init:
        assert setup_cpu_distributed(cfg)
    assert init.call_args.kwargs['backend'] == 'gloo'
    assert init.call_args.kwargs['timeout'].total_seconds() == 60
    assert cfg.model_wrapper_cfg.device_ids is None


def test_registered_ddp_subclass_gets_device_ids():
    from mmengine.model import MMDistributedDataParallel

    from mmvp.registry import MODEL_WRAPPERS

    @MODEL_WRAPPERS.register_module(force=True)
    class DistUtilsTestDDP(MMDistributedDataParallel):
        pass

    cfg = Config(dict(model_wrapper_cfg=dict(type='DistUtilsTestDDP')))
    cpu_model_wrapper_cfg(cfg)
    assert cfg.model_wrapper_cfg == dict(
        type='DistUtilsTestDDP', device_ids=None)


def test_mmvp_wrapper_type_is_scope_qualified():
    from mmengine.registry import MODEL_WRAPPERS as ROOT_WRAPPERS

    from mmvp.registry import MODEL_WRAPPERS

    @MODEL_WRAPPERS.register_module(force=True)
    class DistUtilsQualifiedDDP(nn.Module):
        pass

    cfg = Config(dict(model_wrapper_cfg=dict(type='DistUtilsQualifiedDDP')))
    qualify_model_wrapper_type(cfg)
    assert cfg.model_wrapper_cfg.type == 'mmvp.DistUtilsQualifiedDDP'
    assert ROOT_WRAPPERS.get(cfg.model_wrapper_cfg.type) is \
        DistUtilsQualifiedDDP
    # MMEngine's own names and qualified names are kept
    for name in ('MMDistributedDataParallel', 'mmvp.DistUtilsQualifiedDDP'):
        cfg = Config(dict(model_wrapper_cfg=dict(type=name)))
        qualify_model_wrapper_type(cfg)
        assert cfg.model_wrapper_cfg.type == name


def test_prepare_distributed_is_a_no_op_without_launcher():
    cfg = Config(dict(model_wrapper_cfg=dict(type='VideoPredictorDDP')))
    prepare_distributed(cfg, 'none')
    assert cfg.model_wrapper_cfg.type == 'VideoPredictorDDP'


def test_finish_distributed_destroys_the_process_group():
    finish_distributed()  # no group: nothing to do
    assert not dist.is_initialized()
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    dist.init_process_group(
        'gloo', init_method=f'tcp://127.0.0.1:{port}', rank=0, world_size=1)
    try:
        with mock.patch(
                'torch.distributed.barrier', wraps=dist.barrier) as barrier:
            finish_distributed()
        barrier.assert_called_once()
        assert not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
