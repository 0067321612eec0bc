# Copyright (c) mmvp contributors. All rights reserved.
import torch
import torch.nn.functional as F

from mmvp.models import PredRNN, STLSTMCell


def conv(x, w):
    return F.conv2d(x, w, padding=w.shape[-1] // 2)


def test_st_lstm_step_by_hand():
    torch.manual_seed(0)
    cell = STLSTMCell(3, 4, kernel_size=3).double()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    h, c, m = (torch.randn(2, 4, 5, 5, dtype=torch.float64) for _ in range(3))
    wx = cell.conv_x.weight.split(4)
    wh = cell.conv_h.weight.split(4)
    wm = cell.conv_m.weight.split(4)
    i = torch.sigmoid(conv(x, wx[0]) + conv(h, wh[0]))
    f = torch.sigmoid(conv(x, wx[1]) + conv(h, wh[1]) + 1)
    g = torch.tanh(conv(x, wx[2]) + conv(h, wh[2]))
    c_new = f * c + i * g
    ip = torch.sigmoid(conv(x, wx[3]) + conv(m, wm[0]))
    fp = torch.sigmoid(conv(x, wx[4]) + conv(m, wm[1]) + 1)
    gp = torch.tanh(conv(x, wx[5]) + conv(m, wm[2]))
    m_new = fp * m + ip * gp
    mem = torch.cat([c_new, m_new], 1)
    o = torch.sigmoid(
        conv(x, wx[6]) + conv(h, wh[3]) + conv(mem, cell.conv_o.weight))
    h_new = o * torch.tanh(F.conv2d(mem, cell.conv_last.weight))

    out = cell(x, h, c, m)
    for got, want in zip(out, (h_new, c_new, m_new, o)):
        assert torch.allclose(got, want, atol=1e-12)
    dc, dm = cell(x, h, c, m, return_deltas=True)[4:]
    assert torch.allclose(dc, i * g) and torch.allclose(dm, ip * gp)


def test_predrnn_stack_zero_state_shapes_and_zigzag():
    torch.manual_seed(0)
    stack = PredRNN(
        in_channels=16, hidden_channels=8, num_layers=3, kernel_size=3)
    frame = torch.randn(2, 16, 6, 6)
    state = stack.init_state(frame)
    assert all(t.abs().sum() == 0 for t in state['h'] + state['c'])
    assert state['m'].shape == (2, 8, 6, 6)
    out, state, _ = stack.forward_step(frame, state)
    assert out.shape == (2, 16, 6, 6)
    # the zigzag memory leaving the step is the top layer's
    h_in = [torch.zeros(2, 8, 6, 6)] * 3
    m = torch.zeros(2, 8, 6, 6)
    inp = frame
    for layer in range(3):
        h, _, m, _ = stack.cells[layer](inp, h_in[layer], h_in[layer], m)
        inp = h
    assert torch.allclose(state['m'], m)
    assert torch.allclose(out, stack.head(inp))


def test_xavier_state_is_shared_by_h_and_c():
    stack = PredRNN(in_channels=4, hidden_channels=8, num_layers=2)
    state = stack.init_state(torch.zeros(3, 4, 4, 4), mode='xavier_normal')
    assert state['h'][0] is state['c'][0]
    assert state['h'][0].std() > 0
