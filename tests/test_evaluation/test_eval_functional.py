# Copyright (c) mmvp contributors. All rights reserved.
"""Pure per-frame metric functions against hand values and scikit-image."""
import math

import numpy as np
import pytest
import torch

from mmvp.evaluation.functional import (frame_abs_error_sum,
                                        frame_squared_error_sum, psnr_frames,
                                        ssim_frames, to_uint8)


def _pair():
    # one frame, 1 channel, 2x2: prediction outside [0, 1] on two pixels
    pred = torch.tensor([[[[1.5, -0.5], [0.2, 0.4]]]])
    gt = torch.tensor([[[[1.0, 0.0], [0.0, 0.5]]]])
    return pred, gt


def test_to_uint8_truncates_and_clips():
    v = torch.tensor([-0.3, 0.0, 0.5, 0.999, 1.0, 1.7])
    assert to_uint8(v).tolist() == [0, 0, 127, 254, 255, 255]
    assert to_uint8(v, rounding='round').tolist() == [0, 0, 128, 255, 255, 255]
    # same as np.uint8(np.clip(v, 0, 1) * 255) on float32
    rng = np.random.default_rng(0)
    x = rng.random((3, 1, 8, 8), dtype=np.float32)
    np.testing.assert_array_equal(
        to_uint8(x).numpy(), np.uint8(np.clip(x, 0, 1) * 255))
    # k / 255 in float32 comes back as k
    k = torch.arange(256, dtype=torch.uint8)
    assert torch.equal(to_uint8(k.float() / 255), k)
    assert torch.equal(to_uint8(k), k)
    with pytest.raises(ValueError, match='rounding'):
        to_uint8(v, rounding='floor')


def test_squared_error_is_a_sum_and_clips_prediction_only():
    pred, gt = _pair()
    # clipped prediction [1, 0, .2, .4]: 0 + 0 + .04 + .01
    out = frame_squared_error_sum(pred, gt)
    assert out.dtype == torch.float64 and out.shape == (1, )
    assert out.item() == pytest.approx(0.05, abs=1e-7)
    # OpenSTL: no clipping, .25 + .25 + .04 + .01
    assert frame_squared_error_sum(
        pred, gt, clip_pred=False).item() == pytest.approx(
            0.55, abs=1e-7)
    # truth is not clipped
    gt_out = gt.clone()
    gt_out[0, 0, 0, 0] = 1.2
    assert frame_squared_error_sum(pred, gt_out).item() == pytest.approx(
        0.04 + 0.04 + 0.01, abs=1e-7)


def test_abs_error_sum_unclipped_by_default():
    pred, gt = _pair()
    assert frame_abs_error_sum(pred, gt).item() == pytest.approx(1.3, abs=1e-7)
    assert frame_abs_error_sum(
        pred, gt, clip_pred=True).item() == pytest.approx(
            0.3, abs=1e-7)


def test_shape_and_dtype_errors():
    pred, gt = _pair()
    with pytest.raises(ValueError, match='same shape'):
        frame_squared_error_sum(pred, gt[..., :1])
    with pytest.raises(ValueError, match=r'\[N, C, H, W\]'):
        frame_abs_error_sum(pred[0], gt[0])
    with pytest.raises(TypeError, match='float'):
        frame_squared_error_sum(pred, gt.to(torch.uint8))
    with pytest.raises(ValueError, match='at least 7x7'):
        ssim_frames(torch.zeros(1, 1, 6, 9), torch.zeros(1, 1, 6, 9))


