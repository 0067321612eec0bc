# Copyright (c) mmvp contributors. All rights reserved.
"""Metric classes: keys, per-frame aggregation, conventions, Evaluator."""
import math
import re

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope

from mmvp.evaluation import (MAEMetric, MSEMetric, PSNRMetric, SSIMMetric,
                             ssim_frames, to_uint8)
from mmvp.registry import METRICS
from mmvp.structures import VideoPredDataSample


def _sample(pred, gt, idx=0, in_frames=2):
    ds = VideoPredDataSample(
        metainfo=dict(
            in_frames=in_frames, out_frames=pred.shape[0], sample_idx=idx))
    ds.pred_frames = pred
    ds.gt_frames = gt
    return ds


def _run(metric, batches):
    """Run an mmengine Evaluator over [(data_batch, [samples]), ...]."""
    evaluator = Evaluator([metric])
    size = 0
    for data_batch, samples in batches:
        evaluator.process(data_samples=samples, data_batch=data_batch)
        size += len(samples)
    return evaluator.evaluate(size)


def _const(t, value, c=1, h=2, w=2):
    return torch.full((t, c, h, w), float(value))


def test_mse_sum_mean_per_frame_and_clip():
    # T_out = 2, 1x2x2 frames. Sample 0: frame errors 0.1 on every pixel
    # (t1) and prediction 1.5 vs truth 1.0 (t2: clipped -> 0).
    gt0 = torch.stack([_const(1, 0.2)[0], _const(1, 1.0)[0]])
    pred0 = torch.stack([_const(1, 0.3)[0], _const(1, 1.5)[0]])
    # sample 1: error 0.2 everywhere on both frames
    gt1, pred1 = _const(2, 0.5), _const(2, 0.7)
    metric = MSEMetric(scaled_keys=True)
    res = _run(metric, [(None, [_sample(pred0, gt0, 0)]),
                        (None, [_sample(pred1, gt1, 1)])])
    t1 = (4 * 0.01 + 4 * 0.04) / 2
    t2 = (0 + 4 * 0.04) / 2
    assert res['vp/mse_frame_sum_t1'] == pytest.approx(t1)
    assert res['vp/mse_frame_sum_t2'] == pytest.approx(t2)
    assert res['vp/mse_frame_sum'] == pytest.approx((t1 + t2) / 2)
    assert res['vp/mse_pixel'] == pytest.approx((t1 + t2) / 2 / 4)
    assert res['vp/mse_pixel_t2'] == pytest.approx(t2 / 4)
    assert res['vp/mse_div10'] == pytest.approx((t1 + t2) / 20)
    assert res['vp/mse_div10_t1'] == pytest.approx(t1 / 10)
    assert not any('t3' in k for k in res)
    # OpenSTL convention: no clipping, t2 of sample 0 = 4 * 0.25
    res = _run(
        MSEMetric(clip_pred=False), [(None, [_sample(pred0, gt0, 0)]),
                                     (None, [_sample(pred1, gt1, 1)])])
    assert res['vp/mse_frame_sum_t2'] == pytest.approx((1.0 + 0.16) / 2)
    assert 'vp/mse_div10' not in res


def test_mae_unclipped_by_default_and_scaled():
    gt = _const(1, 1.0)
    pred = _const(1, 1.5)
    res = _run(MAEMetric(scaled_keys=True), [(None, [_sample(pred, gt)])])
    assert res['vp/mae_frame_sum'] == pytest.approx(2.0)
    assert res['vp/mae_frame_sum_t1'] == pytest.approx(2.0)
    assert res['vp/mae_pixel'] == pytest.approx(0.5)
    assert res['vp/mae_div100'] == pytest.approx(0.02)
    res = _run(MAEMetric(clip_pred=True), [(None, [_sample(pred, gt)])])
    assert res['vp/mae_frame_sum'] == pytest.approx(0.0)


