# Copyright (c) mmvp contributors. All rights reserved.
"""SegmentDigitSource (seven-segment digits) and the V-MNIST options
speed_range, omega_range and scale_rate_range: clips unlike vmnist-v1."""
import math
import pickle

import numpy as np
import pytest

from mmvp.datasets import VMNISTDataset
from mmvp.datasets.digit_sources import (DIGIT_SIZE, GlyphDigitSource,
                                         SegmentDigitSource,
                                         build_digit_source)
from mmvp.datasets.vmnist_protocol import (SPEED_RANGE,
                                           generate_vmnist_sequence,
                                           sample_vmnist_params, vmnist_rng)


def test_segment_digits_shape_ink_and_determinism():
    src = SegmentDigitSource('test', size=50)
    assert len(src) == 50
    for i in range(50):
        img = src.image(i)
        assert img.shape == (DIGIT_SIZE, DIGIT_SIZE) and img.dtype == np.uint8
        assert img.max() == 255 and img[0].max() == 0  # ink, empty border
        ys, xs = np.nonzero(img > 127)
        # the bounding box fitted into 17-20 px, centred
        assert 16 <= ys.max() - ys.min() + 1 <= 21
        assert abs((ys.mean() + 0.5) - DIGIT_SIZE / 2) < 3
        assert 0 <= src.label(i) <= 9
    again = SegmentDigitSource('test', size=50)
    assert all(np.array_equal(src.image(i), again.image(i)) for i in range(5))
    other = SegmentDigitSource('train', size=50)
    assert not all(
        np.array_equal(src.image(i), other.image(i)) for i in range(5))


def test_segment_digits_look_like_their_labels():
    """An "8" lights all seven segments and a "1" two: an 8 has about three
    times the ink of a 1 of the same pen; the "1" is a narrow bar."""
    src = SegmentDigitSource('train', size=400)
    ink = {d: [] for d in range(10)}
    width = {d: [] for d in range(10)}
    for i in range(400):
        img = src.image(i) > 127
        ink[src.label(i)].append(img.sum())
        xs = np.nonzero(img.any(0))[0]
        width[src.label(i)].append(xs.max() - xs.min() + 1)
    assert all(len(v) > 10 for v in ink.values())
    assert np.mean(ink[8]) > 2 * np.mean(ink[1])
    assert np.mean(width[1]) < 0.6 * np.mean(width[0])
    # and they differ from the font digits of GlyphDigitSource
    glyphs = GlyphDigitSource('train', size=20)
    assert not any(
        np.array_equal(src.image(i), glyphs.image(i)) for i in range(20))


def test_segment_source_by_name_errors_and_pickling():
    src = build_digit_source('segments', split='test', size=10, seed=3)
    assert isinstance(src, SegmentDigitSource) and src.seed == 3
    src.image(0)
    assert len(pickle.loads(pickle.dumps(src))._cache) == 0
    with pytest.raises(IndexError, match='out of range'):
        src.image(10)
    with pytest.raises(ValueError, match='split must be one of'):
        SegmentDigitSource('val')


def test_vmnist_with_segment_digits_and_speed_range():
    ds = VMNISTDataset(
        split='test',
        digit_source='segments',
        num_samples=3,
        num_digits=1,
        speed_range=(7.0, 7.0))
    assert ds.metainfo['digit_source'] == 'segments'
    assert ds.metainfo['speed_range'] == (7.0, 7.0)
    frames, info = ds.render_float(0, return_info=True)
    assert frames.shape == (20, 64, 64) and frames.max() > 0.9
    assert info['params'][0]['speed'] == 7.0
    traj = info['traj']
    steps = np.hypot(np.diff(traj['cx'][0]), np.diff(traj['cy'][0]))
    free = ~traj['bounced'][0, 1:]
    assert free.any() and np.allclose(steps[free], 7.0)


def test_speed_range_default_keeps_vmnist_v1():
    """The default draws exactly the vmnist-v1 parameters."""
    src = GlyphDigitSource('test', size=100)
    for i in range(3):
        a = sample_vmnist_params(vmnist_rng(2021, 'test', i), len(src))
        b = sample_vmnist_params(
            vmnist_rng(2021, 'test', i), len(src), speed_range=SPEED_RANGE)
        assert a == b
        assert all(SPEED_RANGE[0] <= p['speed'] <= SPEED_RANGE[1] for p in a)
    assert np.array_equal(
        generate_vmnist_sequence(src, 1, split='test', num_frames=4),
        VMNISTDataset(
            split='test',
            digit_source='glyphs',
            num_samples=2,
            glyph_cfg=dict(size=100),
            in_frames=2,
            out_frames=2).render_float(1))
    # another range changes the speeds only: the draws stay in step
    base = sample_vmnist_params(vmnist_rng(2021, 'test', 0), len(src))
    slow = sample_vmnist_params(
        vmnist_rng(2021, 'test', 0), len(src), speed_range=(1.0, 2.0))
    for p, q in zip(slow, base):
        assert 1.0 <= p['speed'] <= 2.0
        assert p['digit_idx'] == q['digit_idx'] and p['phi'] == q['phi']
        assert math.isclose(p['speed'] - 1.0, (q['speed'] - 3.0) / 3.0)


@pytest.mark.parametrize('bad', [(3.0, 1.0), (-1.0, 2.0), (1.0, )])
def test_bad_speed_range_is_refused(bad):
    with pytest.raises(ValueError, match='speed_range'):
        VMNISTDataset(
            split='test',
            digit_source='glyphs',
            num_samples=1,
            speed_range=bad)


def test_rotation_and_scaling_can_be_turned_off():
    """omega_range=(0, 0) and scale_rate_range=(0, 0): the digit keeps its
    angle and size and only moves; the other draws are those of
    vmnist-v1."""
    kwargs = dict(
        split='test',
        digit_source='glyphs',
        num_samples=2,
        num_digits=1,
        glyph_cfg=dict(size=100))
    still = VMNISTDataset(
        omega_range=(0.0, 0.0), scale_rate_range=(0.0, 0.0), **kwargs)
    moving = VMNISTDataset(**kwargs)
    assert still.metainfo['omega_range'] == (0.0, 0.0)
    _, info = still.render_float(1, return_info=True)
    _, ref = moving.render_float(1, return_info=True)
    traj = info['traj']
    assert np.all(traj['theta'] == traj['theta'][:, :1])
    assert np.all(traj['scale'] == traj['scale'][:, :1])
    assert np.ptp(ref['traj']['theta']) > 0 and np.ptp(ref['traj']['scale'])
    p, q = info['params'][0], ref['params'][0]
    for key in ('digit_idx', 'scale0', 'theta0', 'speed', 'phi', 'cx', 'cy'):
        assert p[key] == q[key], key
    steps = np.hypot(np.diff(traj['cx'][0]), np.diff(traj['cy'][0]))
    free = ~traj['bounced'][0, 1:]
    assert free.any() and np.allclose(steps[free], p['speed'])


@pytest.mark.parametrize('key', ['omega_range', 'scale_rate_range'])
def test_bad_motion_range_is_refused(key):
    with pytest.raises(ValueError, match=key):
        VMNISTDataset(
            split='test',
            digit_source='glyphs',
            num_samples=1,
            **{key: (1.0, 0.5)})
