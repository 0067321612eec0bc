# Copyright (c) mmvp contributors. All rights reserved.
"""Behaviour every recurrent backbone shares, with and without the
MotionRNN neck: shapes, zero-state start, determinism, gradient flow."""
import pytest
import torch

from mmvp.models import VideoPredictor
from mmvp.registry import MODELS

BACKBONES = {
    'convlstm': dict(type='ConvLSTM'),
    'convlstm_conv': dict(type='ConvLSTM', peephole='conv'),
    'predrnnpp': dict(type='PredRNNpp'),
    'mim': dict(type='MIM', input_size=(4, 4)),
    'predrnnv2': dict(type='PredRNNv2'),
}


@pytest.fixture(autouse=True)
def one_thread():
    # tiny tensors: intra-op threads only add overhead on a busy machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name, neck, **kwargs):
    backbone = dict(
        BACKBONES[name], hidden_channels=8, num_layers=3, kernel_size=3)
    cfg = dict(
        backbone=backbone,
        neck=dict(type='MotionRNNNeck', kernel_size=3) if neck else None,
        img_channels=1,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    cfg.update(kwargs)
    torch.manual_seed(0)
    return VideoPredictor(**cfg)


def clip(batch=2, frames=5, size=8, seed=1):
    torch.manual_seed(seed)
    return torch.rand(batch, frames, 4, size // 2, size // 2)


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_registered_and_built_by_name(name):
    stack = MODELS.build(
        dict(
            BACKBONES[name],
            in_channels=4,
            hidden_channels=8,
            num_layers=2,
            kernel_size=3))
    assert type(stack).__name__ == BACKBONES[name]['type']


@pytest.mark.parametrize('neck', [False, True])
@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_every_parameter_gets_a_gradient(name, neck):
    # DDP with find_unused_parameters=False needs every parameter used
    model = build(name, neck)
    losses = model(clip(), mode='loss')
    total, _ = model.parse_losses(losses)
    total.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing
    zero = [
        n for n, p in model.backbone.named_parameters()
        if not p.grad.abs().sum() > 0
    ]
    assert not zero


@pytest.mark.parametrize('neck', [False, True])
@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_shapes_and_determinism(name, neck):
    model = build(name, neck).eval()
    x = clip()
    out = model(x, mode='tensor')
    assert out.shape == (2, 4, 4, 4, 4)
    assert torch.isfinite(out).all()
    assert torch.equal(model(x, mode='tensor'), out)


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_zero_state_start(name):
    stack = build(name, False).backbone
    frame = torch.randn(2, 4, 4, 4)
    state = stack.init_state(frame)
    tensors = [
        t for v in state.values() for t in (v if isinstance(v, list) else [v])
        if isinstance(t, torch.Tensor)
    ]
    assert len(state['h']) == 3
    assert tensors and all(t.shape == (2, 8, 4, 4) for t in tensors)
    assert all(t.abs().sum() == 0 for t in tensors)
    out, state, _ = stack.forward_step(frame, state)
    assert out.shape == (2, 4, 4, 4)
    assert all(h.shape == (2, 8, 4, 4) for h in state['h'])
    # xavier mode randomises the hidden states (h and c share a tensor)
    state = stack.init_state(frame, mode='xavier_normal')
    assert state['h'][0] is state['c'][0] and state['h'][0].std() > 0


@pytest.mark.parametrize('cfg,memory,shape', [
    (dict(type='ConvLSTM'), False, (2, 8, 4, 4)),
    (dict(type='PredRNN'), True, (2, 8, 4, 4)),
    (dict(type='PredRNNv2'), True, (2, 8, 4, 4)),
    (dict(type='PredRNNpp'), True, (2, 8, 4, 4)),
    (dict(type='MIM', input_size=(4, 4)), True, (2, 8, 4, 4)),
    (dict(type='E3DLSTM', window_length=2), True, (2, 8, 2, 4, 4)),
])
def test_xavier_state_draw_order(cfg, memory, shape):
    """One draw per layer, shared by H and C, then M: the official order,
    so a seed gives the same start states in every backbone."""
    stack = MODELS.build(
        dict(
            cfg, in_channels=4, hidden_channels=8, num_layers=3,
            kernel_size=3))
    frame = torch.randn(2, 4, 4, 4)
    torch.manual_seed(3)
    state = stack.init_state(frame, mode='xavier_normal')
    torch.manual_seed(3)
    expected = [
        torch.nn.init.xavier_normal_(torch.empty(shape))
        for _ in range(4 if memory else 3)
    ]
    assert len(state['h']) == 3
    for layer in range(3):
        assert state['h'][layer] is state['c'][layer]
        assert torch.equal(state['h'][layer], expected[layer])
    assert ('m' in state) == memory
    if memory:
        assert torch.equal(state['m'], expected[3])
