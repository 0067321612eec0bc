# Copyright (c) mmvp contributors. All rights reserved.
import pickle

import numpy as np
import pytest

from mmvp.datasets import (GlyphDigitSource, MNISTDigitSource,
                           build_digit_source, read_idx)


# -- IDX reader (dataset_protocols.md#mnist-digit-files) --------------------
@pytest.mark.parametrize('compress', [True, False])
def test_read_idx_roundtrip(tmp_path, idx_writer, compress):
    images = np.arange(3 * 28 * 28, dtype=np.int64).reshape(3, 28, 28) % 256
    labels = np.array([7, 0, 9], np.uint8)
    p_img = idx_writer(tmp_path / 'img', images, compress=compress)
    p_lbl = idx_writer(tmp_path / 'lbl', labels, compress=compress)
    got = read_idx(str(p_img), 2051, (None, 28, 28))
    assert got.dtype == np.uint8 and got.shape == (3, 28, 28)
    np.testing.assert_array_equal(got, images)
    np.testing.assert_array_equal(read_idx(str(p_lbl), 2049, (3, )), labels)
    assert read_idx(str(p_img), 2051, header_only=True) == (3, 28, 28)


def test_read_idx_bad_magic_names_file_and_magic(tmp_path, idx_writer):
    path = idx_writer(
        tmp_path / 'train-images-idx3-ubyte.gz',
        np.zeros((2, 28, 28)),
        magic=0x00000801)
    with pytest.raises(ValueError) as e:
        read_idx(str(path), 2051)
    assert str(path) in str(e.value)
    assert '0x00000803' in str(e.value) and '2051' in str(e.value)
    # not an IDX file at all
    bad = tmp_path / 'junk'
    bad.write_bytes(b'hello world, not idx')
    with pytest.raises(ValueError, match='magic'):
        read_idx(str(bad), 2051)


def test_read_idx_bad_dims_and_truncation(tmp_path, idx_writer):
    path = idx_writer(tmp_path / 'img.gz', np.zeros((2, 20, 28)))
    with pytest.raises(ValueError, match=r'\(N, 28, 28\)'):
        read_idx(str(path), 2051, (None, 28, 28))
    raw = idx_writer(tmp_path / 'cut', np.zeros((4, 28, 28)), compress=False)
    data = raw.read_bytes()
    raw.write_bytes(data[:-100])
    with pytest.raises(ValueError, match='truncated'):
        read_idx(str(raw), 2051)
    with pytest.raises(FileNotFoundError, match='nope'):
        read_idx(str(tmp_path / 'nope'))


# -- MNIST source ------------------------------------------------------------
def test_mnist_source_reads_split_files(mnist_root):
    train = MNISTDigitSource(str(mnist_root), 'train')
    test = MNISTDigitSource(str(mnist_root), 'test')
    assert len(train) == 12 and len(test) == 6
    glyph_train = GlyphDigitSource('train')
    np.testing.assert_array_equal(train.image(3), glyph_train.image(3))
    assert train.label(3) == glyph_train.label(3)
    np.testing.assert_array_equal(
        test.image(2),
        GlyphDigitSource('test').image(2))
    assert train.image(0).dtype == np.uint8
    assert train.image(0).shape == (28, 28)


def test_mnist_source_raw_files(tmp_path, mnist_root_factory):
    root = mnist_root_factory(tmp_path / 'raw', compress=False)
    src = build_digit_source('mnist', str(root), 'test')
    assert len(src) == 6 and src.image(5).shape == (28, 28)


def test_mnist_source_is_lazy_and_not_pickled(mnist_root):
    src = MNISTDigitSource(str(mnist_root), 'train')
    assert src._images is None  # only the header was read
    src.image(0)
    assert src._images is not None
    clone = pickle.loads(pickle.dumps(src))
    assert clone._images is None and clone._labels is None
    np.testing.assert_array_equal(clone.image(4), src.image(4))