def test_copy_last_baseline():
    # inputs: T = 2 context + 2 future; last context frame has value 51
    inputs = torch.zeros(4, 1, 2, 2, dtype=torch.uint8)
    inputs[1] = 51  # 0.2
    inputs[0] = 255  # must not be used
    gt = torch.stack([_const(1, 0.2)[0], _const(1, 0.6)[0]])
    pred = gt.clone()
    batch = dict(inputs=[inputs], data_samples=[None])
    res = _run(
        MSEMetric(copy_last_baseline=True, scaled_keys=True),
        [(batch, [_sample(pred, gt, in_frames=2)])])
    assert res['vp/mse_frame_sum'] == pytest.approx(0.0)
    assert res['vp/mse_frame_sum_copy_last_t1'] == pytest.approx(
        0.0, abs=1e-12)
    assert res['vp/mse_frame_sum_copy_last_t2'] == pytest.approx(4 * 0.16)
    assert res['vp/mse_frame_sum_copy_last'] == pytest.approx(0.32)
    assert res['vp/mse_pixel_copy_last'] == pytest.approx(0.08)
    assert res['vp/mse_div10_copy_last'] == pytest.approx(0.032)
    assert not any(k.endswith('_zeros') for k in res)
    # the general form gives the same keys and values
    res_general = _run(
        MSEMetric(baselines=('copy_last', ), scaled_keys=True),
        [(batch, [_sample(pred, gt, in_frames=2)])])
    assert res_general == res
    # a stacked [B, T, C, H, W] uint8 tensor works too
    res2 = _run(
        MSEMetric(copy_last_baseline=True),
        [(dict(inputs=inputs[None]), [_sample(pred, gt, in_frames=2)])])
    assert res2['vp/mse_frame_sum_copy_last'] == pytest.approx(0.32)
    with pytest.raises(KeyError, match="data_batch\\['inputs'\\]"):
        MSEMetric(
            copy_last_baseline=True).process(None,
                                             [_sample(pred, gt).to_dict()])
    with pytest.raises(ValueError, match='uint8'):
        MSEMetric(copy_last_baseline=True).process(
            dict(inputs=[inputs.float()]), [_sample(pred, gt).to_dict()])


def _known_frame():
    # one 2x2 grey frame with known pixels: uint8 (truncated) 127, 63, 255, 0
    return torch.tensor([[[[0.5, 0.25], [1.0, 0.0]]]], dtype=torch.float64)


def test_zeros_baseline_mse_mae_hand_computed():
    gt = torch.tensor([[[[0.1, 0.2], [0.3, 0.4]]]], dtype=torch.float64)
    pred = gt + 0.1  # the model's error does not matter for the baseline
    # no data_batch needed: the all-black prediction uses no input frame
    res = _run(
        MSEMetric(baselines=('zeros', ), scaled_keys=True),
        [(None, [_sample(pred, gt)])])
    # sum of squares 0.01 + 0.04 + 0.09 + 0.16
    assert res['vp/mse_frame_sum_zeros'] == pytest.approx(0.30)
    assert res['vp/mse_frame_sum_zeros_t1'] == pytest.approx(0.30)
    assert res['vp/mse_pixel_zeros'] == pytest.approx(0.075)
    assert res['vp/mse_div10_zeros'] == pytest.approx(0.030)
    assert res['vp/mse_frame_sum'] == pytest.approx(0.04)
    res = _run(MAEMetric(baselines='zeros'), [(None, [_sample(pred, gt)])])
    assert res['vp/mae_frame_sum_zeros'] == pytest.approx(1.0)
    assert res['vp/mae_pixel_zeros'] == pytest.approx(0.25)


