# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmvp.models import ConvLSTM, ConvLSTMCell, VideoPredictor


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def conv(x, w):
    return F.conv2d(x, w, padding=w.shape[-1] // 2)


@pytest.mark.parametrize('peephole', [None, 'conv'])
def test_convlstm_step_by_hand(peephole):
    torch.manual_seed(0)
    cell = ConvLSTMCell(
        3, 4, kernel_size=3, peephole=peephole, forget_bias=0.5).double()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    h, c = (torch.randn(2, 4, 5, 5, dtype=torch.float64) for _ in range(2))
    wx = cell.conv_x.weight.split(4)
    wh = cell.conv_h.weight.split(4)
    pre_i = conv(x, wx[0]) + conv(h, wh[0])
    pre_f = conv(x, wx[1]) + conv(h, wh[1])
    if peephole == 'conv':
        wc = cell.conv_c.weight.split(4)
        pre_i = pre_i + conv(c, wc[0])
        pre_f = pre_f + conv(c, wc[1])
    i = torch.sigmoid(pre_i)
    f = torch.sigmoid(pre_f + 0.5)
    g = torch.tanh(conv(x, wx[2]) + conv(h, wh[2]))
    c_new = f * c + i * g
    pre_o = conv(x, wx[3]) + conv(h, wh[3])
    if peephole == 'conv':
        pre_o = pre_o + conv(c_new, cell.conv_co.weight)
    o = torch.sigmoid(pre_o)
    h_new = o * torch.tanh(c_new)

    out = cell(x, h, c)
    for got, want in zip(out, (h_new, c_new, o)):
        assert torch.allclose(got, want, atol=1e-12)


def test_convlstm_defaults_and_modules():
    cell = ConvLSTMCell(3, 4)
    assert cell.forget_bias == 0.0 and cell.peephole is None
    # no dead convs: only the two gate convs without peepholes
    assert {n for n, _ in cell.named_children()} == {'conv_x', 'conv_h'}
    assert all(m.bias is None for m in cell.children())
    with pytest.raises(ValueError, match='peephole'):
        ConvLSTMCell(3, 4, peephole='hadamard')


def test_convlstm_stack_data_flow():
    torch.manual_seed(0)
    stack = ConvLSTM(
        in_channels=4,
        hidden_channels=6,
        num_layers=3,
        kernel_size=3,
        peephole='conv')
    frame = torch.randn(2, 4, 5, 5)
    state = stack.init_state(frame)
    zeros = torch.zeros(2, 6, 5, 5)
    out, state, _ = stack.forward_step(frame, state)
    inp = frame
    for layer in range(3):
        h, c, _ = stack.cells[layer](inp, zeros, zeros)
        assert torch.allclose(state['h'][layer], h)
        assert torch.allclose(state['c'][layer], c)
        inp = h
    assert torch.allclose(out, stack.head(inp))


def h36m(neck, peephole):
    return VideoPredictor(
        backbone=dict(
            type='ConvLSTM',
            hidden_channels=64,
            num_layers=4,
            kernel_size=5,
            peephole=peephole),
        neck=dict(type='MotionRNNNeck') if neck else None,
        img_channels=3,
        in_frames=4,
        out_frames=4,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4))


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_at_h36m_settings():
    # model_equations.md#counting-parameters-and-macs: OpenSTL's ConvLSTM
    # without its dead convs, the conv-peephole reconstruction of the paper's
    # 4.41M, and +MotionRNN
    assert count(h36m(False, None)) == 3_177_472
    assert count(h36m(False, 'conv')) == 4_406_272
    assert count(h36m(True, 'conv')) == 5_210_689
