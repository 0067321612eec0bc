# Copyright (c) mmvp contributors. All rights reserved.
"""V-MNIST ``vmnist-v1`` (dataset_protocols.md#protocol-vmnist-v1): the
properties the protocol pins."""
import math
import pickle

import cv2
import numpy as np
import pytest

from mmvp.datasets import (GlyphDigitSource, VMNISTDataset,
                           generate_vmnist_sequence, render_vmnist,
                           sample_vmnist_params, vmnist_rng, vmnist_trajectory)
from mmvp.registry import DATASETS

N_CHECK = 150  # indices whose trajectories are checked


@pytest.fixture(scope='module')
def train_glyphs():
    return VMNISTDataset(digit_source='glyphs', split='train')


def _infos(ds, n=N_CHECK):
    return [ds.render_float(i, return_info=True)[1] for i in range(n)]


def test_defaults_and_metainfo(train_glyphs):
    ds = train_glyphs
    assert len(ds) == 100000
    assert len(VMNISTDataset(digit_source='glyphs', split='test')) == 10000
    meta = ds.metainfo
    assert meta['protocol'] == 'vmnist-v1'
    assert meta['in_frames'] == 10 and meta['out_frames'] == 10
    assert meta['resolution'] == (64, 64) and meta['split'] == 'train'
    assert DATASETS.get('VMNISTDataset') is VMNISTDataset


def test_shape_dtype_range(train_glyphs):
    f = train_glyphs.render_float(0)
    assert f.dtype == np.float32 and f.shape == (20, 64, 64)
    assert f.min() >= 0.0 and f.max() <= 1.0 and f.max() > 0.5
    sample = train_glyphs[0]
    frames = sample['frames']
    assert frames.dtype == np.uint8 and frames.shape == (20, 64, 64, 1)
    np.testing.assert_array_equal(frames[..., 0],
                                  np.rint(f * 255).astype(np.uint8))
    assert sample['in_frames'] == 10 and sample['out_frames'] == 10
    assert sample['sample_idx'] == 0 and sample['seq_idx'] == 0
    assert sample['protocol'] == 'vmnist-v1'


def test_determinism_and_variation(train_glyphs):
    other = VMNISTDataset(digit_source='glyphs', num_samples=10)
    for i in (0, 7):
        np.testing.assert_array_equal(
            train_glyphs.render_float(i), other.render_float(i))
    a, b = train_glyphs.render_float(0), train_glyphs.render_float(1)
    assert not np.array_equal(a, b)
    reseeded = VMNISTDataset(
        digit_source='glyphs', num_samples=10, base_seed=7)
    assert not np.array_equal(reseeded.render_float(0), a)
    test = VMNISTDataset(digit_source='glyphs', split='test', num_samples=4)
    assert not np.array_equal(test.render_float(0), a)


def test_train_test_use_different_pools_and_seeds():
    src = GlyphDigitSource('train')
    f_train = generate_vmnist_sequence(src, 3, split='train')
    f_test = generate_vmnist_sequence(src, 3, split='test')
    assert not np.array_equal(f_train, f_test)  # split_id enters the seed
    test = VMNISTDataset(digit_source='glyphs', split='test', num_samples=4)
    assert test.digit_source.split == 'test'
    assert len(test.digit_source) == 10000