def test_zeros_baseline_psnr_hand_computed():
    gt = _known_frame()
    res = _run(PSNRMetric(baselines=['zeros']), [(None, [_sample(gt, gt)])])
    # uint8 frames: zeros vs (127, 63, 255, 0)
    mse = (127**2 + 63**2 + 255**2 + 0) / 4  # 21280.75
    expected = 20 * math.log10(255) - 10 * math.log10(mse)
    assert expected == pytest.approx(4.8509, abs=1e-4)
    assert res['vp/psnr_zeros'] == pytest.approx(expected)
    assert res['vp/psnr_zeros_t1'] == pytest.approx(expected)
    assert res['vp/psnr_num_capped_zeros'] == 0
    assert res['vp/psnr'] == 100.0 and res['vp/psnr_num_capped'] == 1
    res = _run(
        PSNRMetric(convention='openstl', baselines=['zeros']),
        [(None, [_sample(gt, gt)])])
    mse = (0.25 + 0.0625 + 1.0 + 0.0) / 4  # 0.328125
    assert res['vp/psnr_zeros'] == pytest.approx(-10 * math.log10(mse))
    # an all-black truth: the all-black prediction is exact (capped)
    black = torch.zeros(2, 1, 2, 2)
    res = _run(
        PSNRMetric(baselines=['zeros']),
        [(None, [_sample(gt.repeat(2, 1, 1, 1).float(), black)])])
    assert res['vp/psnr_zeros'] == 100.0
    assert res['vp/psnr_num_capped_zeros'] == 2


def test_zeros_baseline_ssim_hand_computed():
    # zeros against a constant 7x7 frame of uint8 value v (one 7x7 window):
    # mu_x = 0, mu_y = v, all variances and the covariance are 0, so
    # SSIM = (2 * 0 * v + C1) (2 * 0 + C2) / ((0 + v**2 + C1) (0 + 0 + C2))
    #      = C1 / (v**2 + C1) with C1 = (0.01 * 255)**2 = 6.5025
    c1 = (0.01 * 255)**2
    for value, v in ((0.5, 127), (1.0, 255)):
        gt = torch.full((1, 1, 7, 7), value, dtype=torch.float64)
        res = _run(
            SSIMMetric(baselines=('zeros', )), [(None, [_sample(gt, gt)])])
        assert res['vp/ssim'] == pytest.approx(1.0)
        assert res['vp/ssim_zeros'] == pytest.approx(c1 / (v**2 + c1))
    assert c1 / (127**2 + c1) == pytest.approx(4.0299e-4, rel=1e-4)
    # a black truth: zeros is a perfect prediction, SSIM 1
    black = torch.zeros(1, 1, 9, 9)
    res = _run(
        SSIMMetric(baselines=('zeros', )),
        [(None, [_sample(black + 0.5, black)])])
    assert res['vp/ssim_zeros'] == pytest.approx(1.0)


def test_baselines_follow_the_metric_conventions():
    # the copy-last baseline of a metric is scored exactly like a model
    # whose prediction is the last input frame
    torch.manual_seed(0)
    inputs = torch.randint(0, 256, (5, 1, 8, 8), dtype=torch.uint8)
    gt = inputs[2:].float() / 255
    pred = torch.rand(3, 1, 8, 8) * 1.4 - 0.2
    last = (inputs[1].float() / 255).expand(3, -1, -1, -1)
    batch = dict(inputs=[inputs])
    for make in (lambda **k: MSEMetric(clip_pred=False, **k),
                 lambda **k: MAEMetric(**k), lambda **k: SSIMMetric(**k),
                 lambda **k: PSNRMetric(convention='openstl', **k)):
        res = _run(
            make(baselines=('copy_last', 'zeros')),
            [(batch, [_sample(pred, gt, in_frames=2)])])
        as_model = _run(make(), [(batch, [_sample(last, gt, in_frames=2)])])
        as_zeros = _run(make(),
                        [(batch, [_sample(torch.zeros_like(gt), gt, 2)])])
        assert len(res) == 3 * len(as_model)
        for key, value in as_model.items():
            # the suffix goes before the time step: mse_frame_sum_zeros_t1
            base, step = re.fullmatch(r'(.*?)(_t\d+)?', key).groups()
            step = step or ''
            assert res[f'{base}_copy_last{step}'] == pytest.approx(value), key
            assert res[f'{base}_zeros{step}'] == pytest.approx(
                as_zeros[key]), key


