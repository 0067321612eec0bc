# Copyright (c) mmvp contributors. All rights reserved.
"""FVD: Frechet distance closed forms, clip preparation, the metric with a
small TorchScript network standing in for I3D (same call interface)."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import Evaluator

from mmvp.evaluation import FVDMetric, frechet_distance, fvd_clips
from mmvp.evaluation.functional import (feature_statistics, fvd_from_features,
                                        load_i3d_detector, trace_sqrt_product)
from mmvp.registry import METRICS
from mmvp.structures import VideoPredDataSample


class _StandIn(nn.Module):
    """Random 3-D conv features; the I3D call interface."""

    def __init__(self, dim: int = 6):
        super().__init__()
        self.conv = nn.Conv3d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, dim)

    def forward(self,
                x: torch.Tensor,
                rescale: bool = False,
                resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        if rescale:
            x = x / 127.5 - 1
        if resize:
            x = nn.functional.interpolate(
                x, size=(x.shape[2], 16, 16), mode='trilinear')
        out = self.fc(torch.tanh(self.conv(x)).mean(dim=(2, 3, 4)))
        if return_features:
            return out
        return out.softmax(-1)


class _Probe(nn.Module):
    """Features that expose what the detector was given."""

    def forward(self,
                x: torch.Tensor,
                rescale: bool = False,
                resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        b = x.shape[0]
        info = torch.tensor([
            float(x.shape[1]),
            float(x.shape[2]),
            float(rescale),
            float(resize),
            float(return_features)
        ])
        flat = x.reshape(b, -1)
        return torch.cat([
            info.expand(b, 5),
            flat.min(1, keepdim=True)[0],
            flat.max(1, keepdim=True)[0]
        ], 1)


class _Mean(nn.Module):
    """One feature: the mean value of the clip (on [0, 255])."""

    def forward(self,
                x: torch.Tensor,
                rescale: bool = False,
                resize: bool = False,
                return_features: bool = False) -> torch.Tensor:
        return x.reshape(x.shape[0], -1).mean(1, keepdim=True)


def _script(module, path):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.jit.script(module).save(str(path))
    return str(path)


@pytest.fixture(scope='module')
def detectors(tmp_path_factory):
    root = tmp_path_factory.mktemp('i3d')
    torch.manual_seed(0)
    return dict(
        standin=_script(_StandIn(), root / 'i3d_torchscript.pt'),
        probe=_script(_Probe(), root / 'probe.pt'),
        mean=_script(_Mean(), root / 'mean.pt'))


def test_frechet_distance_closed_forms():
    # identical Gaussians -> 0
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4))
    mu, sigma = feature_statistics(a)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(
        0, abs=1e-10)
    # shifted 1-D Gaussians of equal variance -> shift**2
    assert frechet_distance([0.0], [[2.0]], [3.0], [[2.0]]) == \
        pytest.approx(9.0)
    # 1-D, different variances: (m1-m2)^2 + (s1 - s2)^2
    assert frechet_distance([1.0], [[4.0]], [0.0], [[9.0]]) == \
        pytest.approx(1 + (2 - 3)**2)
    # diagonal covariances: sum (mu diff)^2 + sum (sqrt v1 - sqrt v2)^2
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    expected = ((m1 - m2)**2).sum() + ((np.sqrt(v1) - np.sqrt(v2))**2).sum()
    assert frechet_distance(m1, np.diag(v1), m2, np.diag(v2)) == \
        pytest.approx(expected)


def test_trace_sqrt_product_matches_eigen_identity():
    # Tr((S1 S2)^1/2) = sum of sqrt of the eigenvalues of S1 S2
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 5))
    y = rng.normal(size=(5, 5))
    s1, s2 = x @ x.T + 0.1 * np.eye(5), y @ y.T
    eig = np.linalg.eigvals(s1 @ s2).real.clip(min=0)
    assert trace_sqrt_product(s1, s2) == pytest.approx(np.sqrt(eig).sum())
    # singular (rank-deficient) covariances, as with few clips
    z = rng.normal(size=(3, 5))
    low = z.T @ z
    eig = np.linalg.eigvals(low @ s2).real.clip(min=0)
    assert trace_sqrt_product(low, s2) == pytest.approx(
        np.sqrt(eig).sum(), rel=1e-6)


def test_feature_statistics_like_numpy_cov():
    rng = np.random.default_rng(2)
    feats = rng.normal(size=(7, 3))
    mu, sigma = feature_statistics(feats)
    assert np.allclose(mu.numpy(), feats.mean(0))
    assert np.allclose(sigma.numpy(), np.cov(feats, rowvar=False))
    assert mu.dtype == torch.float64
    with pytest.raises(ValueError, match='at least 2'):
        feature_statistics(feats[:1])
    assert fvd_from_features(feats, feats) == pytest.approx(0, abs=1e-10)


def test_fvd_clips_time_upsampling_and_rgb():
    grey = torch.arange(
        8, dtype=torch.uint8).view(1, 8, 1, 1, 1).expand(2, 8, 1, 2, 3)
    clips = fvd_clips(grey, min_frames=16)
    assert clips.shape == (2, 3, 16, 2, 3)
    assert clips.dtype == torch.float32
    # every frame twice, channels repeated
    assert clips[0, 0, :, 0, 0].tolist() == [float(i // 2) for i in range(16)]
    assert torch.equal(clips[:, 0], clips[:, 2])
    # 20 frames already >= 16: unchanged length; 5 frames -> x4 = 20
    assert fvd_clips(torch.zeros(1, 20, 3, 2, 2)).shape[2] == 20
    assert fvd_clips(torch.zeros(1, 5, 3, 2, 2)).shape[2] == 20
    # float [0, 1] input: clipped and truncated like uint8(x * 255)
    values = torch.tensor([0.5, 1.2, -0.1]).view(1, 3, 1, 1, 1)
    assert fvd_clips(values, 1)[0, 0, :, 0, 0].tolist() == [127.0, 255, 0]
    with pytest.raises(ValueError, match='C = 1 or 3'):
        fvd_clips(torch.zeros(1, 4, 2, 2, 2))


def _sample(pred, gt, idx, in_frames):
    ds = VideoPredDataSample(
        metainfo=dict(
            in_frames=in_frames, out_frames=pred.shape[0], sample_idx=idx))
    ds.pred_frames = pred
    ds.gt_frames = gt
    return ds


def _clips(num=6, in_frames=4, out_frames=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return [
        torch.randint(
            0,
            256, (in_frames + out_frames, 1, 8, 8),
            generator=gen,
            dtype=torch.uint8) for _ in range(num)
    ]


def _run(metric, clips, preds, in_frames=4, batch=4):
    evaluator = Evaluator([metric])
    for start in range(0, len(clips), batch):
        inputs = clips[start:start + batch]
        samples = [
            _sample(p, c[in_frames:].float() / 255, start + i, in_frames)
            for i, (c,
                    p) in enumerate(zip(inputs, preds[start:start + batch]))
        ]
        evaluator.process(samples, dict(inputs=inputs, data_samples=samples))
    return evaluator.evaluate(len(clips))


def test_identical_sets_give_zero(detectors):
    clips = _clips()
    perfect = [c[4:].float() / 255 for c in clips]
    metric = METRICS.build(
        dict(type='FVDMetric', detector_path=detectors['standin']))
    res = _run(metric, clips, perfect)
    assert res['vp/fvd'] == pytest.approx(0, abs=1e-8)
    assert res['vp/fvd_num_clips'] == 6
    # worse predictions -> positive distance
    noisy = [(p + 0.3 * torch.rand_like(p)) for p in perfect]
    assert _run(FVDMetric(detector_path=detectors['standin']), clips,
                noisy)['vp/fvd'] > 0


def test_detector_input_protocol(detectors):
    """real = context + truth, fake = context + prediction; RGB, >= 16
    frames, [0, 255], called with rescale/resize/return_features."""
    metric = FVDMetric(detector_path=detectors['probe'])
    clips = _clips(num=2)
    preds = [torch.full((4, 1, 8, 8), 2.0) for _ in clips]  # clipped -> 255
    samples = [
        _sample(p, c[4:].float() / 255, i, 4)
        for i, (c, p) in enumerate(zip(clips, preds))
    ]
    metric.process(dict(inputs=clips, data_samples=samples), samples)
    fake = metric.results[0]['fake']
    real = metric.results[0]['real']
    assert fake[:5].tolist() == [3, 16, 1, 1, 1]  # C, T (8 -> 16), flags
    assert fake[6] == 255  # predictions clipped to 1 -> 255
    assert real[5] == clips[0].min() and real[6] == clips[0].max()
    # without context the clips are the 4 output frames, x4 in time
    metric = FVDMetric(detector_path=detectors['probe'], include_context=False)
    metric.process(None, samples)
    assert metric.results[0]['real'][1] == 16


def test_fvd_of_a_constant_shift_is_shift_squared(detectors):
    # feature = clip mean; predictions brighter by 16/255 on the 4 output
    # frames of 8 -> every fake feature is the real one + 8 (same
    # covariance) -> FVD = 8**2
    clips = [c.clamp(max=200) for c in _clips(num=5, seed=3)]
    preds = [(c[4:].float() + 16) / 255 for c in clips]
    res = _run(FVDMetric(detector_path=detectors['mean']), clips, preds)
    assert res['vp/fvd'] == pytest.approx(64.0, rel=1e-6)


def test_split_across_ranks_equals_single_process(detectors):
    clips = _clips(num=5, seed=4)
    preds = [(c[4:].float() / 255 * 0.8) for c in clips]
    single = _run(FVDMetric(detector_path=detectors['standin']), clips, preds)
    parts = []
    for rank in range(2):
        metric = FVDMetric(detector_path=detectors['standin'])
        idx = [0, 1, 2, 3, 4, 0][rank::2]
        inputs = [clips[i] for i in idx]
        samples = [
            _sample(preds[i], clips[i][4:].float() / 255, i, 4) for i in idx
        ]
        metric.process(dict(inputs=inputs, data_samples=samples), samples)
        parts.append(metric.results)
    ordered = [r for pair in zip(*parts) for r in pair][:5]
    merged = FVDMetric(
        detector_path=detectors['standin']).compute_metrics(ordered)
    assert merged['fvd'] == pytest.approx(single['vp/fvd'], rel=1e-9)


def test_missing_weights_and_bad_inputs(tmp_path, detectors):
    missing = tmp_path / 'nowhere' / 'i3d_torchscript.pt'
    with pytest.raises(FileNotFoundError) as err:
        FVDMetric(detector_path=str(missing))
    msg = str(err.value)
    assert str(missing) in msg and 'i3d_torchscript.pt' in msg
    assert 'sha256sum' in msg and 'dropbox.com' in msg
    with pytest.raises(ValueError, match='detector_path is required'):
        FVDMetric()
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(b'not a torchscript archive')
    with pytest.raises(RuntimeError, match='TorchScript'):
        load_i3d_detector(str(bad))
    metric = FVDMetric(detector_path=detectors['standin'])
    clip = _clips(num=1)[0]
    sample = _sample(clip[4:].float() / 255, clip[4:].float() / 255, 0, 4)
    with pytest.raises(KeyError, match="data_batch\\['inputs'\\]"):
        metric.process(None, [sample])
    metric.process(dict(inputs=[clip]), [sample])
    with pytest.raises(ValueError, match='at least 2 clips'):
        metric.evaluate(1)
