# Copyright (c) mmvp contributors. All rights reserved.
"""The predictor's ``channels_last`` option (the benchmark's
``--channels-last``): weights and frames stored NHWC give the same
predictions and gradients as NCHW for every backbone, with and without
MotionRNN; the recurrent states follow the layout of the frames; and
checkpoints move freely between the two layouts."""
import pytest
import torch

from mmvp.models import VideoPredictor
from mmvp.models.backbones.base_recurrent_stack import new_state
from mmvp.models.utils import channels_last_inputs

BACKBONES = {
    'convlstm': dict(type='ConvLSTM', peephole='conv'),
    'predrnn': dict(type='PredRNN'),
    'predrnnpp': dict(type='PredRNNpp'),
    'predrnnv2': dict(type='PredRNNv2'),
    'mim': dict(type='MIM', input_size=(4, 4)),
    'e3dlstm': dict(type='E3DLSTM', window_length=2),
}
CASES = [(name, neck) for name in sorted(BACKBONES) for neck in (False, True)]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name, neck, channels_last=False):
    cfg = dict(
        channels_last=channels_last,
        backbone=dict(
            BACKBONES[name], hidden_channels=8, num_layers=3, kernel_size=3),
        img_channels=1,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    if neck:
        cfg['neck'] = dict(
            type='MotionRNNNeck3D' if name == 'e3dlstm' else 'MotionRNNNeck',
            kernel_size=3)
    torch.manual_seed(0)
    return VideoPredictor(**cfg)


@pytest.mark.parametrize('name,neck', CASES)
def test_channels_last_matches_contiguous(name, neck):
    ref_model, model = build(name, neck), build(name, neck, True)
    for p in model.parameters():
        if p.dim() == 4:
            assert p.is_contiguous(memory_format=torch.channels_last)
        elif p.dim() == 5:
            assert p.is_contiguous(memory_format=torch.channels_last_3d)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(2, 5, 4, 4, 4, generator=g)
    mask = torch.tensor([[1., 1., 1., 0.], [1., 1., 1., 1.]])
    ref = ref_model.rollout(x, 5, mask)
    # the model makes the (NCHW) clip NHWC itself
    out = model.rollout(x, 5, mask)
    torch.testing.assert_close(out, ref, rtol=1e-5, atol=1e-6)
    ref.square().mean().backward()
    out.square().mean().backward()
    for (n, p_ref), p in zip(ref_model.named_parameters(), model.parameters()):
        torch.testing.assert_close(
            p.grad, p_ref.grad, rtol=1e-4, atol=1e-6, msg=n)


def test_states_follow_the_frame_layout():
    clip = channels_last_inputs(torch.rand(2, 3, 4, 6, 6))
    frame = clip[:, 0]
    for mode in ('zeros', 'xavier_normal'):
        state = new_state((2, 8, 6, 6), frame, mode)
        assert state.is_contiguous(memory_format=torch.channels_last)
        plain = new_state((2, 8, 6, 6), frame.contiguous(), mode)
        assert plain.is_contiguous()
    # 5-D states (E3D-LSTM) and single-channel frames keep the default
    assert new_state((2, 8, 2, 6, 6), frame, 'zeros').is_contiguous()
    single = channels_last_inputs(torch.rand(2, 3, 1, 6, 6))[:, 0]
    assert new_state((2, 8, 6, 6), single, 'zeros').is_contiguous()


def test_checkpoints_move_between_layouts():
    nhwc, nchw = build('predrnn', True, True), build('predrnn', True)
    for p in nchw.parameters():
        torch.nn.init.normal_(p, std=0.1)  # not the init: a real load
    # keys and shapes are the layout-free ones: a strict load both ways
    nhwc.load_state_dict(nchw.state_dict())
    for p in nhwc.parameters():
        if p.dim() == 4:  # the load keeps the NHWC storage
            assert p.is_contiguous(memory_format=torch.channels_last)
    x = torch.rand(2, 5, 4, 4, 4)
    torch.testing.assert_close(
        nhwc.rollout(x, 5), nchw.rollout(x, 5), rtol=1e-5, atol=1e-6)
    back = build('predrnn', True)
    back.load_state_dict(nhwc.state_dict())
    for p, q in zip(back.parameters(), nchw.parameters()):
        assert torch.equal(p, q)
