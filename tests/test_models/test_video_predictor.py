# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmvp.models import VideoPredictor
from mmvp.structures import VideoPredDataSample


def build(neck=True, hidden=8, layers=3, **kwargs):
    cfg = dict(
        backbone=dict(
            type='PredRNN',
            hidden_channels=hidden,
            num_layers=layers,
            kernel_size=3),
        neck=dict(type='MotionRNNNeck', kernel_size=3) if neck else None,
        img_channels=1,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    cfg.update(kwargs)
    return VideoPredictor(**cfg)


def h36m(neck):
    return VideoPredictor(
        backbone=dict(
            type='PredRNN', hidden_channels=64, num_layers=4, kernel_size=5),
        neck=dict(type='MotionRNNNeck') if neck else None,
        img_channels=3,
        in_frames=4,
        out_frames=4,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4))


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_parameter_counts_at_h36m_settings():
    # reproduction_notes.md#model-sizes: the release architecture
    assert count(h36m(False)) == 6_410_240
    model = h36m(True)
    assert count(model) == 7_214_657
    assert count(model.neck.blocks[0]) == 267_115


def clip(batch=2, frames=5, size=8):
    torch.manual_seed(1)
    return torch.rand(batch, frames, 4, size // 2, size // 2)


def test_every_parameter_gets_a_gradient():
    model = build()
    loss = model(clip(), mode='loss')['loss']
    loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_rollout_uses_predictions_after_context():
    model = build()
    x = clip()
    out = model(x, mode='tensor')
    assert out.shape == (2, 4, 4, 4, 4)
    # changing the true future frames does not change test predictions
    y = x.clone()
    y[:, 3:] = 0
    assert torch.equal(model(y, mode='tensor'), out)
    # ...but it does when the mask reads true frames
    mask = torch.ones(2, 4)
    a = model.rollout(x, 5, mask)
    b = model.rollout(y, 5, mask)
    assert not torch.allclose(a[:, 3:], b[:, 3:])


def test_zero_state_rollout_is_deterministic():
    model = build().eval()
    x = clip()
    assert torch.equal(model(x, mode='tensor'), model(x, mode='tensor'))


def test_predict_fills_samples_and_rolls_out_beyond_horizon():
    model = build().eval()
    x = clip()
    samples = [
        VideoPredDataSample(metainfo=dict(sample_idx=i)) for i in range(2)
    ]
    out = model(x, samples, mode='predict')
    assert out[0].pred_frames.shape == (2, 1, 8, 8)
    assert out[0].gt_frames.shape == (2, 1, 8, 8)
    assert torch.allclose(
        out[1].gt_frames[0],
        x[1, 3, [0, 1, 2, 3]].view(1, 2, 2, 4, 4).permute(0, 3, 1, 4,
                                                          2).reshape(1, 8, 8))
    model.test_cfg['num_future'] = 6
    long = model(x[:, :3], mode='predict')
    assert long[0].pred_frames.shape == (6, 1, 8, 8)
    assert 'gt_frames' not in long[0]
    # the first frames equal the default-horizon rollout
    assert torch.allclose(long[0].pred_frames[:2], out[0].pred_frames)


def test_too_short_clip_names_the_lengths():
    model = build()
    with pytest.raises(ValueError, match='in_frames=3, out_frames=2'):
        model(clip(frames=4), mode='loss')


def test_loss_logs_sampling_probability_from_the_iteration():
    model = build(
        sampling=dict(mode='linear', start=1.0, rate=0.01, stop_iter=100))
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 49)
    losses = model(clip(), mode='loss')
    assert losses['ss_prob'].item() == pytest.approx(0.5)
    hub.update_info('iter', 0)


def test_l1l2_loss():
    model = build(loss=dict(type='L1L2Loss'))
    x = clip()
    out = model.rollout(x, 5, model.make_sampling_mask(x)[0])
    # the mask is random, so compare on the deterministic part only
    assert model(x, mode='loss')['loss'] > 0
    mse = torch.nn.functional.mse_loss(out, x[:, 1:])
    l1 = torch.nn.functional.l1_loss(out, x[:, 1:])
    assert model.loss_module(out, x[:, 1:]).item() == pytest.approx(
        (mse + l1).item())


def test_reverse_input_makes_two_updates_with_one_mask():
    torch.manual_seed(0)
    model = build(reverse_input=True)
    steps = []

    class CountingWrapper(OptimWrapper):

        def update_params(self, loss, **kwargs):
            steps.append(loss.item())
            super().update_params(loss, **kwargs)

    wrapper = CountingWrapper(torch.optim.SGD(model.parameters(), lr=0.0))
    frames = torch.randint(0, 256, (5, 1, 8, 8), dtype=torch.uint8)
    data = dict(inputs=[frames, frames.flip(0)], data_samples=None)
    log_vars = model.train_step(data, wrapper)
    assert len(steps) == 2
    assert log_vars['loss'].item() == pytest.approx(sum(steps) / 2)


@pytest.mark.parametrize('switches', [
    dict(use_motion_gru=False),
    dict(use_highway=False),
    dict(use_highway=False, use_trend=False),
    dict(use_highway=False, use_transient=False),
    dict(use_trend=False),
    dict(use_transient=False),
])
def test_ablations_train_with_all_parameters_used(switches):
    neck = dict(type='MotionRNNNeck', kernel_size=3, **switches)
    model = VideoPredictor(
        backbone=dict(
            type='PredRNN', hidden_channels=8, num_layers=3, kernel_size=3),
        neck=neck,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    model(clip(), mode='loss')['loss'].backward()
    assert all(p.grad is not None for p in model.parameters())


def test_dataset_and_model_lengths_must_agree():
    model = build()
    samples = [VideoPredDataSample(metainfo=dict(in_frames=4, out_frames=1))
               ] * 2
    with pytest.raises(ValueError, match='in_frames=4 but the model'):
        model(clip(), samples, mode='predict')


def test_sampling_mask_is_a_function_of_the_iteration():
    model = build(
        sampling=dict(mode='linear', start=1.0, rate=0.01, stop_iter=100))
    hub = MessageHub.get_current_instance()
    x = clip(batch=64)
    hub.update_info('iter', 30)
    a, _ = model.make_sampling_mask(x)
    torch.rand(100)  # consuming the global stream changes nothing
    b, _ = model.make_sampling_mask(x)
    hub.update_info('iter', 31)
    c, _ = model.make_sampling_mask(x)
    hub.update_info('iter', 0)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert 0 < a[:, 3:].mean() < 1
