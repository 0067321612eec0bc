# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F

from mmvp.models import VideoPredDataPreprocessor
from mmvp.models.utils import patchify, unpatchify


def test_patch_channel_order_is_dy_dx_c():
    # model_equations.md#patch-layout:
    # patch[b,t,(dy*p+dx)*C+c,i,j] = frame[b,t,c,i*p+dy,j*p+dx]
    p, c = 4, 3
    frames = torch.randn(2, 3, c, 8, 12)
    patches = patchify(frames, p)
    assert patches.shape == (2, 3, p * p * c, 2, 3)
    for dy in range(p):
        for dx in range(p):
            for ch in range(c):
                got = patches[:, :, (dy * p + dx) * c + ch]
                want = frames[:, :, ch, dy::p, dx::p]
                assert torch.equal(got, want)


def test_patch_round_trip_and_difference_from_pixel_unshuffle():
    frames = torch.randn(2, 4, 3, 16, 16)
    patches = patchify(frames, 4)
    assert torch.equal(unpatchify(patches, 4), frames)
    # pixel_unshuffle uses (c, dy, dx): same values, other channel order
    unshuffled = F.pixel_unshuffle(frames.flatten(0, 1), 4).view_as(patches)
    assert not torch.equal(unshuffled, patches)
    perm = [
        ch * 16 + dy * 4 + dx for dy in range(4) for dx in range(4)
        for ch in range(3)
    ]
    assert torch.equal(unshuffled[:, :, perm], patches)


def test_patch_size_must_divide():
    with pytest.raises(ValueError, match='not divisible'):
        patchify(torch.zeros(1, 1, 1, 10, 10), 4)


def test_data_preprocessor_scales_uint8_and_patchifies():
    pre = VideoPredDataPreprocessor(patch_size=2)
    clip = torch.randint(0, 256, (4, 1, 8, 8), dtype=torch.uint8)
    out = pre(dict(inputs=[clip, clip], data_samples=None))
    x = out['inputs']
    assert x.dtype == torch.float32 and x.shape == (2, 4, 4, 4, 4)
    back = unpatchify(x, 2)
    assert torch.allclose(back[0], clip.float() / 255)
    with pytest.raises(ValueError, match=r'\[T, C, H, W\]'):
        pre(dict(inputs=[clip[0], clip[0]]))
