# Copyright (c) mmvp contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmvp.datasets.dbz_encoding import dbz_to_pixel, pixel_to_dbz


@pytest.mark.parametrize('level,pixel', [(20, 10), (30, 30), (40, 50),
                                         (50, 70)])
def test_motionrnn_thresholds_in_uint8(level, pixel):
    # dataset_protocols.md#dbz-encodings: an event at L dBZ is uint8
    # p >= 2L - 30
    at = np.array([pixel / 255 + 1e-7])
    below = np.array([(pixel - 1) / 255 + 1e-7])
    assert pixel_to_dbz(at, 'motionrnn')[0] >= level
    assert pixel_to_dbz(below, 'motionrnn')[0] < level
    # truncation as in np.uint8(x * 255)
    assert pixel_to_dbz(np.array([(pixel + 0.9) / 255]),
                        'motionrnn')[0] == pixel / 2 + 15


def test_hko_round_trip_and_torch():
    dbz = np.array([30., 40., 50.])
    x = dbz_to_pixel(dbz, 'hko')
    np.testing.assert_allclose(x, [0.5714286, 0.7142857, 0.8571429], atol=1e-6)
    np.testing.assert_allclose(pixel_to_dbz(x, 'hko'), dbz)
    t = pixel_to_dbz(torch.tensor(x), 'hko')
    assert torch.allclose(t, torch.tensor(dbz, dtype=torch.float32))


def test_unknown_encoding():
    with pytest.raises(ValueError, match='unknown dBZ encoding'):
        pixel_to_dbz(np.zeros(1), 'sevir')