def test_baseline_argument_errors():
    with pytest.raises(ValueError, match="unknown baselines \\['mean'\\]"):
        MSEMetric(baselines=('mean', ))
    from mmvp.evaluation import CSIMetric
    with pytest.raises(ValueError, match='does not score baselines'):
        CSIMetric(dbz_encoding='hko', baselines=('zeros', ))
    # duplicates are dropped, copy_last_baseline adds copy_last once
    metric = MSEMetric(copy_last_baseline=True, baselines=('zeros', ))
    assert metric.baselines == ('copy_last', 'zeros')


def test_ssim_metric_per_frame_mean_over_samples():
    rng = np.random.default_rng(0)
    gts = [
        torch.from_numpy(rng.random((3, 3, 10, 10), dtype=np.float32))
        for _ in range(3)
    ]
    preds = [
        g +
        0.1 * torch.randn(g.shape, generator=torch.Generator().manual_seed(i))
        for i, g in enumerate(gts)
    ]
    res = _run(SSIMMetric(), [
        (None, [_sample(preds[0], gts[0], 0),
                _sample(preds[1], gts[1], 1)]),
        (None, [_sample(preds[2], gts[2], 2)])
    ])
    per = torch.stack([
        ssim_frames(to_uint8(p), to_uint8(g)) for p, g in zip(preds, gts)
    ])  # [samples, T]
    for t in range(3):
        assert res[f'vp/ssim_t{t + 1}'] == pytest.approx(per[:, t].mean())
    assert res['vp/ssim'] == pytest.approx(per.mean())
    assert set(res) == {'vp/ssim', 'vp/ssim_t1', 'vp/ssim_t2', 'vp/ssim_t3'}


def test_ssim_metric_matches_skimage_recipe():
    metrics = pytest.importorskip('skimage.metrics')
    rng = np.random.default_rng(4)
    gt = torch.from_numpy(rng.random((2, 3, 16, 16), dtype=np.float32))
    pred = gt + torch.from_numpy(
        rng.normal(0, 0.1, gt.shape).astype(np.float32))
    res = _run(SSIMMetric(prefix='h36m'), [(None, [_sample(pred, gt)])])
    for t in range(2):
        a = np.uint8(np.clip(pred[t].numpy(), 0, 1) * 255).transpose(1, 2, 0)
        b = np.uint8(gt[t].numpy() * 255).transpose(1, 2, 0)
        ref = metrics.structural_similarity(
            a, b, channel_axis=-1, data_range=255)
        assert res[f'h36m/ssim_t{t + 1}'] == pytest.approx(ref, abs=1e-6)


def test_psnr_metric_exact_match_guard():
    gt = _const(2, 0.5, h=4, w=4)
    pred = gt.clone()
    pred[1] += 0.1  # u8: 127 vs 153 -> diff 26 (float32 product)
    diff = int(np.uint8(np.float32(0.6) * 255)) - 127
    finite = 20 * math.log10(255) - 10 * math.log10(diff**2)
    res = _run(PSNRMetric(), [(None, [_sample(pred, gt)])])
    assert res['vp/psnr_t1'] == 100.0
    assert res['vp/psnr_t2'] == pytest.approx(finite)
    assert res['vp/psnr'] == pytest.approx((100.0 + finite) / 2)
    assert res['vp/psnr_num_capped'] == 1
    res = _run(
        PSNRMetric(exact_match_psnr=float('inf')),
        [(None, [_sample(pred, gt)])])
    assert math.isinf(res['vp/psnr_t1'])
    res = _run(PSNRMetric(convention='openstl'), [(None, [_sample(pred, gt)])])
    assert res['vp/psnr_t2'] == pytest.approx(20.0, abs=1e-5)
    with pytest.raises(ValueError, match='convention'):
        PSNRMetric(convention='x')
    with pytest.raises(ValueError, match='rounding'):
        SSIMMetric(rounding='ceil')


def test_psnr_is_mean_of_per_sample_values():
    # metric_conventions.md#psnr: mean of per-sample PSNR, not PSNR of the mean
    # MSE
    gt = _const(1, 0.0, h=2, w=2)
    p1 = gt.clone()
    p1[0, 0, 0, 0] = 2.0001 / 255  # mse 1 -> 48.13 dB
    p2 = gt.clone()
    p2[0, 0] = 20.0001 / 255  # mse 400
    res = _run(PSNRMetric(), [(None, [_sample(p1, gt), _sample(p2, gt)])])
    expected = 20 * math.log10(255) - 0.5 * 10 * (
        math.log10(1) + math.log10(400))
    assert res['vp/psnr'] == pytest.approx(expected)


