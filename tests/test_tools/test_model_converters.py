# Copyright (c) mmvp contributors. All rights reserved.
"""Checkpoint converters (tools/model_converters/).

Each test builds a synthetic checkpoint in the SOURCE layout (key names and
fused-gate split orders of thuml/MotionRNN or OpenSTL, as listed in
checkpoint_keys.md), runs a reference forward written here from the
equations of model_equations.md on the source tensors (no
mmvp modules), converts, and checks that mmvp's predictions equal the
reference in float64.
"""
import os
import os.path as osp
import re

import pytest
import torch
import torch.nn.functional as F
from tools_helpers import assert_ok, run_tool, unique_name, write_tiny_config

from mmvp.models.converters import (convert_motionrnn_checkpoint,
                                    convert_openstl_checkpoint,
                                    detect_openstl_backbone)
from mmvp.registry import MODELS
from mmvp.utils import (CheckpointMismatchError, UnsafeCheckpointError,
                        register_all_modules, safe_load)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

# tiny sizes: 3 layers x 8 channels, 3x3 kernels, patch 2 of 12x12 grey
# frames -> 4 x 6 x 6 per step; MotionGRU at 3x3 with 2 channels.
L, C, K, P, IMG = 3, 8, 3, 2, 12
C_IN = P * P
HW = IMG // P
T_IN, T_OUT, BATCH = 3, 2, 2
DT = torch.float64

sig, tanh = torch.sigmoid, torch.tanh