def _structured_images(rng, h, w, c):
    yy, xx = np.mgrid[0:h, 0:w]
    base = 127 + 100 * np.sin(xx / 3.0) * np.cos(yy / 5.0)
    a = np.stack([base + 10 * k for k in range(c)], axis=-1)
    b = a + rng.normal(0, 12, size=a.shape)
    b[h // 3:h // 2, w // 4:w // 2] = 0  # a dark block
    return (np.clip(a, 0, 255).astype(np.uint8), np.clip(b, 0,
                                                         255).astype(np.uint8))


@pytest.mark.parametrize('shape', [(16, 16, 1), (20, 13, 3), (32, 24, 2)])
def test_ssim_matches_skimage(shape):
    metrics = pytest.importorskip('skimage.metrics')
    rng = np.random.default_rng(1)
    h, w, c = shape
    pairs = [
        (rng.integers(0, 256, shape, dtype=np.uint8),
         rng.integers(0, 256, shape, dtype=np.uint8)),
        _structured_images(rng, h, w, c),
    ]
    a = rng.integers(0, 256, shape, dtype=np.uint8)
    noisy = np.clip(a + rng.normal(0, 5, shape), 0, 255).astype(np.uint8)
    pairs.append((a, noisy))
    imgs1 = np.stack([p[0] for p in pairs]).transpose(0, 3, 1, 2)
    imgs2 = np.stack([p[1] for p in pairs]).transpose(0, 3, 1, 2)
    ours = ssim_frames(imgs1, imgs2).numpy()
    ref = [
        metrics.structural_similarity(p, q, channel_axis=-1, data_range=255)
        for p, q in pairs
    ]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6)


@pytest.mark.parametrize('p,q', [(0, 0), (10, 200), (255, 128), (90, 91)])
def test_ssim_constant_images_closed_form(p, q):
    # zero variance: SSIM = (2pq + C1) / (p^2 + q^2 + C1), C1 = (0.01*255)^2
    c1 = (0.01 * 255)**2
    expected = (2 * p * q + c1) / (p * p + q * q + c1)
    a = torch.full((1, 3, 9, 11), p, dtype=torch.uint8)
    b = torch.full((1, 3, 9, 11), q, dtype=torch.uint8)
    assert ssim_frames(a, b).item() == pytest.approx(expected, abs=1e-12)


def test_ssim_identical_and_symmetric():
    rng = np.random.default_rng(2)
    a = torch.from_numpy(rng.integers(0, 256, (2, 3, 12, 12), dtype=np.uint8))
    b = torch.from_numpy(rng.integers(0, 256, (2, 3, 12, 12), dtype=np.uint8))
    np.testing.assert_allclose(ssim_frames(a, a).numpy(), 1.0, atol=1e-12)
    np.testing.assert_allclose(
        ssim_frames(a, b).numpy(), ssim_frames(b, a).numpy(), atol=1e-12)


def test_psnr_matches_skimage_on_uint8():
    metrics = pytest.importorskip('skimage.metrics')
    rng = np.random.default_rng(3)
    gt = rng.random((4, 3, 8, 8)).astype(np.float32)
    pred = gt + rng.normal(0, 0.05, gt.shape).astype(np.float32)
    ours = psnr_frames(pred, gt).numpy()
    u8p = np.uint8(np.clip(pred, 0, 1) * 255)
    u8g = np.uint8(gt * 255)
    ref = [
        metrics.peak_signal_noise_ratio(u8g[i], u8p[i], data_range=255)
        for i in range(4)
    ]
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-9)


def test_psnr_hand_values_and_inf():
    gt = torch.zeros(2, 1, 2, 2)
    pred = gt.clone()
    # frame 1: one pixel off by 4/255 -> u8 diff 4 (1.0 + tiny keeps trunc)
    pred[1, 0, 0, 0] = 4.0001 / 255
    out = psnr_frames(pred, gt)
    assert math.isinf(out[0].item()) and out[0].item() > 0
    # mse = 16 / 4 = 4 -> 20 log10(255) - 10 log10(4)
    assert out[1].item() == pytest.approx(
        20 * math.log10(255) - 10 * math.log10(4), abs=1e-12)
    # OpenSTL float convention, prediction clipped: mse = (0.5^2) / 4
    pred_f = gt.clone()
    pred_f[:, 0, 0, 0] = torch.tensor([0.5, 1.5])
    gt_f = gt.clone()
    gt_f[:, 0, 0, 0] = torch.tensor([0.0, 0.5])
    out = psnr_frames(pred_f, gt_f, convention='openstl')
    np.testing.assert_allclose(out.numpy(), -10 * math.log10(0.25 / 4))
    with pytest.raises(ValueError, match='convention'):
        psnr_frames(pred, gt, convention='mmagic')
