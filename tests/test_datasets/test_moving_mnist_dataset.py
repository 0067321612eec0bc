# Copyright (c) mmvp contributors. All rights reserved.
"""Standard Moving MNIST (dataset_protocols.md#moving-mnist): generator
rules and the .npy file."""
import math
import pickle

import numpy as np
import pytest

from mmvp.datasets import (GlyphDigitSource, MovingMNISTDataset,
                           generate_moving_mnist_sequence,
                           moving_mnist_trajectory)


def test_trajectory_step_then_record():
    # theta = 0: x grows 0.1 per frame, first frame already one step on
    traj = moving_mnist_trajectory(0.5, 0.5, 0.0, num_frames=3)
    np.testing.assert_array_equal(traj, [[18, 21], [18, 25], [18, 28]])
    assert traj.dtype.kind == 'i'


def test_trajectory_bounce_and_truncation():
    # x = 0.95 -> 1.05: set to 1 and negate; then 0.9 -> int(32.4) = 32
    traj = moving_mnist_trajectory(0.2, 0.95, 0.0, num_frames=3)
    np.testing.assert_array_equal(traj[:, 1], [36, 32, 28])
    np.testing.assert_array_equal(traj[:, 0], [7, 7, 7])  # int(36 * 0.2)
    # upward motion hits the top: y = 0.05 - 0.1 < 0 -> 0, v_y negated
    traj = moving_mnist_trajectory(0.05, 0.3, -math.pi / 2, num_frames=3)
    np.testing.assert_array_equal(traj[:, 0], [0, 3, 7])


def test_generated_speed_and_box():
    rng = np.random.default_rng(0)
    for _ in range(50):
        y, x, th = rng.random(), rng.random(), rng.random() * 2 * math.pi
        traj = moving_mnist_trajectory(y, x, th, num_frames=20)
        assert traj.min() >= 0 and traj.max() <= 36
        # 3.6 px per frame (0.1 of the 36-px box), up to truncation
        step = np.hypot(*np.diff(traj, axis=0).T)
        inside = (traj[1:] > 0).all(1) & (traj[1:] < 36).all(1) & \
            (traj[:-1] > 0).all(1) & (traj[:-1] < 36).all(1)
        assert (step[inside] <= 3.6 + math.sqrt(2) + 1e-9).all()
        assert (step[inside] >= 3.6 - math.sqrt(2) - 1e-9).all()


def test_generated_sequence_is_max_of_pasted_digits():
    src = GlyphDigitSource('train')
    frames, info = generate_moving_mnist_sequence(src, 5, return_info=True)
    assert frames.dtype == np.uint8 and frames.shape == (20, 64, 64)
    ref = np.zeros_like(frames)
    for idx, corners in zip(info['digit_idx'], info['corners']):
        for t, (top, left) in enumerate(corners):
            layer = np.zeros((64, 64), np.uint8)
            layer[top:top + 28, left:left + 28] = src.image(idx)
            ref[t] = np.maximum(ref[t], layer)
    np.testing.assert_array_equal(frames, ref)
    # draw order: digit index, y, x, theta per digit
    rng = np.random.default_rng([2021, 0, 5])
    idx0 = int(rng.integers(60000))
    y, x, th = rng.random(), rng.random(), rng.random() * 2 * math.pi
    assert info['digit_idx'][0] == idx0
    np.testing.assert_array_equal(info['corners'][0],
                                  moving_mnist_trajectory(y, x, th))


def test_generated_dataset_deterministic(mnist_root):
    a = MovingMNISTDataset(data_root=str(mnist_root), num_samples=6)
    b = MovingMNISTDataset(data_root=str(mnist_root), num_samples=6)
    assert len(a) == 6
    s = a[2]
    assert s['frames'].shape == (20, 64, 64, 1)
    assert s['frames'].dtype == np.uint8
    np.testing.assert_array_equal(s['frames'], b[2]['frames'])
    assert not np.array_equal(a[2]['frames'], a[3]['frames'])
    assert a.metainfo['mode'] == 'generated'
    assert a.metainfo['protocol'] == 'moving-mnist'
    assert len(MovingMNISTDataset(digit_source='glyphs')) == 10000
    test = MovingMNISTDataset(
        data_root=str(mnist_root), split='test', num_samples=3)
    assert len(test.digit_source) == 6  # t10k digits for test sequences
    rs = MovingMNISTDataset(
        digit_source='glyphs', num_samples=3, resample_each_epoch=True)
    f0 = rs[0]['frames']
    rs.set_epoch(2)
    assert not np.array_equal(rs[0]['frames'], f0)


