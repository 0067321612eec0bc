# Copyright (c) mmvp contributors. All rights reserved.
"""E3D-LSTM cell and stack (model_equations.md#e3d-lstm)."""
import pytest
import torch
import torch.nn.functional as F

from mmvp.models import E3DLSTM, E3DLSTMCell, VideoPredictor
from mmvp.models.cells import eidetic_recall
from mmvp.models.cells.e3d_lstm_cell import SameConv3d, same_padding


@pytest.fixture(autouse=True)
def one_thread():
    # tiny convs: thread hand-offs cost more than the work on busy machines
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_tf_same_padding_is_asymmetric_in_time():
    # F.pad order: (W before, W after, H before, H after, T before, T after)
    assert same_padding((2, 5, 5)) == (2, 2, 2, 2, 0, 1)
    assert same_padding((3, 5, 5)) == (2, 2, 2, 2, 1, 1)
    torch.manual_seed(0)
    conv = SameConv3d(2, 3, (2, 3, 3))
    x = torch.randn(1, 2, 2, 4, 4)
    y = conv(x)
    assert y.shape == (1, 3, 2, 4, 4)
    # last output frame sees the last input frame and one zero frame
    want = F.conv3d(x[:, :, 1:], conv.weight[:, :, :1], padding=(0, 1, 1))
    assert torch.allclose(y[:, :, 1:], want, atol=1e-6)


def recall_by_loops(query, history):
    """softmax(q . k) v, one (time, y, x) position at a time."""
    b, c, t, h, w = query.shape
    keys = [
        history[:, :, s, y, x] for s in range(history.shape[2])
        for y in range(h) for x in range(w)
    ]
    keys = torch.stack(keys, dim=1)  # [B, N, C]
    out = torch.zeros_like(query)
    for s in range(t):
        for y in range(h):
            for x in range(w):
                q = query[:, :, s, y, x]  # [B, C]
                logits = (keys * q[:, None]).sum(-1)  # no 1/sqrt(C)
                weights = torch.softmax(logits, dim=1)
                out[:, :, s, y, x] = (weights[..., None] * keys).sum(1)
    return out


def test_recall_matches_explicit_loop():
    torch.manual_seed(0)
    q = torch.randn(2, 3, 2, 2, 3, dtype=torch.float64)
    hist = torch.randn(2, 3, 6, 2, 3, dtype=torch.float64)
    assert torch.allclose(eidetic_recall(q, hist), recall_by_loops(q, hist))


def test_recall_keeps_positions_and_ignores_history_order():
    torch.manual_seed(0)
    b, c, t, h, w = 2, 4, 2, 3, 3
    q = torch.randn(b, c, t, h, w, dtype=torch.float64)
    parts = [torch.randn(b, c, t, h, w, dtype=torch.float64) for _ in range(3)]
    base = eidetic_recall(q, torch.cat(parts, dim=2))
    # a set over positions: the order of the history entries along time
    # and any permutation of its (time, y, x) positions do not matter
    swapped = torch.cat([parts[2], parts[0], parts[1]], dim=2)
    assert torch.allclose(eidetic_recall(q, swapped), base)
    rows = torch.cat(parts, 2).permute(0, 2, 3, 4, 1).reshape(b, -1, c)
    rows = rows[:, torch.randperm(rows.shape[1])]
    shuffled = rows.reshape(b, 3 * t, h, w, c).permute(0, 4, 1, 2, 3)
    assert torch.allclose(eidetic_recall(q, shuffled), base)
    # each key is one position's channel vector: a single strong key is
    # read back intact at every query position (a channels-first reshape
    # or a channel-axis concatenation would scramble it)
    hist = torch.zeros(b, c, 3 * t, h, w, dtype=torch.float64)
    v = torch.tensor([1.0, -2.0, 3.0, 0.5], dtype=torch.float64)
    hist[:, :, 4, 1, 2] = v
    query = 40 * v.view(1, c, 1, 1, 1).expand(b, c, t, h, w)
    out = eidetic_recall(query, hist)
    assert torch.allclose(out, v.view(1, c, 1, 1, 1).expand_as(out), atol=1e-9)
    # the history must grow along time, not channels
    with pytest.raises(ValueError, match='n\\*tau'):
        eidetic_recall(q, torch.cat(parts[:2], dim=1))


