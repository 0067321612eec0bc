# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch

from mmvp.models import PredRNNv2, VideoPredictor


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def abs_cos_by_hand(dc, dm, w):
    """mean over (b, channel) of |cos| between the adapted H'W' vectors."""
    a = torch.einsum('oc,bchw->bohw', w[:, :, 0, 0], dc).flatten(2)
    b = torch.einsum('oc,bchw->bohw', w[:, :, 0, 0], dm).flatten(2)
    values = []
    for bi in range(a.shape[0]):
        for ci in range(a.shape[1]):
            u, v = a[bi, ci], b[bi, ci]
            values.append(abs(float(u @ v) / float(u.norm() * v.norm())))
    return sum(values) / len(values)


def test_decoupling_loss_by_hand():
    torch.manual_seed(0)
    stack = PredRNNv2(
        in_channels=3,
        hidden_channels=4,
        num_layers=2,
        kernel_size=3,
        decouple_beta=0.3).double()
    assert stack.adapter.bias is None
    assert stack.adapter.weight.shape == (4, 4, 1, 1)
    frames = torch.randn(2, 2, 3, 5, 5, dtype=torch.float64)
    state = stack.init_state(frames[0])
    zeros = torch.zeros(2, 4, 5, 5, dtype=torch.float64)
    h, c, m = [zeros, zeros], [zeros, zeros], zeros
    terms = []
    for t in range(2):
        _, state, _ = stack.forward_step(frames[t], state)
        inp = frames[t]
        for layer in range(2):
            out = stack.cells[layer](
                inp, h[layer], c[layer], m, return_deltas=True)
            h[layer], c[layer], m = out[:3]
            terms.append(abs_cos_by_hand(out[4], out[5], stack.adapter.weight))
            inp = h[layer]
    assert len(state['decouple']) == 4
    want = 0.3 * sum(terms) / 4
    got = stack.aux_losses(state)['loss_decouple']
    assert got.item() == pytest.approx(want, rel=1e-10)
    assert 0 < want < 0.3


def test_no_aux_loss_before_the_first_step():
    stack = PredRNNv2(in_channels=3, hidden_channels=4, num_layers=1)
    assert stack.aux_losses(stack.init_state(torch.zeros(1, 3, 4, 4))) == {}


def build(neck=False):
    torch.manual_seed(0)
    return VideoPredictor(
        backbone=dict(
            type='PredRNNv2', hidden_channels=8, num_layers=2, kernel_size=3),
        neck=dict(type='MotionRNNNeck', kernel_size=3) if neck else None,
        img_channels=1,
        in_frames=3,
        out_frames=2,
        sampling=dict(
            mode='reverse', start_iter=25000, stop_iter=50000, alpha=5000),
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))


@pytest.mark.parametrize('neck', [False, True])
def test_decoupling_loss_in_predictor_losses(neck):
    model = build(neck)
    torch.manual_seed(1)
    x = torch.rand(2, 5, 4, 4, 4)
    losses = model(x, mode='loss')
    assert 'loss_decouple' in losses
    # one term per step and layer: 4 steps x 2 layers
    terms = model._last_state['decouple']
    assert len(terms) == 8
    want = 0.1 * torch.stack(terms).mean()
    assert torch.allclose(losses['loss_decouple'], want)
    total, log_vars = model.parse_losses(losses)
    assert torch.allclose(total, losses['loss'] + losses['loss_decouple'])
    assert 'loss_decouple' in log_vars
    # the shared adapter is trained only through this loss
    model.zero_grad()
    losses['loss_decouple'].backward()
    assert model.backbone.adapter.weight.grad.abs().sum() > 0


def test_parameter_counts_at_h36m_settings():

    def count(neck):
        model = VideoPredictor(
            backbone=dict(
                type='PredRNNv2',
                hidden_channels=64,
                num_layers=4,
                kernel_size=5),
            neck=dict(type='MotionRNNNeck') if neck else None,
            img_channels=3,
            in_frames=4,
            out_frames=4,
            data_preprocessor=dict(
                type='VideoPredDataPreprocessor', patch_size=4))
        return sum(p.numel() for p in model.parameters())

    # model_equations.md#counting-parameters-and-macs: PredRNN + one 64x64 1x1
    # adapter
    base = count(False)
    assert base == 6_414_336
    assert count(True) - base == 804_417