def test_draw_order_matches_protocol():
    """Re-implement the protocol's draw order and compare."""
    rng = np.random.default_rng([2021, 0, 5])
    expected = []
    for k in range(2):
        while True:
            idx = int(rng.integers(60000))
            if not any(e[0] == idx for e in expected):
                break
        s0 = rng.uniform(0.8, 1.2)
        r = rng.uniform(math.log(1.03), math.log(1.08))
        r *= 1.0 if rng.random() < 0.5 else -1.0
        th0 = rng.uniform(0, 360)
        om = rng.uniform(10, 30)
        om *= 1.0 if rng.random() < 0.5 else -1.0
        speed = rng.uniform(3, 6)
        phi = rng.uniform(0, 2 * math.pi)
        cx = rng.uniform(14 * s0, 64 - 14 * s0)
        cy = rng.uniform(14 * s0, 64 - 14 * s0)
        expected.append((idx, s0, r, th0, om, speed, phi, cx, cy))
    params = sample_vmnist_params(vmnist_rng(2021, 'train', 5), 60000)
    keys = ('digit_idx', 'scale0', 'scale_rate', 'theta0', 'omega', 'speed',
            'phi', 'cx', 'cy')
    for p, e in zip(params, expected):
        assert tuple(p[k] for k in keys) == e
    # the epoch is appended to the seed
    a = sample_vmnist_params(vmnist_rng(2021, 'train', 5, epoch=3), 60000)
    ref = sample_vmnist_params(np.random.default_rng([2021, 0, 5, 3]), 60000)
    assert a == ref and a != params


def test_digits_are_distinct():
    for i in range(200):
        p = sample_vmnist_params(vmnist_rng(0, 'train', i), pool_size=2)
        assert p[0]['digit_idx'] != p[1]['digit_idx']
    labels = [0, 0, 0, 1]  # only digit 3 has another class
    for i in range(50):
        p = sample_vmnist_params(
            vmnist_rng(0, 'test', i),
            pool_size=4,
            distinct_labels=True,
            label_fn=labels.__getitem__)
        assert labels[p[0]['digit_idx']] != labels[p[1]['digit_idx']]
    ds = VMNISTDataset(
        digit_source='glyphs', num_samples=20, distinct_labels=True)
    src = ds.digit_source
    for i in range(20):
        p = ds.render_float(i, return_info=True)[1]['params']
        assert src.label(p[0]['digit_idx']) != src.label(p[1]['digit_idx'])


def test_motion_rotation_scale_ranges(train_glyphs):
    for info in _infos(train_glyphs):
        traj, params = info['traj'], info['params']
        scale = traj['scale']
        assert scale.min() >= 0.6 - 1e-12 and scale.max() <= 1.4 + 1e-12
        # every digit always rotates: |dtheta| in [10, 30] deg per frame
        dtheta = np.abs(np.diff(traj['theta'], axis=1))
        assert dtheta.min() >= 10.0 - 1e-9 and dtheta.max() <= 30.0 + 1e-9
        # ... always scales: |d log s| in [ln 1.03, ln 1.08]
        dlog = np.abs(np.diff(np.log(scale), axis=1))
        assert dlog.max() <= math.log(1.08) + 1e-9
        assert (dlog > 0).all()
        # ... always moves: 3-6 px per frame before bounces
        step = np.hypot(
            np.diff(traj['cx'], axis=1), np.diff(traj['cy'], axis=1))
        free = ~traj['bounced'][:, 1:]
        assert free.any()
        assert step[free].min() >= 3.0 - 1e-9
        assert step[free].max() <= 6.0 + 1e-9
        for k, p in enumerate(params):
            np.testing.assert_allclose(step[k][free[k]], p['speed'])
        assert (step > 0).all()
        # centres stay inside the margin m = 14 s
        m = 14 * scale
        assert (traj['cx'] >= m - 1e-9).all()
        assert (traj['cx'] <= 64 - m + 1e-9).all()
        assert (traj['cy'] >= m - 1e-9).all()
        assert (traj['cy'] <= 64 - m + 1e-9).all()


def test_digits_never_leave_canvas(train_glyphs):
    src = train_glyphs.digit_source
    for i in range(40):
        _, info = train_glyphs.render_float(i, return_info=True)
        digits = [src.image(p['digit_idx']) for p in info['params']]
        layers = render_vmnist(digits, info['traj'], per_digit=True)
        for k, digit in enumerate(digits):
            full = digit.astype(np.float64).sum() / 255.0
            expect = full * info['traj']['scale'][k]**2
            got = layers[k].sum(axis=(1, 2))
            assert (got > 0.9 * expect).all()


