# Copyright (c) mmvp contributors. All rights reserved.
"""NonFiniteSkipOptimWrapper and its AMP flavour: the update of a NaN/Inf
loss leaves the parameters, the optimizer state and the loss scaler as
they were (for fused, foreach and stateless optimizers, at the first step
and later), a finite loss updates exactly as the plain wrapper does, and
a bad batch inside a gradient-accumulation window drops the window. Each
is checked with the flag read on the host (the CPU default) and kept on
the device (the accelerator path: fused ``found_inf`` or copy and
``torch.where``)."""
import copy

import pytest
import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmvp.engine import (DeviceAmpOptimWrapper, NonFiniteSkipAmpOptimWrapper,
                         NonFiniteSkipMixin, NonFiniteSkipOptimWrapper)
from mmvp.registry import OPTIM_WRAPPERS

OPTIMIZERS = {
    'sgd': lambda p: torch.optim.SGD(p, lr=0.1),
    'sgd_momentum': lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    'adam': lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.01),
    'adam_fused': lambda p: torch.optim.Adam(p, lr=0.1, fused=True),
    'adamw_foreach': lambda p: torch.optim.AdamW(p, lr=0.1, foreach=True),
}


def _model():
    torch.manual_seed(0)
    return nn.Linear(3, 2)


def _loss(model, scale=1.0):
    return (model(torch.ones(4, 3))**2).mean() * scale


def _state(wrapper, model):
    return copy.deepcopy(
        dict(
            params=[p.detach() for p in model.parameters()],
            optim=wrapper.state_dict()))


def _assert_same(a, b):
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), (a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


@pytest.fixture(params=[None, False], ids=['host', 'device'])
def host_check(request, monkeypatch):
    monkeypatch.setattr(NonFiniteSkipMixin, '_host_check', request.param)
    return request.param


@pytest.mark.parametrize('name', sorted(OPTIMIZERS))
@pytest.mark.parametrize('bad', [float('nan'), float('inf')])
@pytest.mark.parametrize('first', [True, False])
def test_nonfinite_update_changes_nothing(name, bad, first, host_check):
    model = _model()
    wrapper = NonFiniteSkipOptimWrapper(
        optimizer=OPTIMIZERS[name](model.parameters()))
    if not first:  # the optimizer state exists already
        wrapper.update_params(_loss(model))
    before = _state(wrapper, model)
    wrapper.update_params(_loss(model, bad))
    _assert_same(_state(wrapper, model), before)
    assert all(p.grad is None or not p.grad.any() for p in model.parameters())
    events = wrapper.pop_nonfinite_events()
    assert len(events) == 1 and events[0]['local']
    assert events[0]['loss'] != events[0]['loss'] or \
        abs(events[0]['loss']) == float('inf')
    assert wrapper.pop_nonfinite_events() == []


@pytest.mark.parametrize('name', sorted(OPTIMIZERS))
def test_finite_updates_match_the_plain_wrapper(name, host_check):
    plain_model, model = _model(), _model()
    plain = OptimWrapper(optimizer=OPTIMIZERS[name](plain_model.parameters()))
    wrapper = NonFiniteSkipOptimWrapper(
        optimizer=OPTIMIZERS[name](model.parameters()))
    for scale in (1.0, float('nan'), 2.0, 3.0):
        if scale == scale:
            plain.update_params(_loss(plain_model, scale))
        wrapper.update_params(_loss(model, scale))
    _assert_same(_state(wrapper, model), _state(plain, plain_model))
    assert len(wrapper.pop_nonfinite_events()) == 1


def test_bad_batch_drops_the_accumulation_window(host_check):
    model = _model()
    wrapper = NonFiniteSkipOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
        accumulative_counts=3)
    wrapper.initialize_count_status(model, 0, 6)
    ref_model = _model()
    ref = OptimWrapper(
        optimizer=torch.optim.SGD(ref_model.parameters(), lr=0.1),
        accumulative_counts=3)
    ref.initialize_count_status(ref_model, 0, 6)
    # window 1: good, bad, good -> only the third batch is stepped
    for scale in (5.0, float('nan'), 1.0):
        wrapper.update_params(_loss(model, scale))
    for scale in (0.0, 0.0, 1.0):
        ref.update_params(_loss(ref_model, scale))
    _assert_same(_state(wrapper, model), _state(ref, ref_model))
    # window 2 ends with a bad batch -> no step at all
    before = _state(wrapper, model)
    for scale in (1.0, 1.0, float('inf')):
        wrapper.update_params(_loss(model, scale))
    _assert_same(_state(wrapper, model), before)
    assert len(wrapper.pop_nonfinite_events()) == 2


@pytest.mark.parametrize('first', [True, False])
def test_amp_flavour_keeps_the_loss_scaler(first, host_check):
    model = _model()
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='NonFiniteSkipAmpOptimWrapper',
            optimizer=torch.optim.Adam(model.parameters(), lr=0.1),
            device='cpu',
            loss_scale=dict(init_scale=2.**8, growth_interval=1)))
    assert isinstance(wrapper, DeviceAmpOptimWrapper)
    assert isinstance(wrapper, NonFiniteSkipAmpOptimWrapper)
    if not first:
        with wrapper.optim_context(model):
            wrapper.update_params(_loss(model).float())
    before = _state(wrapper, model)
    with wrapper.optim_context(model):
        wrapper.update_params(_loss(model, float('nan')).float())
    after = _state(wrapper, model)
    _assert_same(after, before)
    if not first:  # growth_interval=1: a finite step doubles the scale
        assert after['optim']['loss_scaler']['scale'] == 2.**9
    with wrapper.optim_context(model):
        wrapper.update_params(_loss(model).float())
    assert not torch.equal(model.weight, before['params'][0])


def test_settings_are_checked():
    model = _model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match='max_consecutive_skips'):
            NonFiniteSkipOptimWrapper(
                optimizer=optimizer, max_consecutive_skips=bad)
    wrapper = OPTIM_WRAPPERS.build(
        dict(
            type='NonFiniteSkipOptimWrapper',
            optimizer=optimizer,
            skip_nonfinite=True,
            max_consecutive_skips=None))
    assert wrapper.skip_nonfinite and wrapper.max_consecutive_skips is None


def test_fused_optimizer_gets_the_flag_on_the_device(monkeypatch):
    """On an accelerator a fused optimizer skips in its kernel: it is
    handed ``found_inf`` and no copy of the state is made."""
    monkeypatch.setattr(NonFiniteSkipMixin, '_host_check', False)
    model = _model()
    wrapper = NonFiniteSkipOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=0.1, fused=True))
    wrapper.update_params(_loss(model))  # the first step creates the state
    seen = []
    step = wrapper.optimizer.step

    def spy(*args, **kwargs):
        seen.append(float(wrapper.optimizer.found_inf))
        return step(*args, **kwargs)

    monkeypatch.setattr(wrapper.optimizer, 'step', spy)
    monkeypatch.setattr(wrapper, '_snapshot', None)  # must not be needed
    wrapper.update_params(_loss(model, float('nan')))
    wrapper.update_params(_loss(model))
    assert seen == [1.0, 0.0]
    assert not hasattr(wrapper.optimizer, 'found_inf')
