# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmvp.models import GHU, CausalLSTMCell, PredRNNpp, VideoPredictor


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def conv(x, w):
    return F.conv2d(x, w, padding=w.shape[-1] // 2)


def test_causal_lstm_step_by_hand():
    torch.manual_seed(0)
    cell = CausalLSTMCell(3, 4, kernel_size=3).double()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    h, c, m = (torch.randn(2, 4, 5, 5, dtype=torch.float64) for _ in range(3))
    # split orders of the original PredRNN++ code
    i_x, g_x, f_x, o_x, i_xp, g_xp, f_xp = (
        conv(x, w) for w in cell.conv_x.weight.split(4))
    i_h, g_h, f_h, o_h = (conv(h, w) for w in cell.conv_h.weight.split(4))
    i_c, g_c, f_c = (conv(c, w) for w in cell.conv_c.weight.split(4))
    i_m, f_m, m_m = (conv(m, w) for w in cell.conv_m.weight.split(4))
    i = torch.sigmoid(i_x + i_h + i_c)
    f = torch.sigmoid(f_x + f_h + f_c + 1)
    g = torch.tanh(g_x + g_h + g_c)
    c_new = f * c + i * g
    i_c2, g_c2, f_c2, o_c = (
        conv(c_new, w) for w in cell.conv_cm.weight.split(4))
    ip = torch.sigmoid(i_c2 + i_xp + i_m)
    fp = torch.sigmoid(f_c2 + f_xp + f_m + 1)
    gp = torch.tanh(g_c2 + g_xp)
    m_new = fp * torch.tanh(m_m) + ip * gp
    o = torch.tanh(o_x + o_h + o_c + conv(m_new, cell.conv_mo.weight))
    mem = torch.cat([c_new, m_new], 1)
    h_new = o * torch.tanh(F.conv2d(mem, cell.conv_last.weight))

    out = cell(x, h, c, m)
    for got, want in zip(out, (h_new, c_new, m_new, o)):
        assert torch.allclose(got, want, atol=1e-12)
    # no bias anywhere, no dead conv_o
    assert all(mod.bias is None for mod in cell.children())
    assert not hasattr(cell, 'conv_o')


def test_ghu_step_by_hand_and_init():
    torch.manual_seed(0)
    ghu = GHU(3, 4, kernel_size=3)
    for w in (ghu.conv_x.weight, ghu.conv_z.weight):
        assert w.abs().max() <= 0.001 and w.abs().max() > 0.0005
    assert ghu.conv_x.bias is None and ghu.conv_z.bias is None
    ghu = ghu.double()
    with torch.no_grad():  # larger weights to make the check meaningful
        ghu.conv_x.weight.normal_()
        ghu.conv_z.weight.normal_()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    z = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    p_x, u_x = (conv(x, w) for w in ghu.conv_x.weight.split(4))
    p_z, u_z = (conv(z, w) for w in ghu.conv_z.weight.split(4))
    p = torch.tanh(p_x + p_z)
    u = torch.sigmoid(u_x + u_z)
    assert torch.allclose(ghu(x, z), u * p + (1 - u) * z, atol=1e-12)


def test_predrnnpp_stack_ghu_between_layers_0_and_1():
    torch.manual_seed(0)
    stack = PredRNNpp(
        in_channels=4, hidden_channels=6, num_layers=3, kernel_size=3)
    frame = torch.randn(2, 4, 5, 5)
    state = stack.init_state(frame)
    assert state['z'].abs().sum() == 0
    out, state, _ = stack.forward_step(frame, state)
    zeros = torch.zeros(2, 6, 5, 5)
    m = zeros
    h0, _, m, _ = stack.cells[0](frame, zeros, zeros, m)
    z = stack.ghu(h0, zeros)
    assert torch.allclose(state['z'], z)
    h1, _, m, _ = stack.cells[1](z, zeros, zeros, m)
    h2, _, m, _ = stack.cells[2](h1, zeros, zeros, m)
    assert torch.allclose(state['h'][2], h2)
    assert torch.allclose(state['m'], m)
    assert torch.allclose(out, stack.head(h2))
    # Z is carried to the next step
    _, state2, _ = stack.forward_step(frame, state)
    assert torch.allclose(state2['z'], stack.ghu(state2['h'][0], z))


def test_ghu_consumes_the_fused_h0():
    from mmvp.models import MotionRNNNeck
    torch.manual_seed(0)
    stack = PredRNNpp(
        in_channels=4, hidden_channels=8, num_layers=2, kernel_size=3)
    neck = MotionRNNNeck(4, 8, 2, kernel_size=3)
    frame = torch.randn(2, 4, 4, 4)
    state = stack.init_state(frame)
    neck_state = neck.init_state(state['h'][0])
    _, state, _ = stack.forward_step(frame, state, neck, neck_state)
    # state['h'][0] is the MotionGRU-fused H^0; GHU saw exactly that
    z0 = torch.zeros(2, 8, 4, 4)
    assert torch.allclose(state['z'], stack.ghu(state['h'][0], z0))


def test_predrnnpp_needs_two_layers():
    with pytest.raises(ValueError, match='num_layers'):
        PredRNNpp(in_channels=4, num_layers=1)


def count(neck):
    model = VideoPredictor(
        backbone=dict(
            type='PredRNNpp', hidden_channels=64, num_layers=4, kernel_size=5),
        neck=dict(type='MotionRNNNeck') if neck else None,
        img_channels=3,
        in_frames=4,
        out_frames=4,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4))
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_at_h36m_settings():
    # model_equations.md#counting-parameters-and-macs: OpenSTL without its dead
    # conv_o
    base = count(False)
    assert base == 9_277_440
    assert count(True) - base == 804_417
