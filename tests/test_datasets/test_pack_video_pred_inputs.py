# Copyright (c) mmvp contributors. All rights reserved.
import numpy as np
import pytest
import torch

from mmvp.datasets import PackVideoPredInputs
from mmvp.registry import TRANSFORMS
from mmvp.structures import VideoPredDataSample


def _results(t=6, c=1):
    rng = np.random.default_rng(0)
    return dict(
        frames=rng.integers(0, 256, (t, 8, 9, c), dtype=np.uint8),
        in_frames=2,
        out_frames=t - 2,
        sample_idx=4,
        seq_idx=11,
        split='test',
        protocol='vmnist-v1',
        other='not packed')


@pytest.mark.parametrize('c', [1, 3])
def test_pack_shapes_and_types(c):
    res = _results(c=c)
    out = TRANSFORMS.build(dict(type='PackVideoPredInputs'))(dict(res))
    inputs = out['inputs']
    assert isinstance(inputs, torch.Tensor) and inputs.dtype == torch.uint8
    assert inputs.shape == (6, c, 8, 9) and inputs.is_contiguous()
    np.testing.assert_array_equal(inputs.numpy(),
                                  res['frames'].transpose(0, 3, 1, 2))
    ds = out['data_samples']
    assert isinstance(ds, VideoPredDataSample)
    assert ds.in_frames == 2 and ds.out_frames == 4
    assert ds.sample_idx == 4 and ds.seq_idx == 11
    assert ds.metainfo['protocol'] == 'vmnist-v1'
    assert 'other' not in ds.metainfo


def test_pack_grey_without_channel_and_meta_keys():
    res = _results()
    res['frames'] = res['frames'][..., 0]
    out = PackVideoPredInputs(meta_keys=('sample_idx', ))(res)
    assert out['inputs'].shape == (6, 1, 8, 9)
    # in/out lengths are always recorded
    assert set(out['data_samples'].metainfo) == {
        'sample_idx', 'in_frames', 'out_frames'
    }


def test_pack_errors():
    pack = PackVideoPredInputs()
    res = _results()
    del res['in_frames']
    with pytest.raises(KeyError, match='in_frames'):
        pack(res)
    res = _results()
    res['frames'] = res['frames'].astype(np.float32)
    with pytest.raises(TypeError, match='uint8'):
        pack(res)
    res = _results()
    res['out_frames'] = 7
    with pytest.raises(ValueError, match='in_frames \\+ out_frames = 9'):
        pack(res)
    res = _results()
    res['frames'] = res['frames'][:, 0, 0, 0]
    with pytest.raises(ValueError, match='shape'):
        pack(res)