@pytest.fixture
def npy_file(tmp_path):
    """A tiny time-major (T, N, H, W) file like mnist_test_seq.npy."""
    rng = np.random.default_rng(3)
    arr = rng.integers(0, 256, (20, 3, 64, 64), dtype=np.uint8)
    path = tmp_path / 'mnist_test_seq.npy'
    np.save(path, arr)
    return path, arr


def test_npy_time_major(npy_file):
    path, arr = npy_file
    ds = MovingMNISTDataset(
        data_root=str(path.parent),
        ann_file=path.name,
        split='test',
        test_mode=True)
    assert len(ds) == 3 and ds.metainfo['mode'] == 'file'
    for i in range(3):
        frames = ds[i]['frames']
        assert frames.shape == (20, 64, 64, 1) and frames.dtype == np.uint8
        np.testing.assert_array_equal(frames[..., 0], arr[:, i])
    # shorter clips use the first frames; num_samples takes a prefix
    short = MovingMNISTDataset(
        ann_file=str(path), in_frames=5, out_frames=5, num_samples=2)
    assert len(short) == 2
    np.testing.assert_array_equal(short[1]['frames'][..., 0], arr[:10, 1])
    # no pixels are pickled, and no digit source is needed
    assert short.digit_source is None
    short[0]
    blob = pickle.dumps(short)
    assert len(blob) < 20000
    clone = pickle.loads(blob)
    np.testing.assert_array_equal(clone[1]['frames'][..., 0], arr[:10, 1])


def test_npy_sample_major_layout(tmp_path, npy_file):
    _, arr = npy_file
    path = tmp_path / 'nthw.npy'
    np.save(path, np.ascontiguousarray(arr.transpose(1, 0, 2, 3)))
    ds = MovingMNISTDataset(ann_file=str(path), npy_layout='NTHW')
    np.testing.assert_array_equal(ds[2]['frames'][..., 0], arr[:, 2])


def test_npy_errors(tmp_path):
    bad = tmp_path / 'bad_shape.npy'
    np.save(bad, np.zeros((20, 2, 32, 32), np.uint8))
    with pytest.raises(ValueError) as e:
        MovingMNISTDataset(ann_file=str(bad))
    assert str(bad) in str(e.value)
    assert '(20, 10000, 64, 64)' in str(e.value)
    bad_dtype = tmp_path / 'float.npy'
    np.save(bad_dtype, np.zeros((20, 2, 64, 64), np.float32))
    with pytest.raises(ValueError, match='dtype float32'):
        MovingMNISTDataset(ann_file=str(bad_dtype))
    too_short = tmp_path / 'short.npy'
    np.save(too_short, np.zeros((8, 2, 64, 64), np.uint8))
    with pytest.raises(ValueError, match='8 frames, 20 needed'):
        MovingMNISTDataset(ann_file=str(too_short))
    sample_major = tmp_path / 'nthw.npy'
    np.save(sample_major, np.zeros((30, 20, 64, 64), np.uint8))
    with pytest.raises(ValueError, match="npy_layout='NTHW'"):
        MovingMNISTDataset(ann_file=str(sample_major))
    with pytest.raises(FileNotFoundError, match='missing.npy'):
        MovingMNISTDataset(ann_file=str(tmp_path / 'missing.npy'))
    not_npy = tmp_path / 'text.npy'
    not_npy.write_text('hello')
    with pytest.raises(ValueError, match='text.npy'):
        MovingMNISTDataset(ann_file=str(not_npy))
    good = tmp_path / 'good.npy'
    np.save(good, np.zeros((20, 2, 64, 64), np.uint8))
    with pytest.raises(ValueError, match='holds 2 sequences'):
        MovingMNISTDataset(ann_file=str(good), num_samples=5)
