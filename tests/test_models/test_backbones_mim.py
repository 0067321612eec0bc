# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvp.models import MIM, MIMN, MIMBlock, MotionRNNNeck, VideoPredictor


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def conv(x, w):
    return F.conv2d(x, w, padding=w.shape[-1] // 2)


def randomise_peepholes(module):
    # they start at zero (OpenSTL); random values make the checks meaningful
    with torch.no_grad():
        for name, p in module.named_parameters():
            if 'weight_c' in name:
                p.normal_()


def mimn_by_hand(mod, x, n, s):
    i, g, f, o = (conv(n, wh) + conv(x, wx) for wh, wx in zip(
        mod.conv_h.weight.split(4), mod.conv_x.weight.split(4)))
    i = torch.sigmoid(i + mod.weight_ci * s)
    f = torch.sigmoid(f + mod.weight_cf * s + 1)
    s_new = f * s + i * torch.tanh(g)
    n_new = torch.sigmoid(o + mod.weight_co * s_new) * torch.tanh(s_new)
    return n_new, s_new


def test_mimn_step_by_hand():
    torch.manual_seed(0)
    mod = MIMN(3, 4, kernel_size=3, input_size=(5, 6)).double()
    assert all(p.abs().sum() == 0 and p.shape == (4, 5, 6)
               for n, p in mod.named_parameters() if 'weight_c' in n)
    randomise_peepholes(mod)
    x = torch.randn(2, 3, 5, 6, dtype=torch.float64)
    n, s = (torch.randn(2, 4, 5, 6, dtype=torch.float64) for _ in range(2))
    want = mimn_by_hand(mod, x, n, s)
    for got, w in zip(mod(x, n, s), want):
        assert torch.allclose(got, w, atol=1e-12)
    with pytest.raises(ValueError, match='input_size'):
        mod(x[..., :5], n[..., :5], s[..., :5])
    with pytest.raises(ValueError, match='input_size'):
        MIMN(3, 4)


def test_mim_block_step_by_hand():
    torch.manual_seed(0)
    blk = MIMBlock(3, 4, kernel_size=3, input_size=(5, 5)).double()
    randomise_peepholes(blk)
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    diff, h, c, m, s = (
        torch.randn(2, 4, 5, 5, dtype=torch.float64) for _ in range(5))
    i_t, g_t, o_t = (conv(h, w) for w in blk.conv_t.weight.split(4))
    i_s, g_s, f_s, o_s = (conv(m, w) for w in blk.conv_s.weight.split(4))
    i_x, g_x, f_x, o_x = (conv(x, w) for w in blk.conv_x.weight.split(4))
    i = torch.sigmoid(i_x + i_t)
    ip = torch.sigmoid(i_x + i_s)
    g = torch.tanh(g_x + g_t)
    gp = torch.tanh(g_x + g_s)
    fp = torch.sigmoid(f_x + f_s + 1)
    o = torch.sigmoid(o_x + o_t + o_s)
    m_new = fp * m + ip * gp
    t_mem, s_new = mimn_by_hand(blk.mim_s, diff, c, s)  # MIM-S
    c_new = t_mem + i * g
    h_new = o * torch.tanh(
        F.conv2d(torch.cat([c_new, m_new], 1), blk.conv_last.weight))
    out = blk(x, diff, h, c, m, s)
    for got, want in zip(out, (h_new, c_new, m_new, o, s_new)):
        assert torch.allclose(got, want, atol=1e-12)


@pytest.mark.parametrize('with_neck', [False, True])
def test_mim_n_gets_fused_h0_differences_from_t1(with_neck):
    torch.manual_seed(0)
    stack = MIM(
        in_channels=4,
        hidden_channels=8,
        num_layers=3,
        kernel_size=3,
        input_size=(4, 4))
    randomise_peepholes(stack)
    neck = MotionRNNNeck(4, 8, 3, kernel_size=3) if with_neck else None
    frames = torch.randn(3, 2, 4, 4, 4)
    state = stack.init_state(frames[0])
    neck_state = neck.init_state(state['h'][0]) if neck else None
    _, state, neck_state = stack.forward_step(frames[0], state, neck,
                                              neck_state)
    # t = 0: the MIM-N result is discarded, so its state is still zero
    assert all(t.abs().sum() == 0 for t in state['n'] + state['s'])
    h0_prev = state['h'][0]
    raw = stack.cells[0](frames[1], state['h'][0], state['c'][0],
                         state['m'])[0]
    _, state, neck_state = stack.forward_step(frames[1], state, neck,
                                              neck_state)
    h0 = state['h'][0]  # fused when the neck is present
    assert with_neck != torch.allclose(h0, raw)
    zeros = torch.zeros(2, 8, 4, 4)
    n0, s0 = stack.mim_n[0](h0 - h0_prev, zeros, zeros)
    n1, s1 = stack.mim_n[1](n0, zeros, zeros)
    got_all = (state['n'][0], state['s'][0], state['n'][1], state['s'][1])
    for got, want in zip(got_all, (n0, s0, n1, s1)):
        assert torch.allclose(got, want, atol=1e-6)


def test_mim_blocks_get_zero_diff_at_t0():
    torch.manual_seed(0)
    stack = MIM(
        in_channels=4,
        hidden_channels=8,
        num_layers=2,
        kernel_size=3,
        input_size=(4, 4))
    frame = torch.randn(2, 4, 4, 4)
    state = stack.init_state(frame)
    out, state, _ = stack.forward_step(frame, state)
    z = torch.zeros(2, 8, 4, 4)
    h0, _, m, _ = stack.cells[0](frame, z, z, z)
    h1, _, m, _, s = stack.cells[1](h0, z, z, z, m, z)
    assert torch.allclose(out, stack.head(h1))
    # with zero diff, C and S at t = 0, MIM-S leaves S at zero
    assert torch.allclose(state['mim_s'][0], s) and s.abs().sum() == 0
    _, state, _ = stack.forward_step(frame, state)
    assert state['mim_s'][0].abs().sum() > 0


def build(seed=0):
    torch.manual_seed(seed)
    return VideoPredictor(
        backbone=dict(
            type='MIM',
            hidden_channels=8,
            num_layers=3,
            kernel_size=3,
            input_size=(4, 4)),
        img_channels=1,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor',
                               patch_size=2)).eval()


