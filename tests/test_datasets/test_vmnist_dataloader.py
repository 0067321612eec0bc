# Copyright (c) mmvp contributors. All rights reserved.
"""Generation does not depend on worker processes or their order."""
import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader

from mmvp.datasets import MovingMNISTDataset, VMNISTDataset


def _batches(dataset, num_workers):
    loader = DataLoader(
        dataset,
        batch_size=3,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    return [(torch.stack(b['inputs']),
             [d.metainfo['sample_idx'] for d in b['data_samples']])
            for b in loader]


def test_workers_give_identical_batches():
    ds = VMNISTDataset(
        digit_source='glyphs',
        split='test',
        num_samples=8,
        pipeline=[dict(type='PackVideoPredInputs')])
    serial = _batches(ds, 0)
    parallel = _batches(ds, 2)
    assert len(serial) == len(parallel) == 3
    for (a, ia), (b, ib) in zip(serial, parallel):
        assert ia == ib
        assert a.dtype == torch.uint8 and a.shape[1:] == (20, 1, 64, 64)
        assert torch.equal(a, b)


def test_workers_mnist_source(mnist_root):
    ds = MovingMNISTDataset(
        data_root=str(mnist_root),
        num_samples=4,
        pipeline=[dict(type='PackVideoPredInputs')])
    for (a, _), (b, _) in zip(_batches(ds, 0), _batches(ds, 2)):
        assert torch.equal(a, b)