def test_state_update_rules():
    """Hand-made parameters hitting each reflection rule."""
    base = dict(digit_idx=0, theta0=0.0, omega=20.0, phi=0.0)
    # scale: 1.39 * 1.05 > 1.4 -> 1.4**2 / s, sign flipped
    p = dict(
        base,
        scale0=1.39,
        scale_rate=math.log(1.05),
        speed=3.0,
        cx=32.0,
        cy=32.0)
    t = vmnist_trajectory([p], num_frames=3)
    s1 = 1.4**2 / (1.39 * 1.05)
    assert t['scale'][0, 1] == pytest.approx(s1)
    assert t['scale'][0, 2] == pytest.approx(s1 / 1.05)
    np.testing.assert_allclose(t['theta'][0], [0, 20, 40])
    # lower bound
    p = dict(p, scale0=0.61, scale_rate=-math.log(1.05))
    t = vmnist_trajectory([p], num_frames=2)
    assert t['scale'][0, 1] == pytest.approx(0.36 / (0.61 / 1.05))
    # right wall: c = 2 (64 - m) - c, velocity negated
    p = dict(
        base,
        scale0=1.0,
        scale_rate=math.log(1.04),
        speed=5.0,
        cx=48.0,
        cy=32.0)
    t = vmnist_trajectory([p], num_frames=3)
    m1 = 14 * 1.04
    assert t['cx'][0, 1] == pytest.approx(2 * (64 - m1) - 53.0)
    assert t['bounced'][0, 1] and not t['bounced'][0, 2]
    assert t['cx'][0, 2] == pytest.approx(t['cx'][0, 1] - 5.0)
    assert t['cy'][0, 1] == pytest.approx(32.0)
    # top wall (y axis, moving up)
    p = dict(
        base,
        scale0=1.0,
        scale_rate=math.log(1.04),
        speed=4.0,
        phi=-math.pi / 2,
        cx=32.0,
        cy=15.0)
    t = vmnist_trajectory([p], num_frames=2)
    assert t['cy'][0, 1] == pytest.approx(2 * m1 - 11.0)


def test_rendering_formula():
    digit = GlyphDigitSource('test').image(4)
    p = dict(
        digit_idx=0,
        scale0=1.1,
        scale_rate=math.log(1.05),
        theta0=33.0,
        omega=-12.0,
        speed=4.0,
        phi=1.0,
        cx=30.2,
        cy=27.7)
    traj = vmnist_trajectory([p], num_frames=2)
    out = render_vmnist([digit], traj)
    m = cv2.getRotationMatrix2D((13.5, 13.5), 33.0, 1.1)
    m[:, 2] += (30.2 - 13.5, 27.7 - 13.5)
    ref = cv2.warpAffine(
        digit.astype(np.float32) / 255,
        m, (64, 64),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0)
    np.testing.assert_allclose(out[0], ref, atol=1e-6)
    # two digits composite with max
    traj2 = vmnist_trajectory([p, dict(p, cx=34.0)], num_frames=2)
    layers = render_vmnist([digit, digit], traj2, per_digit=True)
    np.testing.assert_array_equal(
        render_vmnist([digit, digit], traj2), layers.max(0))


def test_holds_no_pixels(mnist_root):
    ds = VMNISTDataset(
        data_root=str(mnist_root), digit_source='mnist', num_samples=1000)
    assert ds.data_bytes.nbytes < 40 * 1000  # tiny dicts only
    assert ds.get_data_info(3) == dict(seq_idx=3, sample_idx=3)
    ds[0]  # loads the digits in this process
    blob = pickle.dumps(ds)
    assert len(blob) < ds.data_bytes.nbytes + 20000
    assert pickle.loads(blob).digit_source._images is None
    unser = VMNISTDataset(
        data_root=str(mnist_root), num_samples=50, serialize_data=False)
    for info in unser.data_list:
        assert all(isinstance(v, int) for v in info.values())