def test_mnist_source_missing_paths(tmp_path, mnist_root):
    missing = tmp_path / 'no_such_dir'
    with pytest.raises(FileNotFoundError) as e:
        MNISTDigitSource(str(missing), 'train')
    msg = str(e.value)
    assert str(missing) in msg
    assert 'download_mnist.py --out-dir' in msg and 'glyphs' in msg
    with pytest.raises(FileNotFoundError, match='download_mnist.py'):
        MNISTDigitSource(None, 'train')
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(FileNotFoundError) as e:
        MNISTDigitSource(str(empty), 'test')
    assert str(empty / 't10k-images-idx3-ubyte.gz') in str(e.value)
    assert 'download_mnist.py --out-dir' in str(e.value)
    # labels are needed only for labels
    (mnist_root / 't10k-labels-idx1-ubyte.gz').unlink()
    src = MNISTDigitSource(str(mnist_root), 'test')
    src.image(0)
    with pytest.raises(FileNotFoundError, match='t10k-labels-idx1-ubyte'):
        src.label(0)


def test_mnist_source_corrupt_file(mnist_root, idx_writer):
    path = mnist_root / 'train-images-idx3-ubyte.gz'
    idx_writer(path, np.zeros((3, 28, 28)), magic=0x00000901)
    with pytest.raises(ValueError) as e:
        MNISTDigitSource(str(mnist_root), 'train')
    assert str(path) in str(e.value) and '0x00000803' in str(e.value)


# -- glyph source ------------------------------------------------------------
def test_glyphs_deterministic_and_distinct():
    a, b = GlyphDigitSource('train'), GlyphDigitSource('train', cache_size=0)
    assert len(a) == 60000 and len(GlyphDigitSource('test')) == 10000
    imgs = [a.image(i) for i in range(30)]
    for i, img in enumerate(imgs):
        assert img.dtype == np.uint8 and img.shape == (28, 28)
        np.testing.assert_array_equal(img, b.image(i))
        assert a.label(i) == b.label(i)
        assert 0 <= a.label(i) <= 9
    flat = {img.tobytes() for img in imgs}
    assert len(flat) == len(imgs)  # every index is a different drawing
    test = GlyphDigitSource('test')
    assert all(not np.array_equal(a.image(i), test.image(i))
               for i in range(10))
    assert GlyphDigitSource('train', seed=1).image(0).tobytes() != \
        imgs[0].tobytes()
    with pytest.raises(IndexError):
        a.image(60000)


def test_glyphs_look_like_mnist_digits():
    src = GlyphDigitSource('train', cache_size=0)
    imgs = np.stack([src.image(i) for i in range(200)]).astype(np.float64)
    x = imgs / 255.0
    # ink mass close to MNIST (mean pixel 0.13)
    assert 0.08 < x.mean() < 0.18
    assert (x.reshape(200, -1).max(1) == 1.0).all()  # full-ink strokes
    assert (x.reshape(200, -1).mean(1) > 0.03).all()  # never empty
    # roughly centred: centre of mass near (13.5, 13.5)
    grid = np.arange(28)
    mass = x.sum((1, 2))
    cy = (x.sum(2) * grid).sum(1) / mass
    cx = (x.sum(1) * grid).sum(1) / mass
    assert np.abs(cy - 13.5).max() < 1.0 and np.abs(cx - 13.5).max() < 1.0
    # background border like MNIST (the digit fits a 20 px box)
    inner = x[:, 2:-2, 2:-2].sum()
    assert (x.sum() - inner) < 0.005 * x.sum()
    labels = [src.label(i) for i in range(200)]
    assert set(labels) == set(range(10))


def test_glyph_cache_and_pickle():
    src = GlyphDigitSource('test', cache_size=3)
    for i in range(5):
        src.image(i)
    assert len(src._cache) == 3
    clone = pickle.loads(pickle.dumps(src))
    assert len(clone._cache) == 0
    np.testing.assert_array_equal(clone.image(1), src.image(1))


def test_build_digit_source_errors(tmp_path):
    assert isinstance(
        build_digit_source('glyphs', split='test'), GlyphDigitSource)
    with pytest.raises(ValueError, match='Unknown digit_source'):
        build_digit_source('emnist')
    with pytest.raises(ValueError, match='split'):
        build_digit_source('glyphs', split='val')
    src = GlyphDigitSource()
    assert build_digit_source(src) is src
    with pytest.raises(TypeError):
        build_digit_source(3)