@pytest.fixture(scope='module', autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------
# helpers
def _write_config(path, base, model):
    """A config inheriting ``configs/<base>`` with ``model`` merged in."""
    with open(path, 'w') as f:
        f.write(f'_base_ = [{osp.join(REPO, "configs", base)!r}]\n'
                f'model = {model!r}\n')
    return str(path)


def _model_cfg(backbone, neck=None, img_channels=1, patch=P):
    model = dict(
        backbone=dict(
            backbone, num_layers=L, hidden_channels=C, kernel_size=K),
        data_preprocessor=dict(patch_size=patch),
        img_channels=img_channels,
        in_frames=T_IN,
        out_frames=T_OUT)
    if neck is not None:
        model['neck'] = neck
    return model


def _rand(gen, *shape, scale=0.3):
    return torch.randn(*shape, generator=gen, dtype=DT) * scale


def _frames(seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(
        BATCH, T_IN + T_OUT, C_IN, HW, HW, generator=gen, dtype=DT)


def _conv(x, w, b=None, stride=1):
    return F.conv2d(x, w, b, stride=stride, padding=w.shape[-1] // 2)


def _split(x, n):
    return torch.split(x, x.shape[1] // n, dim=1)


def _mmvp_predict(cfg_path, ckpt_path, frames):
    """Build the config's model, load the converted file as tools/test.py
    would (safe load, strict), and roll out in tensor mode."""
    from mmengine.config import Config
    cfg = Config.fromfile(cfg_path)
    model = MODELS.build(cfg.model).to(DT).eval()
    ckpt = safe_load(ckpt_path)
    assert set(ckpt) == {'state_dict', 'meta'}
    model.load_state_dict(ckpt['state_dict'], strict=True)
    with torch.no_grad():
        return model(frames, mode='tensor')


def _rollout(frames, step):
    """T - 1 steps; true frames for the first T_IN, predictions after."""
    outs, x_hat = [], None
    for t in range(frames.shape[1] - 1):
        x = frames[:, t] if t < T_IN else x_hat
        x_hat = step(x)
        outs.append(x_hat)
    return torch.stack(outs, dim=1)


def _zeros(c=C, hw=HW):
    return torch.zeros(BATCH, c, hw, hw, dtype=DT)


# ---------------------------------------------------------------------------
# reference pieces, from model_equations.md in the source layouts
def _st_lstm(sd, p, x, h, c, m):
    """model_equations.md#st-lstm-predrnn with the official names
    ``conv_{x,h,m,o}.0``, ``conv_last``; order i,f,g,i',f',g',o. Returns
    (pre-gate output, o, c, m)."""
    i_x, f_x, g_x, i_xp, f_xp, g_xp, o_x = _split(
        _conv(x, sd[p + 'conv_x.0.weight']), 7)
    i_h, f_h, g_h, o_h = _split(_conv(h, sd[p + 'conv_h.0.weight']), 4)
    i_m, f_m, g_m = _split(_conv(m, sd[p + 'conv_m.0.weight']), 3)
    c = sig(f_x + f_h + 1) * c + sig(i_x + i_h) * tanh(g_x + g_h)
    m = sig(f_xp + f_m + 1) * m + sig(i_xp + i_m) * tanh(g_xp + g_m)
    mem = torch.cat([c, m], 1)
    o = sig(o_x + o_h + _conv(mem, sd[p + 'conv_o.0.weight']))
    return o * tanh(_conv(mem, sd[p + 'conv_last.weight'])), o, c, m


def _bilinear0(img, y, x):
    """Bilinear sample of ``img [B, c, h, w]`` at ``(y, x) [B, h, w]``;
    zero outside the map (model_equations.md#warp)."""
    b, c, h, w = img.shape
    y0, x0 = torch.floor(y), torch.floor(x)
    out = torch.zeros_like(img)
    flat = img.reshape(b, c, h * w)
    for dy in (0, 1):
        for dx in (0, 1):
            yy, xx = y0 + dy, x0 + dx
            wgt = (1 - (y - yy).abs()) * (1 - (x - xx).abs())
            valid = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
            idx = (yy.clamp(0, h - 1) * w + xx.clamp(0, w - 1)).long()
            vals = flat.gather(2, idx.reshape(b, 1, -1).expand(-1, c, -1))
            out = out + vals.reshape(b, c, h, w) * (wgt * valid)[:, None]
    return out


def _warp(e, offsets, mask, weight):
    """``Y[o,i,j] = sum_c sum_n W[o,c,a,b] m[n,i,j]
    bilinear0(E[c], i+a+F[n], j+b+F[N+n])`` (model_equations.md#warp; the
    official [all dy | all dx] offset layout)."""
    b, c, h, w = e.shape
    k = weight.shape[-1]
    n_taps, r = k * k, (k - 1) // 2
    rows = torch.arange(h, dtype=DT).view(1, h, 1)
    cols = torch.arange(w, dtype=DT).view(1, 1, w)
    out = torch.zeros(b, weight.shape[0], h, w, dtype=DT)
    for n in range(n_taps):
        a, bb = n // k - r, n % k - r
        s = _bilinear0(e, rows + a + offsets[:, n],
                       cols + bb + offsets[:, n_taps + n])
        s = s * mask[:, n:n + 1]
        out = out + torch.einsum('oc,bchw->bohw', weight[:, :, a + r, bb + r],
                                 s)
    return out


def _motion_gru(sd, i, h, filt, trend):
    """Official enc_list / motion_list / dec_list / gate_list
    (model_equations.md#motiongru)."""
    p = f'motion_list.{i}.'
    e = _conv(h, sd[f'enc_list.{i}.weight'], sd[f'enc_list.{i}.bias'], 2)
    ef = torch.cat([e, filt], 1)
    u = sig(_conv(ef, sd[p + 'update.weight'], sd[p + 'update.bias']))
    r = sig(_conv(ef, sd[p + 'reset.weight'], sd[p + 'reset.bias']))
    z = tanh(
        _conv(
            torch.cat([e, filt * r], 1), sd[p + 'output.weight'],
            sd[p + 'output.bias']))
    transient = filt * (1 - u) + z * u
    trend = trend + 0.5 * (filt - trend)
    filt = transient + trend
    mask = sig(
        _conv(e, sd[p + 'warp.warp_gate.weight'],
              sd[p + 'warp.warp_gate.bias']))
    y = _warp(e, filt, mask, sd[p + 'warp.conv.weight'])
    dec = F.conv_transpose2d(
        y,
        sd[f'dec_list.{i}.weight'],
        sd[f'dec_list.{i}.bias'],
        stride=2,
        padding=1)
    g = sig(
        _conv(
            torch.cat([dec, h], 1), sd[f'gate_list.{i}.weight'],
            sd[f'gate_list.{i}.bias']))
    return g * dec + (1 - g) * h, filt, trend


def _ref_motionrnn_predrnn(sd, frames):
    """thuml MotionRNN_PredRNN.RNN
    (model_equations.md#motionrnn-on-predrnn-step-by-step), zero initial
    states."""
    h, c = [_zeros() for _ in range(L)], [_zeros() for _ in range(L)]
    m = _zeros()
    km = sd['motion_list.0.warp.conv.weight'].shape[-1]
    filt = [_zeros(2 * km * km, HW // 2) for _ in range(L - 1)]
    trend = [_zeros(2 * km * km, HW // 2) for _ in range(L - 1)]

    def step(x):
        nonlocal m
        v = _conv(x, sd['conv_first_v.weight'])
        inp = x
        for layer in range(L):
            pre, o, c[layer], m = _st_lstm(sd, f'cell_list.{layer}.', inp,
                                           h[layer], c[layer], m)
            out = pre + (1 - o) * v
            v = out  # the raw output feeds the next highway
            if layer < L - 1:
                out, filt[layer], trend[layer] = _motion_gru(
                    sd, layer, out, filt[layer], trend[layer])
            h[layer] = out
            inp = out
        return _conv(inp, sd['conv_last.weight'])

    return _rollout(frames, step)


def _ref_openstl_predrnn(sd, frames):
    h, c = [_zeros() for _ in range(L)], [_zeros() for _ in range(L)]
    m = _zeros()

    def step(x):
        nonlocal m
        inp = x
        for layer in range(L):
            pre, _, c[layer], m = _st_lstm(sd, f'cell_list.{layer}.', inp,
                                           h[layer], c[layer], m)
            h[layer] = inp = pre
        return _conv(inp, sd['conv_last.weight'])

    return _rollout(frames, step)


def _ref_openstl_convlstm(sd, frames):
    """OpenSTL ConvLSTMCell: order i,f,g,o, no forget bias
    (model_equations.md#convlstm)."""
    h, c = [_zeros() for _ in range(L)], [_zeros() for _ in range(L)]

    def step(x):
        inp = x
        for layer in range(L):
            p = f'cell_list.{layer}.'
            i_x, f_x, g_x, o_x = _split(
                _conv(inp, sd[p + 'conv_x.0.weight']), 4)
            i_h, f_h, g_h, o_h = _split(
                _conv(h[layer], sd[p + 'conv_h.0.weight']), 4)
            c[layer] = sig(f_x + f_h) * c[layer] + sig(i_x + i_h) * tanh(g_x +
                                                                         g_h)
            h[layer] = inp = sig(o_x + o_h) * tanh(c[layer])
        return _conv(inp, sd['conv_last.weight'])

    return _rollout(frames, step)


def _ref_openstl_predrnnpp(sd, frames):
    """OpenSTL CausalLSTMCell + GHU with OpenSTL's split orders: W_x
    i,f,g,i',f',g',o; W_h i,f,g,o; W_c i,f,g; W_m i,f,m; W_c2m i,g,f,o
    (checkpoint_keys.md#predrnn-causal-lstm)."""
    h, c = [_zeros() for _ in range(L)], [_zeros() for _ in range(L)]
    state = dict(m=_zeros(), z=_zeros())

    def cell(layer, x):
        p = f'cell_list.{layer}.'
        i_x, f_x, g_x, i_xp, f_xp, g_xp, o_x = _split(
            _conv(x, sd[p + 'conv_x.0.weight']), 7)
        i_h, f_h, g_h, o_h = _split(
            _conv(h[layer], sd[p + 'conv_h.0.weight']), 4)
        i_m, f_m, m_m = _split(_conv(state['m'], sd[p + 'conv_m.0.weight']), 3)
        i_c, f_c, g_c = _split(_conv(c[layer], sd[p + 'conv_c.0.weight']), 3)
        c[layer] = sig(f_x + f_h + f_c + 1) * c[layer] + sig(
            i_x + i_h + i_c) * tanh(g_x + g_h + g_c)
        i_c2, g_c2, f_c2, o_c = _split(
            _conv(c[layer], sd[p + 'conv_c2m.0.weight']), 4)
        m_new = sig(f_xp + f_m + f_c2 +
                    1) * tanh(m_m) + sig(i_xp + i_m + i_c2) * tanh(g_xp + g_c2)
        state['m'] = m_new
        o = tanh(o_x + o_h + o_c + _conv(m_new, sd[p + 'conv_om.0.weight']))
        mem = torch.cat([c[layer], m_new], 1)
        h[layer] = o * tanh(_conv(mem, sd[p + 'conv_last.weight']))
        return h[layer]

    def step(x):
        out = cell(0, x)
        gates = _conv(out, sd['gradient_highway.x_concat.0.weight']) + \
            _conv(state['z'], sd['gradient_highway.z_concat.0.weight'])
        p, u = _split(gates, 2)
        state['z'] = sig(u) * tanh(p) + (1 - sig(u)) * state['z']
        out = state['z']
        for layer in range(1, L):
            out = cell(layer, out)
        return _conv(out, sd['conv_last.weight'])

    return _rollout(frames, step)


def _ref_openstl_mim(sd, frames):
    """OpenSTL MIM_Model: ST-LSTM layer 0, MIM blocks with an embedded
    MIM-S, MIM-N modules run from t >= 1 (model_equations.md#mim); fused
    peepholes
    ``ct_weight = [w_ci; w_cf]``, ``oc_weight = w_co``."""
    h, c = [_zeros() for _ in range(L)], [_zeros() for _ in range(L)]
    n, s = [_zeros() for _ in range(L - 1)], [_zeros() for _ in range(L - 1)]
    mims = [_zeros() for _ in range(L - 1)]
    state = dict(m=_zeros(), t=0)

    def peephole_lstm(p, x, hid, cel):
        i_h, g_h, f_h, o_h = _split(
            _conv(hid, sd[p + 'conv_h_concat.0.weight']), 4)
        i_c, f_c = _split(cel.repeat(1, 2, 1, 1) * sd[p + 'ct_weight'], 2)
        i_x, g_x, f_x, o_x = _split(
            _conv(x, sd[p + 'conv_x_concat.0.weight']), 4)
        cel = sig(f_h + f_c + f_x + 1) * cel + sig(i_h + i_c +
                                                   i_x) * tanh(g_h + g_x)
        return sig(o_h + o_x + cel * sd[p + 'oc_weight']) * tanh(cel), cel

    def step(x):
        prev_h0 = h[0]
        pre, _, c[0], state['m'] = _st_lstm(sd, 'stlstm_layer.0.', x, h[0],
                                            c[0], state['m'])
        h[0] = pre
        for layer in range(1, L):
            j = layer - 1
            if state['t'] > 0:
                d_in = h[0] - prev_h0 if j == 0 else n[j - 1]
                n[j], s[j] = peephole_lstm(f'stlstm_layer_diff.{j}.', d_in,
                                           n[j], s[j])
            p = f'stlstm_layer.{layer}.'
            i_t, g_t, o_t = _split(
                _conv(h[layer], sd[p + 'conv_t_cc.0.weight']), 3)
            i_s, g_s, f_s, o_s = _split(
                _conv(state['m'], sd[p + 'conv_s_cc.0.weight']), 4)
            i_x, g_x, f_x, o_x = _split(
                _conv(h[layer - 1], sd[p + 'conv_x_cc.0.weight']), 4)
            m_new = sig(f_x + f_s +
                        1) * state['m'] + sig(i_x + i_s) * tanh(g_x + g_s)
            t_mem, mims[j] = peephole_lstm(p, n[j], c[layer], mims[j])
            c[layer] = t_mem + sig(i_x + i_t) * tanh(g_x + g_t)
            state['m'] = m_new
            h[layer] = sig(o_x + o_t + o_s) * tanh(
                _conv(
                    torch.cat([c[layer], m_new], 1),
                    sd[p + 'conv_last.weight']))
        state['t'] += 1
        return _conv(h[L - 1], sd['conv_last.weight'])

    return _rollout(frames, step)


# ---------------------------------------------------------------------------
# synthetic source checkpoints (layouts of checkpoint_keys.md)
def _st_lstm_keys(sd, gen, p, c_in):
    sd[p + 'conv_x.0.weight'] = _rand(gen, 7 * C, c_in, K, K)
    sd[p + 'conv_h.0.weight'] = _rand(gen, 4 * C, C, K, K)
    sd[p + 'conv_m.0.weight'] = _rand(gen, 3 * C, C, K, K)
    sd[p + 'conv_o.0.weight'] = _rand(gen, C, 2 * C, K, K)
    sd[p + 'conv_last.weight'] = _rand(gen, C, 2 * C, 1, 1)


def make_motionrnn_source(seed=0, km=3):
    gen = torch.Generator().manual_seed(seed)
    sd, c4, m2 = {}, C // 4, 2 * km * km
    for i in range(L - 1):
        sd[f'gate_list.{i}.weight'] = _rand(gen, C, 2 * C, K, K)
        sd[f'gate_list.{i}.bias'] = _rand(gen, C)
    for i in range(L):
        _st_lstm_keys(sd, gen, f'cell_list.{i}.', C_IN if i == 0 else C)
    for i in range(L - 1):
        p = f'motion_list.{i}.'
        for name in ('update', 'reset', 'output'):
            # large enough for offsets of a few pixels (border, bilinear)
            sd[p + name + '.weight'] = _rand(gen, m2, c4 + m2, 3, 3, scale=1)
            sd[p + name + '.bias'] = _rand(gen, m2, scale=1)
        sd[p + 'warp.conv.weight'] = _rand(gen, c4, c4, km, km)
        sd[p + 'warp.warp_gate.weight'] = _rand(gen, km * km, c4, 3, 3)
        sd[p + 'warp.warp_gate.bias'] = _rand(gen, km * km)
    for i in range(L - 1):
        sd[f'enc_list.{i}.weight'] = _rand(gen, c4, C, K, K)
        sd[f'enc_list.{i}.bias'] = _rand(gen, c4)
    for i in range(L - 1):
        sd[f'dec_list.{i}.weight'] = _rand(gen, c4, C, 4, 4)
        sd[f'dec_list.{i}.bias'] = _rand(gen, C)
    sd['conv_last.weight'] = _rand(gen, C_IN, C, 1, 1)
    sd['conv_first_v.weight'] = _rand(gen, C, C_IN, 1, 1)
    return sd


def make_openstl_source(kind, seed=0):
    gen = torch.Generator().manual_seed(seed)
    sd = {}
    if kind == 'predrnn':
        for i in range(L):
            _st_lstm_keys(sd, gen, f'cell_list.{i}.', C_IN if i == 0 else C)
    elif kind == 'convlstm':
        for i in range(L):
            p = f'cell_list.{i}.'
            sd[p + 'conv_x.0.weight'] = _rand(gen, 4 * C,
                                              C_IN if i == 0 else C, K, K)
            sd[p + 'conv_h.0.weight'] = _rand(gen, 4 * C, C, K, K)
            sd[p + 'conv_o.0.weight'] = _rand(gen, C, 2 * C, K, K)  # dead
            sd[p + 'conv_last.weight'] = _rand(gen, C, 2 * C, 1, 1)  # dead
    elif kind == 'predrnnpp':
        sd['gradient_highway.z_concat.0.weight'] = _rand(gen, 2 * C, C, K, K)
        sd['gradient_highway.x_concat.0.weight'] = _rand(gen, 2 * C, C, K, K)
        for i in range(L):
            p = f'cell_list.{i}.'
            sd[p + 'conv_x.0.weight'] = _rand(gen, 7 * C,
                                              C_IN if i == 0 else C, K, K)
            sd[p + 'conv_h.0.weight'] = _rand(gen, 4 * C, C, K, K)
            sd[p + 'conv_c.0.weight'] = _rand(gen, 3 * C, C, K, K)
            sd[p + 'conv_m.0.weight'] = _rand(gen, 3 * C, C, K, K)
            sd[p + 'conv_o.0.weight'] = _rand(gen, C, 2 * C, K, K)  # dead
            sd[p + 'conv_c2m.0.weight'] = _rand(gen, 4 * C, C, K, K)
            sd[p + 'conv_om.0.weight'] = _rand(gen, C, C, K, K)
            sd[p + 'conv_last.weight'] = _rand(gen, C, 2 * C, 1, 1)
    elif kind == 'mim':
        _st_lstm_keys(sd, gen, 'stlstm_layer.0.', C_IN)
        for i in range(1, L):
            p = f'stlstm_layer.{i}.'
            sd[p + 'ct_weight'] = _rand(gen, 2 * C, HW, HW)
            sd[p + 'oc_weight'] = _rand(gen, C, HW, HW)
            sd[p + 'conv_t_cc.0.weight'] = _rand(gen, 3 * C, C, K, K)
            for name in ('conv_s_cc', 'conv_x_cc', 'conv_h_concat',
                         'conv_x_concat'):
                sd[p + name + '.0.weight'] = _rand(gen, 4 * C, C, K, K)
            sd[p + 'conv_last.weight'] = _rand(gen, C, 2 * C, 1, 1)
        for j in range(L - 1):
            p = f'stlstm_layer_diff.{j}.'
            sd[p + 'ct_weight'] = _rand(gen, 2 * C, HW, HW)
            sd[p + 'oc_weight'] = _rand(gen, C, HW, HW)
            sd[p + 'conv_h_concat.0.weight'] = _rand(gen, 4 * C, C, K, K)
            sd[p + 'conv_x_concat.0.weight'] = _rand(gen, 4 * C, C, K, K)
            sd[p + 'conv_last.weight'] = _rand(gen, C, 2 * C, 1, 1)  # dead
    elif kind == 'e3dlstm':
        tau = 2
        for i in range(L):
            p = f'cell_list.{i}.'
            sd[p + '_norm_c_t.weight'] = _rand(gen, C, tau, HW, HW)
            sd[p + '_norm_c_t.bias'] = _rand(gen, C, tau, HW, HW)
            c_in = C_IN if i == 0 else C
            for name, co, ci in (('x', 7 * C, c_in), ('h', 4 * C, C),
                                 ('gm', 4 * C, C), ('new_cell', C,
                                                    C), ('new_gm', C, C)):
                sd[f'{p}conv_{name}.0.conv3d.weight'] = _rand(
                    gen, co, ci, 2, K, K)
            sd[p + 'conv_last.conv3d.weight'] = _rand(gen, C, 2 * C, 1, 1, 1)
        sd['conv_last.weight'] = _rand(gen, C_IN, C, tau, 1, 1)
        return sd
    if kind == 'predrnnv2':
        sd = make_openstl_source('predrnn', seed)
        sd['adapter.weight'] = _rand(gen, C, C, 1, 1)
        return sd
    sd['conv_last.weight'] = _rand(gen, C_IN, C, 1, 1)
    return sd


# ---------------------------------------------------------------------------
# equivalence tests
def test_motionrnn_predrnn_matches_reference(tmp_path):
    sd = make_motionrnn_source()
    src = tmp_path / 'model.ckpt-80000'
    torch.save({'net_param': sd}, str(src))
    cfg = _write_config(
        tmp_path / 'cfg.py', 'motionrnn_predrnn_vmnist.py',
        _model_cfg(
            dict(type='PredRNN'),
            neck=dict(kernel_size=K, warp_impl='grid_sample')))
    dst = tmp_path / 'out' / 'converted.pth'
    result = convert_motionrnn_checkpoint(str(src), str(dst), cfg)
    assert result.dropped == {}
    assert result.mapping['motion_list.1.warp.conv.weight'] == [
        'neck.blocks.1.warp_weight'
    ]
    assert result.mapping['cell_list.0.conv_x.0.weight'] == [
        'backbone.cells.0.conv_x.weight'
    ]
    assert result.mapping['conv_first_v.weight'] == [
        'neck.highway.conv_first_v.weight'
    ]
    assert result.mapping['conv_last.weight'] == ['backbone.head.weight']
    assert not [p for p in os.listdir(dst.parent) if p.endswith('.tmp')]

    frames = _frames()
    ref = _ref_motionrnn_predrnn(sd, frames)
    out = _mmvp_predict(cfg, str(dst), frames)
    assert out.shape == ref.shape == (BATCH, T_IN + T_OUT - 1, C_IN, HW, HW)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-10)
    # the offsets really moved samples off the grid (not a trivial warp)
    assert ref.abs().max() > 1e-3


@pytest.mark.parametrize('kind, base, backbone, wrap', [
    ('predrnn', 'predrnn_vmnist.py', dict(type='PredRNN'), 'lightning'),
    ('convlstm', 'convlstm_vmnist.py', dict(type='ConvLSTM',
                                            peephole=None), 'bare'),
    ('predrnnpp', 'predrnnpp_vmnist.py', dict(type='PredRNNpp'), 'lightning'),
    ('mim', 'mim_vmnist.py', dict(type='MIM', input_size=(HW, HW)), 'pth'),
])
def test_openstl_matches_reference(tmp_path, kind, base, backbone, wrap):
    sd = make_openstl_source(kind)
    src = tmp_path / f'{kind}.ckpt'
    if wrap == 'lightning':  # OpenSTL-Lightning: model. prefix
        torch.save(
            {
                'state_dict': {
                    f'model.{k}': v
                    for k, v in sd.items()
                },
                'epoch': 3
            }, str(src))
    elif wrap == 'pth':  # OpenSTL 0.3 under state_dict
        torch.save({'state_dict': sd}, str(src))
    else:
        torch.save(sd, str(src))
    assert detect_openstl_backbone(sd) == kind
    cfg = _write_config(tmp_path / 'cfg.py', base, _model_cfg(backbone))
    dst = tmp_path / 'converted.pth'
    result = convert_openstl_checkpoint(str(src), str(dst), cfg)

    dead = {
        'predrnn': [],
        'convlstm': [r'cell_list\.\d\.conv_o\.', r'cell_list\.\d\.conv_last'],
        'predrnnpp': [r'cell_list\.\d\.conv_o\.'],
        'mim': [r'stlstm_layer_diff\.\d\.conv_last'],
    }[kind]
    expected_dropped = [k for k in sd if any(re.match(p, k) for p in dead)]
    assert sorted(result.dropped) == sorted(expected_dropped)
    meta = safe_load(str(dst))['meta']
    assert meta['source_layout'] == f'OpenSTL {kind}'

    frames = _frames(seed=2)
    ref = {
        'predrnn': _ref_openstl_predrnn,
        'convlstm': _ref_openstl_convlstm,
        'predrnnpp': _ref_openstl_predrnnpp,
        'mim': _ref_openstl_mim,
    }[kind](sd, frames)
    out = _mmvp_predict(cfg, str(dst), frames)
    torch.testing.assert_close(out, ref, rtol=0, atol=1e-10)


def test_predrnnpp_reorders_gate_blocks(tmp_path):
    """OpenSTL W_x i,f,g,i',f',g',o -> i,g,f,o,i',g',f'
    (checkpoint_keys.md#predrnn-causal-lstm)."""
    sd = make_openstl_source('predrnnpp')
    src = tmp_path / 'pp.pth'
    torch.save(sd, str(src))
    cfg = _write_config(tmp_path / 'cfg.py', 'predrnnpp_vmnist.py',
                        _model_cfg(dict(type='PredRNNpp')))
    out = convert_openstl_checkpoint(
        str(src), str(tmp_path / 'o.pth'), cfg,
        backbone='predrnnpp').state_dict
    w = sd['cell_list.1.conv_x.0.weight'].split(C)
    i, f, g, ip, fp, gp, o = w
    torch.testing.assert_close(out['backbone.cells.1.conv_x.weight'],
                               torch.cat([i, g, f, o, ip, gp, fp]))
    i, f, g, o = sd['cell_list.0.conv_h.0.weight'].split(C)
    torch.testing.assert_close(out['backbone.cells.0.conv_h.weight'],
                               torch.cat([i, g, f, o]))
    i, f, g = sd['cell_list.2.conv_c.0.weight'].split(C)
    torch.testing.assert_close(out['backbone.cells.2.conv_c.weight'],
                               torch.cat([i, g, f]))
    # same order in both code bases
    torch.testing.assert_close(out['backbone.cells.2.conv_m.weight'],
                               sd['cell_list.2.conv_m.0.weight'])
    torch.testing.assert_close(out['backbone.cells.0.conv_cm.weight'],
                               sd['cell_list.0.conv_c2m.0.weight'])


@pytest.mark.parametrize('kind, base, backbone', [
    ('predrnnv2', 'predrnnv2_vmnist.py', dict(type='PredRNNv2')),
    ('e3dlstm', 'e3dlstm_vmnist.py',
     dict(
         type='E3DLSTM',
         temporal_kernel=2,
         norm_type='full',
         input_size=(HW, HW))),
])
def test_openstl_other_layouts_load(tmp_path, kind, base, backbone):
    """PredRNN-v2 and E3D-LSTM: every tensor lands on the right parameter
    and the converted file loads strictly."""
    sd = make_openstl_source(kind)
    src = tmp_path / 'src.ckpt'
    torch.save({'state_dict': {
        f'model.{k}': v
        for k, v in sd.items()
    }}, str(src))
    cfg = _write_config(tmp_path / 'cfg.py', base, _model_cfg(backbone))
    dst = tmp_path / 'dst.pth'
    result = convert_openstl_checkpoint(str(src), str(dst), cfg)
    assert result.dropped == {}
    conv = result.state_dict
    if kind == 'predrnnv2':
        assert torch.equal(conv['backbone.adapter.weight'],
                           sd['adapter.weight'])
    else:
        assert torch.equal(conv['backbone.cells.2.conv_m.weight'],
                           sd['cell_list.2.conv_gm.0.conv3d.weight'])
        assert torch.equal(conv['backbone.cells.1.conv_co.weight'],
                           sd['cell_list.1.conv_new_cell.0.conv3d.weight'])
        assert torch.equal(conv['backbone.cells.0.norm_c.bias'],
                           sd['cell_list.0._norm_c_t.bias'])
        assert torch.equal(conv['backbone.head.weight'],
                           sd['conv_last.weight'])
    frames = _frames(seed=3)
    out = _mmvp_predict(cfg, str(dst), frames)
    assert torch.isfinite(out).all()


# ---------------------------------------------------------------------------
# refusals
def test_shape_mismatch_is_refused_naming_the_key(tmp_path):
    src = tmp_path / 'predrnn.ckpt'
    torch.save(make_openstl_source('predrnn'), str(src))
    model = _model_cfg(dict(type='PredRNN'))
    model['backbone']['hidden_channels'] = 2 * C
    cfg = _write_config(tmp_path / 'wide.py', 'predrnn_vmnist.py', model)
    dst = tmp_path / 'never.pth'
    with pytest.raises(CheckpointMismatchError) as info:
        convert_openstl_checkpoint(str(src), str(dst), cfg)
    msg = str(info.value)
    assert 'cell_list.0.conv_x.0.weight' in msg
    assert f'expected shape {(7 * 2 * C, C_IN, K, K)}' in msg
    assert f'found {(7 * C, C_IN, K, K)}' in msg
    assert not dst.exists()


def test_missing_parameters_are_refused(tmp_path):
    """OpenSTL's ConvLSTM into a config with convolutional peepholes."""
    src = tmp_path / 'convlstm.pth'
    torch.save(make_openstl_source('convlstm'), str(src))
    cfg = _write_config(tmp_path / 'cfg.py', 'convlstm_vmnist.py',
                        _model_cfg(dict(type='ConvLSTM', peephole='conv')))
    with pytest.raises(CheckpointMismatchError) as info:
        convert_openstl_checkpoint(str(src), str(tmp_path / 'x.pth'), cfg)
    msg = str(info.value)
    assert 'backbone.cells.0.conv_c.weight' in msg
    assert 'peephole=None' in msg


def test_wrong_backbone_and_unknown_keys_are_refused(tmp_path):
    src = tmp_path / 'pp.pth'
    torch.save(make_openstl_source('predrnnpp'), str(src))
    cfg = _write_config(tmp_path / 'cfg.py', 'predrnn_vmnist.py',
                        _model_cfg(dict(type='PredRNN')))
    with pytest.raises(CheckpointMismatchError, match='PredRNNpp'):
        convert_openstl_checkpoint(str(src), str(tmp_path / 'x.pth'), cfg)
    # a MotionRNN checkpoint with a key of another model
    sd = make_motionrnn_source()
    sd['cell_list.0.conv_c.0.weight'] = torch.zeros(3 * C, C, K, K)
    src = tmp_path / 'extra.ckpt'
    torch.save({'net_param': sd}, str(src))
    cfg = _write_config(
        tmp_path / 'mr.py', 'motionrnn_predrnn_vmnist.py',
        _model_cfg(dict(type='PredRNN'), neck=dict(kernel_size=K)))
    with pytest.raises(
            CheckpointMismatchError, match=r'cell_list\.0\.conv_c\.0\.weight'):
        convert_motionrnn_checkpoint(str(src), str(tmp_path / 'y.pth'), cfg)


class _CallsSystem:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.mark.parametrize('tool', ['motionrnn', 'openstl'])
def test_crafted_pickle_is_refused(tmp_path, tool):
    marker = tmp_path / 'pwned'
    src = tmp_path / 'evil.ckpt'
    torch.save({'net_param': {
        'conv_last.weight': _CallsSystem(marker)
    }}, str(src))
    cfg = osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist.py')
    convert = (
        convert_motionrnn_checkpoint
        if tool == 'motionrnn' else convert_openstl_checkpoint)
    with pytest.raises(UnsafeCheckpointError) as info:
        convert(str(src), str(tmp_path / 'out.pth'), cfg)
    assert 'evil.ckpt' in str(info.value)
    assert not marker.exists()
    assert not (tmp_path / 'out.pth').exists()


# ---------------------------------------------------------------------------
# command line, end to end with tools/test.py
def test_cli_convert_then_test_py(tmp_path):
    """A MotionRNN checkpoint for the tiny demo config (2 layers x 8
    channels, 3x3 kernels, patch 4, grey): convert with the CLI, then
    evaluate it with tools/test.py."""
    cfg = write_tiny_config(tmp_path)
    gen = torch.Generator().manual_seed(0)
    c, k, c_in, c4, m2 = 8, 3, 16, 2, 18
    sd = {}
    for i in range(2):
        p = f'cell_list.{i}.'
        sd[p + 'conv_x.0.weight'] = _rand(gen, 7 * c, c_in if i == 0 else c, k,
                                          k).float()
        sd[p + 'conv_h.0.weight'] = _rand(gen, 4 * c, c, k, k).float()
        sd[p + 'conv_m.0.weight'] = _rand(gen, 3 * c, c, k, k).float()
        sd[p + 'conv_o.0.weight'] = _rand(gen, c, 2 * c, k, k).float()
        sd[p + 'conv_last.weight'] = _rand(gen, c, 2 * c, 1, 1).float()
    shapes = {
        'gate_list.0.weight': (c, 2 * c, k, k),
        'gate_list.0.bias': (c, ),
        'enc_list.0.weight': (c4, c, k, k),
        'enc_list.0.bias': (c4, ),
        'dec_list.0.weight': (c4, c, 4, 4),
        'dec_list.0.bias': (c, ),
        'motion_list.0.warp.conv.weight': (c4, c4, 3, 3),
        'motion_list.0.warp.warp_gate.weight': (9, c4, 3, 3),
        'motion_list.0.warp.warp_gate.bias': (9, ),
        'conv_last.weight': (c_in, c, 1, 1),
        'conv_first_v.weight': (c, c_in, 1, 1),
    }
    for name in ('update', 'reset', 'output'):
        shapes[f'motion_list.0.{name}.weight'] = (m2, c4 + m2, 3, 3)
        shapes[f'motion_list.0.{name}.bias'] = (m2, )
    for key, shape in shapes.items():
        sd[key] = _rand(gen, *shape, scale=0.1).float()
    src = tmp_path / 'model.ckpt-100'
    torch.save({'net_param': sd}, str(src))
    dst = tmp_path / 'converted.pth'
    proc = run_tool(
        ['model_converters/motionrnn_to_mmvp.py', src, dst, '--config', cfg],
        tmp_path)
    assert_ok(proc)
    assert dst.exists()

    proc = run_tool([
        'test.py', cfg, dst, '--work-dir', tmp_path / 'work', '--cfg-options',
        f'experiment_name={unique_name("converted")}'
    ], tmp_path)
    assert_ok(proc)
    assert 'vmnist/mse' in (proc.stdout + proc.stderr).lower()

    # a checkpoint of another width is refused by the CLI, naming the key
    wide = tmp_path / 'wide.py'
    with open(wide, 'w') as f:
        f.write(f'_base_ = [{cfg!r}]\n'
                'model = dict(backbone=dict(hidden_channels=16))\n')
    proc = run_tool([
        'model_converters/motionrnn_to_mmvp.py', src, tmp_path / 'no.pth',
        '--config', wide
    ], tmp_path)
    assert proc.returncode != 0
    assert 'CheckpointMismatchError' in proc.stderr
    assert 'cell_list.0.conv_x.0.weight' in proc.stderr