def test_mim_s_is_reset_per_sequence():
    model = build()
    randomise_peepholes(model)
    torch.manual_seed(1)
    first, second = torch.rand(2, 2, 5, 4, 4, 4)
    fresh = model(second, mode='tensor')
    model(first, mode='tensor')
    again = model(second, mode='tensor')
    assert torch.equal(fresh, again)
    # no tensor is kept on any module between sequences
    for mod in model.backbone.modules():
        assert not [
            k for k, v in vars(mod).items() if isinstance(v, torch.Tensor)
        ]
    assert not list(model.backbone.buffers())


def test_mim_input_size_errors():
    with pytest.raises(ValueError, match='input_size'):
        MIM(in_channels=4)
    with pytest.raises(ValueError, match='num_layers'):
        MIM(in_channels=4, num_layers=1, input_size=(4, 4))
    stack = MIM(
        in_channels=4,
        hidden_channels=8,
        num_layers=2,
        kernel_size=3,
        input_size=(4, 4))
    with pytest.raises(ValueError, match='input_size'):
        stack.init_state(torch.zeros(1, 4, 6, 6))


def test_parameter_counts_at_h36m_settings():
    model = VideoPredictor(
        backbone=dict(
            type='MIM',
            hidden_channels=64,
            num_layers=4,
            kernel_size=5,
            input_size=(32, 32)),
        img_channels=3,
        in_frames=4,
        out_frames=4,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4))
    conv_params = sum(p.numel() for m in model.modules()
                      if isinstance(m, nn.Conv2d) for p in m.parameters())
    total = sum(p.numel() for p in model.parameters())
    # model_equations.md#counting-parameters-and-macs: 9,789,440 conv
    # parameters (thop) plus 6 modules x 3 Hadamard peepholes of 64x32x32;
    # OpenSTL's unused 1x1 convs (24,576) are not allocated
    assert conv_params == 9_789_440
    assert total - conv_params == 1_179_648
    assert total == 10_969_088
