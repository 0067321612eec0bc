# Copyright (c) mmvp contributors. All rights reserved.
"""MotionRNN on E3D-LSTM: the 3-D neck
(model_equations.md#3-d-motiongru-for-e3d-lstm)."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from mmvp.models import MotionGRU3D, MotionRNNNeck3D, VideoPredictor
from mmvp.models.necks import deform_warp
from mmvp.registry import MODELS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs')


@pytest.fixture(autouse=True)
def one_thread():
    # tiny convs: thread hand-offs cost more than the work on busy machines
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_motion_gru_3d_step_by_hand():
    torch.manual_seed(0)
    block = MotionGRU3D(
        hidden_channels=8, neighbour=3, kernel_size=3,
        window_length=2).double()
    for conv in (block.update, block.reset, block.output, block.warp_mask):
        # zero-initialised (model_equations.md#initialisation)
        assert conv.weight.abs().sum() == 0
        torch.nn.init.normal_(conv.weight, std=0.1)
    h = torch.randn(2, 8, 2, 6, 6, dtype=torch.float64)
    filt = torch.randn(2, 18, 3, 3, dtype=torch.float64)
    trend = torch.randn(2, 18, 3, 3, dtype=torch.float64)
    assert block.state_shape(h) == (2, 18, 3, 3)

    enc_conv, dec_conv = block.enc[0], block.dec[1]
    e = F.conv3d(
        h, enc_conv.weight, enc_conv.bias, stride=(2, 2, 2), padding=(0, 1, 1))
    assert e.shape == (2, 2, 1, 3, 3)  # time folded, half resolution
    e = e[:, :, 0]
    ef = torch.cat([e, filt], 1)
    u = torch.sigmoid(block.update(ef))
    r = torch.sigmoid(block.reset(ef))
    z = torch.tanh(block.output(torch.cat([e, r * filt], 1)))
    f_new = u * z + (1 - u) * filt + trend + 0.5 * (filt - trend)
    y = deform_warp(e, f_new, torch.sigmoid(block.warp_mask(e)),
                    block.warp_weight)
    dec = F.conv_transpose3d(
        y[:, :, None],
        dec_conv.weight,
        dec_conv.bias,
        stride=(2, 2, 2),
        padding=(0, 1, 1))
    assert dec.shape == h.shape
    assert block.gate.kernel_size == (1, 3, 3)
    g = torch.sigmoid(block.gate(torch.cat([dec, h], 1)))
    x = g * dec + (1 - g) * h

    out, f_out, _ = block(h, filt, trend)
    assert torch.allclose(out, x, atol=1e-12)
    assert torch.allclose(f_out, f_new)
    with pytest.raises(ValueError, match='window_length=2'):
        block(h[:, :, :1], filt, trend)


def test_neck_3d_highway_on_the_window():
    torch.manual_seed(0)
    neck = MotionRNNNeck3D(
        in_channels=4, hidden_channels=8, num_layers=3, kernel_size=3)
    assert len(neck.blocks) == 2
    assert all(isinstance(b, MotionGRU3D) for b in neck.blocks)
    window = torch.randn(2, 4, 2, 4, 4)
    v = neck.begin_step(window)
    assert torch.allclose(
        v,
        torch.einsum('oc,bcthw->bothw',
                     neck.highway.conv_first_v.weight.flatten(1), window))
    h = torch.randn(2, 8, 2, 4, 4)
    o = torch.rand(2, 8, 2, 4, 4)
    state = neck.init_state(h)
    assert state[0][0].shape == (2, 18, 2, 2)
    fused, v1, state = neck.after_layer(0, h, o, v, state)
    assert torch.allclose(v1, h + (1 - o) * v)  # raw output carried on
    assert fused.shape == h.shape
    top, _, _ = neck.after_layer(2, h, o, v1, state)
    assert torch.allclose(top, h + (1 - o) * v1)
    with pytest.raises(ValueError, match='input window'):
        neck.begin_step(window[:, :, 0])


def build(neck, **backbone):
    cfg = dict(
        type='E3DLSTM',
        hidden_channels=8,
        num_layers=3,
        kernel_size=3,
        temporal_kernel=2)
    cfg.update(backbone)
    return VideoPredictor(
        backbone=cfg,
        neck=neck,
        img_channels=1,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))


def clip(batch=2, frames=5, size=8):
    torch.manual_seed(1)
    return torch.rand(batch, frames, 4, size // 2, size // 2)


@pytest.mark.parametrize('switches', [
    dict(),
    dict(use_motion_gru=False),
    dict(use_highway=False),
    dict(use_trend=False),
    dict(use_transient=False),
    dict(highway_first_layer=False),
])
def test_every_parameter_gets_a_gradient(switches):
    torch.manual_seed(0)
    model = build(
        dict(type='MotionRNNNeck3D', kernel_size=3, **switches),
        temporal_kernel=3)
    out = model(clip(), mode='tensor')
    assert out.shape == (2, 4, 4, 4, 4)
    model(clip(), mode='loss')['loss'].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_rollout_is_deterministic():
    torch.manual_seed(0)
    model = build(dict(type='MotionRNNNeck3D', kernel_size=3)).eval()
    x = clip()
    assert torch.equal(model(x, mode='tensor'), model(x, mode='tensor'))


def count(module):
    return sum(p.numel() for p in module.parameters())


def test_parameter_counts_at_h36m_settings():
    model = VideoPredictor(
        backbone=dict(
            type='E3DLSTM',
            hidden_channels=64,
            num_layers=4,
            kernel_size=5,
            temporal_kernel=3),
        neck=dict(type='MotionRNNNeck3D'),
        img_channels=3,
        in_frames=4,
        out_frames=4,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4))
    # reproduction_notes.md#model-sizes: 21,321,281 conv parameters (paper
    # 21.3M); the always-on norm adds 4 x 128 ('channel'); one 3-D block has
    # Enc 51,216 + ConvGRU 16,578 + mask 1,305 + warp 2,304 + Dec 32,832 + gate
    # 204,864, and W_v 3,072
    norm = sum(
        count(m) for m in model.modules() if isinstance(m, torch.nn.GroupNorm))
    assert norm == 4 * 128
    assert count(model) - norm == 21_321_281
    assert count(model) == 21_321_793
    assert count(model.neck.blocks[0]) == 309_099
    assert count(model.neck) == 3 * 309_099 + 3_072


@pytest.mark.parametrize('name, neck', [('e3dlstm_vmnist.py', False),
                                        ('motionrnn_e3dlstm_vmnist.py', True)])
def test_configs_build(name, neck):
    from mmvp.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == 'E3DLSTM'
    assert model.backbone.temporal_kernel == 3
    assert model.backbone.window_length == 2
    assert (type(model.neck).__name__ == 'MotionRNNNeck3D') == neck
    # V-MNIST: 16 channels at 16x16 after patch 4; Table 2 layout
    want = 20_390_912 - (48 - 16) * 448 * 75 - (48 - 16) * 64 * 2
    if neck:
        want += 3 * 309_099 + 16 * 64
    assert count(model) - 4 * 128 == want