def pad_same(x, k_t, k):
    before = {1: 0, 2: 0, 3: 1}[k_t]  # TF SAME: floor((k_t - 1) / 2)
    return F.pad(x, (k // 2, k // 2, k // 2, k // 2, before, k_t - 1 - before))


@pytest.mark.parametrize('k_t', [2, 3])
@pytest.mark.parametrize('legacy', [False, True])
def test_cell_step_by_hand(k_t, legacy):
    torch.manual_seed(0)
    c, k = 4, 3
    cell = E3DLSTMCell(
        3,
        c,
        window_length=2,
        kernel_size=k,
        temporal_kernel=k_t,
        legacy_memory_bug=legacy).double()
    torch.nn.init.normal_(cell.norm_c.weight)
    torch.nn.init.normal_(cell.norm_c.bias)
    x = torch.randn(2, 3, 2, 3, 3, dtype=torch.float64)
    h, cc, m = (
        torch.randn(2, c, 2, 3, 3, dtype=torch.float64) for _ in range(3))
    hist = torch.randn(2, c, 6, 3, 3, dtype=torch.float64)

    def conv(inp, mod):
        assert mod.bias is None  # bias-free gate convs
        return F.conv3d(pad_same(inp, k_t, k), mod.weight)

    def split(t, n):
        return [t[:, j * c:(j + 1) * c] for j in range(n)]

    i_x, g_x, r_x, o_x, ip_x, gp_x, fp_x = split(conv(x, cell.conv_x), 7)
    i_h, g_h, r_h, o_h = split(conv(h, cell.conv_h), 4)
    i_m, f_m, g_m, m_m = split(conv(m, cell.conv_m), 4)
    i = torch.sigmoid(i_x + i_h)
    r = torch.sigmoid(r_x + r_h)
    g = torch.tanh(g_x + g_h)
    pre = cc + recall_by_loops(r, hist)
    mean = pre.mean(dim=(1, 2, 3, 4), keepdim=True)
    var = pre.var(dim=(1, 2, 3, 4), unbiased=False, keepdim=True)
    normed = (pre - mean) / torch.sqrt(var + 1e-5)
    gain = cell.norm_c.weight.view(1, c, 1, 1, 1)
    shift = cell.norm_c.bias.view(1, c, 1, 1, 1)
    c_new = normed * gain + shift + i * g
    m_new = torch.sigmoid(fp_x + f_m + 1.0) * torch.tanh(m_m) + \
        torch.sigmoid(ip_x + i_m) * torch.tanh(gp_x + g_m)
    o = torch.tanh(o_x + o_h + conv(c_new, cell.conv_co) +
                   conv(m_new, cell.conv_mo))
    w111 = cell.conv_last.weight
    h_new = torch.sigmoid(o) * torch.tanh(
        F.conv3d(torch.cat([c_new, m_new], 1), w111))

    got_h, got_c, got_m, got_o = cell(x, h, cc, m, hist)
    assert torch.allclose(got_c, c_new, atol=1e-10)
    assert torch.allclose(got_h, h_new, atol=1e-10)
    assert torch.allclose(got_o, torch.sigmoid(o), atol=1e-10)
    # effective output gate sigma(tanh(.)) lies in (0.27, 0.73)
    assert got_o.min() > 0.26 and got_o.max() < 0.74
    if legacy:
        assert got_m is m  # the released code hands back the old M
    else:
        assert torch.allclose(got_m, m_new, atol=1e-10)


def test_cell_refuses_wrong_window():
    cell = E3DLSTMCell(3, 4, window_length=2, kernel_size=3)
    z = torch.zeros(1, 4, 2, 3, 3)
    with pytest.raises(ValueError, match='window_length=2'):
        cell(torch.zeros(1, 3, 3, 3, 3), z, z, z, z)
    with pytest.raises(ValueError, match="input_size"):
        E3DLSTMCell(3, 4, norm_type='full')
    with pytest.raises(ValueError, match='norm_type'):
        E3DLSTMCell(3, 4, norm_type='batch')


def stack(**kwargs):
    torch.manual_seed(0)
    cfg = dict(
        in_channels=3,
        hidden_channels=4,
        num_layers=2,
        kernel_size=3,
        temporal_kernel=2)
    cfg.update(kwargs)
    return E3DLSTM(**cfg)


def test_zero_state_start_window_and_history_order():
    model = stack()
    frames = torch.randn(3, 2, 3, 4, 4)
    state = model.init_state(frames[0])
    for key in ('h', 'c'):
        assert all(t.shape == (2, 4, 2, 4, 4) and not t.any()
                   for t in state[key])
    assert state['m'].shape == (2, 4, 2, 4, 4) and not state['m'].any()
    assert state['window'].shape == (2, 3, 2, 4, 4)
    assert not state['window'].any()

    cells = [[t.clone() for t in state['c']]]
    outs = []
    for t in range(3):
        x_hat, state, _ = model.forward_step(frames[t], state)
        assert x_hat.shape == (2, 3, 4, 4)
        cells.append([c.clone() for c in state['c']])
        outs.append(x_hat)
        if t == 0:  # zeros before the start, oldest frame first
            assert not state['window'][:, :, 0].any()
        assert torch.equal(state['window'][:, :, -1], frames[t])
    assert torch.equal(state['window'][:, :, 0], frames[1])
    # head: Conv3d (tau, 1, 1) stride (tau, 1, 1) on the top H
    head = F.conv3d(
        state['h'][-1], model.head.weight, stride=(2, 1, 1))[:, :, 0]
    assert torch.allclose(outs[-1], head, atol=1e-6)
    # C_hist at the last step = [C_init, C_0, C_1] along time, channels C
    for layer in range(2):
        hist = state['c_hist'][layer]
        assert hist.shape == (2, 4, 3 * 2, 4, 4)
        for n in range(3):
            assert torch.equal(hist[:, :, 2 * n:2 * n + 2], cells[n][layer])


def test_window_of_three():
    model = stack(window_length=3, temporal_kernel=3)
    frames = torch.randn(2, 1, 3, 4, 4)
    state = model.init_state(frames[0])
    for t in range(2):
        x_hat, state, _ = model.forward_step(frames[t], state)
    assert x_hat.shape == (1, 3, 4, 4)
    assert not state['window'][:, :, 0].any()
    assert torch.equal(state['window'][:, :, 1:],
                       frames.permute(1, 2, 0, 3, 4))


@pytest.mark.parametrize('mode', ['zeros', 'xavier_normal'])
def test_legacy_memory_bug_keeps_m_at_its_init(mode):
    frames = torch.randn(3, 2, 3, 4, 4)
    for legacy in (True, False):
        model = stack(legacy_memory_bug=legacy)
        state = model.init_state(frames[0], mode)
        m0 = state['m'].clone()
        for t in range(3):
            _, state, _ = model.forward_step(frames[t], state)
        assert torch.equal(state['m'], m0) == legacy
    assert state['h'][0].shape == m0.shape


def test_stack_refuses_2d_neck():
    from mmvp.models import MotionRNNNeck
    model = stack()
    neck = MotionRNNNeck(3, 4, 2, kernel_size=3)
    frame = torch.zeros(1, 3, 4, 4)
    with pytest.raises(ValueError, match='3-D neck'):
        model.forward_step(frame, model.init_state(frame), neck, None)


def build(neck=None, **backbone):
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


@pytest.mark.parametrize('backbone', [
    dict(),
    dict(temporal_kernel=3, legacy_memory_bug=True),
    dict(layer_norm=True),
    dict(norm_type='full', input_size=(4, 4)),
])
def test_every_parameter_gets_a_gradient(backbone):
    torch.manual_seed(0)
    model = build(**backbone)
    out = model(clip(), mode='tensor')
    assert out.shape == (2, 4, 4, 4, 4)
    model(clip(), mode='loss')['loss'].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_rollout_is_deterministic():
    torch.manual_seed(0)
    model = build().eval()
    x = clip()
    assert torch.equal(model(x, mode='tensor'), model(x, mode='tensor'))


def conv_params(model):
    """Parameters of convolutions (the Table 2 count): all but the
    normalisation layers' affine weights."""
    norms = (torch.nn.GroupNorm, torch.nn.LayerNorm)
    norm = sum(p.numel() for m in model.modules() if isinstance(m, norms)
               for p in m.parameters(recurse=False))
    return sum(p.numel() for p in model.parameters()) - norm


def h36m(**backbone):
    cfg = dict(type='E3DLSTM', hidden_channels=64, num_layers=4, kernel_size=5)
    cfg.update(backbone)
    return VideoPredictor(
        backbone=cfg,
        img_channels=3,
        in_frames=4,
        out_frames=4,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4))


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_at_h36m_settings():
    # model_equations.md#counting-parameters-and-macs: convs only, no biases;
    # the always-on norm of the recall path adds 2 * 64 per layer ('channel')
    # or 2 * 64*2*32*32 per layer ('full', OpenSTL's LayerNorm: the "incl. LN"
    # figure)
    released = h36m(temporal_kernel=2)
    assert conv_params(released) == 13_606_912
    assert count(released) == 13_606_912 + 4 * 128
    full = h36m(temporal_kernel=2, norm_type='full', input_size=(32, 32))
    assert conv_params(full) == 13_606_912
    assert count(full) == 14_655_488
    paper = h36m(temporal_kernel=3)
    assert conv_params(paper) == 20_390_912
    assert count(paper) == 20_391_424
