# Copyright (c) mmvp contributors. All rights reserved.
"""The vectorised warp against a slow per-pixel reference written from
model_equations.md#warp (float64, values and offset gradients)."""
import pytest
import torch

from mmvp.models.necks import deform_warp, offsets_to_interleaved
from mmvp.models.necks.deform_warp import torchvision_available


def bilinear_zero(img, y, x):
    """Bilinear read of ``img`` [h, w] at real (y, x); zeros outside."""
    h, w = img.shape
    y0 = torch.floor(y)
    x0 = torch.floor(x)
    out = img.new_zeros(())
    for dy in (0, 1):
        for dx in (0, 1):
            yi = int(y0) + dy
            xi = int(x0) + dx
            wy = 1 - torch.abs(y - (y0 + dy))
            wx = 1 - torch.abs(x - (x0 + dx))
            if 0 <= yi < h and 0 <= xi < w:
                out = out + wy * wx * img[yi, xi]
    return out


def reference_warp(feat, offsets, mask, weight):
    """Y[o,i,j] = sum_c sum_n W[o,c,a,b] m[n,i,j]
    bilinear0(E[c], i + a + F[n], j + b + F[N + n])."""
    b_sz, c_in, h, w = feat.shape
    c_out, _, k, _ = weight.shape
    n_taps = k * k
    r = k // 2
    out = feat.new_zeros(b_sz, c_out, h, w)
    for b in range(b_sz):
        for i in range(h):
            for j in range(w):
                acc = feat.new_zeros(c_out)
                for a in range(-r, r + 1):
                    for bb in range(-r, r + 1):
                        n = (a + r) * k + (bb + r)
                        y = i + a + offsets[b, n, i, j]
                        x = j + bb + offsets[b, n_taps + n, i, j]
                        samples = torch.stack([
                            bilinear_zero(feat[b, c], y, x)
                            for c in range(c_in)
                        ])
                        acc = acc + mask[b, n, i, j] * (
                            weight[:, :, a + r, bb + r] @ samples)
                out[b, :, i, j] = acc
    return out


def make_inputs(k=3, scale=1.5, seed=0, h=5, w=6):
    g = torch.Generator().manual_seed(seed)
    n = k * k
    feat = torch.randn(2, 3, h, w, generator=g, dtype=torch.float64)
    offsets = scale * torch.randn(
        2, 2 * n, h, w, generator=g, dtype=torch.float64)
    # push some samples far outside the map (beyond the zero border)
    offsets[0, 0, 0, 0] = -7.3
    offsets[1, n + 1, 2, 3] = 9.6
    offsets[1, 2, 4, 5] = 1.0 + 0.25  # lands just past the bottom border
    mask = torch.rand(2, n, h, w, generator=g, dtype=torch.float64)
    weight = torch.randn(4, 3, k, k, generator=g, dtype=torch.float64)
    return feat, offsets, mask, weight


@pytest.mark.parametrize('k,scale', [(3, 0.7), (3, 4.0), (5, 2.0)])
def test_grid_sample_warp_matches_reference(k, scale):
    feat, offsets, mask, weight = make_inputs(k, scale)
    offsets.requires_grad_(True)
    fast = deform_warp(feat, offsets, mask, weight, impl='grid_sample')
    ref = reference_warp(feat, offsets, mask, weight)
    assert fast.shape == (2, 4, 5, 6)
    assert torch.allclose(fast, ref, atol=1e-10, rtol=0)

    cot = torch.randn_like(ref)
    g_fast, = torch.autograd.grad((fast * cot).sum(), offsets)
    g_ref, = torch.autograd.grad((ref * cot).sum(), offsets)
    assert torch.allclose(g_fast, g_ref, atol=1e-10, rtol=0)
    # offsets pointing beyond the zero border contribute nothing
    assert g_fast[0, 0, 0, 0] == 0


def test_zero_offsets_unit_mask_is_a_plain_convolution():
    feat, offsets, mask, weight = make_inputs(3)
    out = deform_warp(feat, torch.zeros_like(offsets), torch.ones_like(mask),
                      weight)
    conv = torch.nn.functional.conv2d(feat, weight, padding=1)
    assert torch.allclose(out, conv, atol=1e-12)


def test_integer_shift_moves_the_map():
    # a 1x1 identity kernel with offset (dy, dx) = (1, 2) reads E[i+1, j+2]
    feat = torch.arange(30, dtype=torch.float64).view(1, 1, 5, 6)
    weight = torch.zeros(1, 1, 3, 3, dtype=torch.float64)
    weight[0, 0, 1, 1] = 1
    offsets = torch.zeros(1, 18, 5, 6, dtype=torch.float64)
    offsets[:, 4] = 1.0  # centre tap, row offset
    offsets[:, 9 + 4] = 2.0  # centre tap, column offset
    out = deform_warp(feat, offsets,
                      torch.ones(1, 9, 5, 6, dtype=torch.float64), weight)
    expected = torch.zeros(5, 6, dtype=torch.float64)
    expected[:4, :4] = feat[0, 0, 1:, 2:]
    assert torch.allclose(out[0, 0], expected, atol=1e-12)


def test_offset_interleaving():
    f = torch.arange(36.).view(1, 18, 1, 2)
    inter = offsets_to_interleaved(f)
    assert torch.equal(inter[:, 0::2], f[:, :9])
    assert torch.equal(inter[:, 1::2], f[:, 9:])


def test_bad_shapes_are_refused():
    feat, offsets, mask, weight = make_inputs(3)
    with pytest.raises(ValueError, match='18 offset channels'):
        deform_warp(feat, offsets[:, :10], mask, weight)
    with pytest.raises(ValueError, match='impl'):
        deform_warp(feat, offsets, mask, weight, impl='cuda')


@pytest.mark.skipif(
    not torchvision_available(), reason='torchvision deform_conv2d absent')
def test_torchvision_path_equals_grid_sample():
    feat, offsets, mask, weight = make_inputs(3, 2.0)
    a = deform_warp(feat, offsets, mask, weight, impl='grid_sample')
    b = deform_warp(feat, offsets, mask, weight, impl='torchvision')
    assert torch.allclose(a, b, atol=1e-10)
