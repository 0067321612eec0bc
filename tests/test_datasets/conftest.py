# Copyright (c) mmvp contributors. All rights reserved.
"""Tiny MNIST IDX fixtures written in the test's tmp folder."""
import gzip
import struct

import numpy as np
import pytest

from mmvp.datasets import GlyphDigitSource


def write_idx(path, array, magic=None, compress=True):
    """Write ``array`` (uint8) as an IDX file (gzip if ``compress``)."""
    array = np.asarray(array, np.uint8)
    if magic is None:
        magic = 0x0800 | array.ndim
    data = struct.pack('>I', magic)
    data += b''.join(struct.pack('>I', d) for d in array.shape)
    data += array.tobytes()
    opener = gzip.open if compress else open
    with opener(str(path), 'wb') as f:
        f.write(data)
    return path


def make_mnist_root(root, num_train=12, num_test=6, compress=True):
    """A fake MNIST folder: glyph digits saved as IDX files."""
    root.mkdir(parents=True, exist_ok=True)
    ext = '.gz' if compress else ''
    for split, n, prefix in (('train', num_train, 'train'), ('test', num_test,
                                                             't10k')):
        src = GlyphDigitSource(split)
        images = np.stack([src.image(i) for i in range(n)])
        labels = np.array([src.label(i) for i in range(n)], np.uint8)
        write_idx(root / f'{prefix}-images-idx3-ubyte{ext}', images)
        write_idx(root / f'{prefix}-labels-idx1-ubyte{ext}', labels)
    return root


@pytest.fixture
def mnist_root(tmp_path):
    return make_mnist_root(tmp_path / 'mnist')


@pytest.fixture
def idx_writer():
    """The :func:`write_idx` helper."""
    return write_idx


@pytest.fixture
def mnist_root_factory():
    """The :func:`make_mnist_root` helper."""
    return make_mnist_root
