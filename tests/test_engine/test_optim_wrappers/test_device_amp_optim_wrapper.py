# Copyright (c) mmvp contributors. All rights reserved.
"""AMP optimizer wrapper on CPU (bf16) (dependency_notes.md#mmengine)."""
import copy

import pytest
import torch
import torch.nn as nn

from mmvp.engine.optim_wrappers import DeviceAmpOptimWrapper
from mmvp.registry import OPTIM_WRAPPERS


def _wrapper(model, **kwargs):
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    return OPTIM_WRAPPERS.build(
        dict(type='DeviceAmpOptimWrapper', optimizer=optimizer, **kwargs))


def test_cpu_autocasts_to_bf16_and_updates():
    torch.manual_seed(0)
    model = nn.Linear(4, 3)
    wrapper = _wrapper(model, device='cpu')
    assert isinstance(wrapper, DeviceAmpOptimWrapper)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.rand(2, 4))
        assert out.dtype == torch.bfloat16
        loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.weight.dtype == torch.float32
    assert not torch.equal(before, model.weight)
    # outside the context nothing is cast
    assert model(torch.rand(2, 4)).dtype == torch.float32


def test_cpu_float32_disables_autocast():
    model = nn.Linear(4, 3)
    wrapper = _wrapper(model, device='cpu', dtype='float32')
    with wrapper.optim_context(model):
        assert model(torch.rand(2, 4)).dtype == torch.float32


@pytest.mark.parametrize('dtype', ['float16', torch.float16])
def test_cpu_refuses_fp16(dtype):
    with pytest.raises(ValueError, match=r"fp16.*CPU.*bfloat16"):
        _wrapper(nn.Linear(2, 2), device='cpu', dtype=dtype)


def test_cpu_refuses_other_dtypes_and_fsdp():
    with pytest.raises(ValueError, match='float64'):
        _wrapper(nn.Linear(2, 2), device='cpu', dtype='float64')
    with pytest.raises(ValueError, match='use_fsdp'):
        _wrapper(nn.Linear(2, 2), device='cpu', use_fsdp=True)


def test_state_dict_round_trip_keeps_loss_scaler():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    wrapper = _wrapper(model, device='cpu', loss_scale=dict(init_scale=256.))
    for _ in range(2):
        with wrapper.optim_context(model):
            loss = model(torch.rand(3, 4)).float().mean()
        wrapper.update_params(loss)
    state = wrapper.state_dict()
    assert state['loss_scaler']['scale'] == 256.
    assert state['loss_scaler']['_growth_tracker'] == 2

    model2 = nn.Linear(4, 1)
    restored = _wrapper(model2, device='cpu')
    restored.load_state_dict(copy.deepcopy(state))
    assert restored.loss_scaler.get_scale() == 256.
    assert restored.state_dict()['loss_scaler'] == state['loss_scaler']


def test_static_loss_scale():
    model = nn.Linear(2, 1)
    wrapper = _wrapper(model, device='cpu', loss_scale=64.)
    assert wrapper.loss_scaler.get_scale() == 64.
    with pytest.raises(TypeError, match='loss_scale'):
        _wrapper(model, device='cpu', loss_scale='static')


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_defaults_to_fp16():
    model = nn.Linear(4, 3).cuda()
    wrapper = _wrapper(model)
    with wrapper.optim_context(model):
        assert model(torch.rand(2, 4).cuda()).dtype == torch.float16
