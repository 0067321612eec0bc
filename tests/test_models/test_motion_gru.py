# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch

from mmvp.models import MotionGRU, MotionRNNNeck
from mmvp.models.necks import deform_warp


def test_motion_gru_step_by_hand():
    torch.manual_seed(0)
    block = MotionGRU(
        hidden_channels=8, neighbour=3, kernel_size=3, momentum=0.5).double()
    for conv in (block.update, block.reset, block.output, block.warp_mask):
        # zero-initialised (model_equations.md#initialisation)
        assert conv.weight.abs().sum() == 0
        torch.nn.init.normal_(conv.weight, std=0.1)
    h = torch.randn(2, 8, 6, 6, dtype=torch.float64)
    filt = torch.randn(2, 18, 3, 3, dtype=torch.float64)
    trend = torch.randn(2, 18, 3, 3, dtype=torch.float64)

    e = block.enc(h)
    ef = torch.cat([e, filt], 1)
    u = torch.sigmoid(block.update(ef))
    r = torch.sigmoid(block.reset(ef))
    z = torch.tanh(block.output(torch.cat([e, r * filt], 1)))
    f_tilde = u * z + (1 - u) * filt
    d_new = trend + 0.5 * (filt - trend)  # uses the previous final F
    f_new = f_tilde + d_new
    y = deform_warp(e, f_new, torch.sigmoid(block.warp_mask(e)),
                    block.warp_weight)
    dec = block.dec(y)
    g = torch.sigmoid(block.gate(torch.cat([dec, h], 1)))
    x = g * dec + (1 - g) * h

    out, f_out, d_out = block(h, filt, trend)
    assert torch.allclose(out, x, atol=1e-12)
    assert torch.allclose(f_out, f_new) and torch.allclose(d_out, d_new)


def test_ablation_switches():
    torch.manual_seed(0)
    h = torch.randn(1, 8, 4, 4)
    filt = torch.randn(1, 18, 2, 2)
    trend = torch.randn(1, 18, 2, 2)
    no_trend = MotionGRU(8, kernel_size=3, use_trend=False)
    _, f, d = no_trend(h, filt, trend)
    assert torch.all(d == 0)
    no_transient = MotionGRU(8, kernel_size=3, use_transient=False)
    assert not hasattr(no_transient, 'update')
    _, f, d = no_transient(h, filt, trend)
    assert torch.allclose(f, trend + 0.5 * (filt - trend))
    assert torch.equal(f, d)


def test_odd_hidden_size_is_refused():
    block = MotionGRU(8)
    with pytest.raises(ValueError, match='even hidden size'):
        block.state_shape(torch.zeros(1, 8, 5, 6))


def test_neck_highway_and_fusion_order():
    torch.manual_seed(0)
    neck = MotionRNNNeck(
        in_channels=4, hidden_channels=8, num_layers=3, kernel_size=3)
    assert len(neck.blocks) == 2  # L - 1 MotionGRUs
    frame = torch.randn(2, 4, 4, 4)
    h = torch.randn(2, 8, 4, 4)
    o = torch.rand(2, 8, 4, 4)
    state = neck.init_state(h)
    v = neck.begin_step(frame)
    assert torch.allclose(v, neck.highway.conv_first_v(frame))
    raw = h + (1 - o) * v
    fused, v1, state = neck.after_layer(0, h, o, v, state)
    assert torch.allclose(v1, raw)  # the highway carries the raw output
    want, _, _ = neck.blocks[0](raw, torch.zeros(2, 18, 2, 2),
                                torch.zeros(2, 18, 2, 2))
    assert torch.allclose(fused, want)
    # last layer: highway, no MotionGRU
    top, _, _ = neck.after_layer(2, h, o, v1, state)
    assert torch.allclose(top, h + (1 - o) * v1)


def test_neck_without_first_layer_highway():
    neck = MotionRNNNeck(
        4,
        8,
        2,
        kernel_size=3,
        highway_first_layer=False,
        use_motion_gru=False)
    assert neck.begin_step(torch.zeros(1, 4, 2, 2)) is None
    h = torch.randn(1, 8, 2, 2)
    out, v, _ = neck.after_layer(0, h, torch.rand(1, 8, 2, 2), None, None)
    assert torch.equal(out, h) and torch.equal(v, h)
    with pytest.raises(ValueError, match='does nothing'):
        MotionRNNNeck(4, 8, 2, use_highway=False, use_motion_gru=False)