def test_mnist_digit_source(mnist_root):
    train = VMNISTDataset(data_root=str(mnist_root), num_samples=5)
    test = VMNISTDataset(
        data_root=str(mnist_root), split='test', num_samples=5)
    assert len(train.digit_source) == 12 and len(test.digit_source) == 6
    _, info = test.render_float(2, return_info=True)
    assert all(p['digit_idx'] < 6 for p in info['params'])
    assert test[2]['frames'].shape == (20, 64, 64, 1)


def test_missing_data_root_names_path(tmp_path):
    with pytest.raises(FileNotFoundError) as e:
        VMNISTDataset(data_root=str(tmp_path / 'mnist'), num_samples=3)
    assert str(tmp_path / 'mnist') in str(e.value)
    assert 'download_mnist.py --out-dir' in str(e.value)


def test_resample_each_epoch():
    ds = VMNISTDataset(
        digit_source='glyphs', num_samples=4, resample_each_epoch=True)
    e0 = ds.render_float(1)
    ds.set_epoch(1)
    assert not np.array_equal(ds.render_float(1), e0)
    ds.set_epoch(0)
    np.testing.assert_array_equal(ds.render_float(1), e0)
    fixed = VMNISTDataset(digit_source='glyphs', num_samples=4)
    fixed.set_epoch(5)
    np.testing.assert_array_equal(
        fixed.render_float(1), generate_vmnist_sequence(fixed.digit_source, 1))
    with pytest.raises(ValueError, match='only for'):
        VMNISTDataset(
            digit_source='glyphs', split='test', resample_each_epoch=True)


def test_subset_keeps_generation_index():
    ds = VMNISTDataset(digit_source='glyphs', num_samples=10, indices=[4, 7])
    assert len(ds) == 2
    s = ds[1]
    assert s['sample_idx'] == 1 and s['seq_idx'] == 7
    full = VMNISTDataset(digit_source='glyphs', num_samples=10)
    np.testing.assert_array_equal(s['frames'], full[7]['frames'])


def test_other_lengths_and_bad_args():
    ds = VMNISTDataset(
        digit_source='glyphs', num_samples=3, in_frames=4, out_frames=6)
    assert ds[0]['frames'].shape == (10, 64, 64, 1)
    with pytest.raises(ValueError, match='in_frames'):
        VMNISTDataset(digit_source='glyphs', in_frames=0)
    with pytest.raises(ValueError, match='split'):
        VMNISTDataset(digit_source='glyphs', split='val')
    with pytest.raises(ValueError, match='Unknown digit_source'):
        VMNISTDataset(digit_source='fonts')


def test_cache_file_roundtrip(tmp_path):
    ds = VMNISTDataset(digit_source='glyphs', split='test', num_samples=3)
    path = ds.write_cache(str(tmp_path / 'vmnist_test.npy'))
    arr = np.load(path)
    assert arr.shape == (3, 20, 64, 64) and arr.dtype == np.uint8
    cached = VMNISTDataset(
        digit_source='glyphs', split='test', num_samples=3, cache_file=path)
    for i in range(3):
        np.testing.assert_array_equal(cached[i]['frames'], ds[i]['frames'])
    assert len(pickle.dumps(cached)) < 20000
    with pytest.raises(ValueError, match=r'\(N >= 5, 20, 64, 64\)'):
        VMNISTDataset(
            digit_source='glyphs',
            split='test',
            num_samples=5,
            cache_file=path)


def test_too_small_canvas_is_refused_with_a_clear_message():
    with pytest.raises(ValueError, match='image_size=32 is too small'):
        VMNISTDataset(digit_source='glyphs', image_size=32, num_samples=2)