def test_evaluator_mean_over_samples_not_batches():
    # batch A: 3 samples with error 0.1, batch B: 1 sample with error 0.3.
    # mean over samples = (3 * 0.04 + 0.36) / 4 * 4 pixels
    batches = [
        (None, [_sample(_const(1, 0.1), _const(1, 0.0), i) for i in range(3)]),
        (None, [_sample(_const(1, 0.3), _const(1, 0.0), 3)])
    ]
    res = _run(MSEMetric(prefix='vmnist', per_frame_keys=False), batches)
    assert set(res) == {'vmnist/mse_frame_sum', 'vmnist/mse_pixel'}
    assert res['vmnist/mse_frame_sum'] == pytest.approx(4 * (3 * 0.01 + 0.09) /
                                                        4)


def test_build_from_config_with_default_scope():
    metric = METRICS.build(dict(type='MAEMetric', prefix='h36m'))
    assert isinstance(metric, MAEMetric) and metric.prefix == 'h36m'
    with DefaultScope.overwrite_default_scope('mmvp'):
        evaluator = Evaluator([
            dict(type='MSEMetric', scaled_keys=True),
            dict(type='SSIMMetric'),
            dict(type='PSNRMetric')
        ])
    gt = _const(2, 0.25, c=3, h=8, w=8)
    evaluator.process([_sample(gt + 0.01, gt)], None)
    res = evaluator.evaluate(1)
    assert {
        'vp/mse_frame_sum', 'vp/mse_pixel', 'vp/mse_div10', 'vp/ssim',
        'vp/psnr', 'vp/psnr_num_capped', 'vp/ssim_t2'
    } <= set(res)


def test_input_errors_name_the_key():
    gt = _const(2, 0.5)
    metric = MSEMetric()
    with pytest.raises(KeyError, match='pred_frames'):
        metric.process(None, [dict(gt_frames=gt, sample_idx=7)])
    with pytest.raises(ValueError, match='out_frames=3'):
        metric.process(None,
                       [dict(pred_frames=gt, gt_frames=gt, out_frames=3)])
    with pytest.raises(ValueError, match='float tensor'):
        metric.process(None,
                       [dict(pred_frames=gt.to(torch.uint8), gt_frames=gt)])
    with pytest.raises(ValueError, match='differ in shape'):
        metric.process(None, [dict(pred_frames=gt, gt_frames=gt[:1])])
    with pytest.raises(ValueError, match='no sequence'):
        metric.compute_metrics([])
    metric.process(None, [
        dict(pred_frames=gt, gt_frames=gt),
        dict(pred_frames=gt[:1], gt_frames=gt[:1])
    ])
    with pytest.raises(ValueError, match='different numbers'):
        metric.compute_metrics(metric.results)


def test_core_metrics_keep_per_sample_records():
    from mmvp.evaluation import MAEMetric, MSEMetric, PSNRMetric, SSIMMetric
    torch.manual_seed(0)
    samples = []
    for idx in (3, 8):
        gt = torch.rand(2, 1, 8, 8)
        samples.append(
            dict(
                pred_frames=gt * 0.5,
                gt_frames=gt,
                in_frames=2,
                out_frames=2,
                sample_idx=idx))
    for cls, key in ((MSEMetric, 'mse_frame_sum'), (MAEMetric,
                                                    'mae_frame_sum'),
                     (SSIMMetric, 'ssim'), (PSNRMetric, 'psnr')):
        metric = cls()
        metric.process({}, samples)
        metrics = metric.compute_metrics(metric.results)
        records = metric.per_sample_results
        assert [r['sample_idx'] for r in records] == [3, 8]
        per_t = [sum(r[key][t] for r in records) / 2 for t in range(2)]
        assert metrics[key] == pytest.approx(sum(per_t) / 2)
