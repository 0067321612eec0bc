# Copyright (c) mmvp contributors. All rights reserved.
"""Aggregation across ranks equals the single-process value."""
import os
import pickle
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from mmvp.evaluation import MAEMetric, MSEMetric, PSNRMetric, SSIMMetric

NUM_SAMPLES = 5
WORLD_SIZE = 2


def _samples():
    """5 sequences of 3 output frames with different errors per frame."""
    gen = torch.Generator().manual_seed(0)
    out = []
    for i in range(NUM_SAMPLES):
        gt = torch.rand(3, 3, 8, 8, generator=gen)
        noise = torch.randn(3, 3, 8, 8, generator=gen)
        scale = torch.tensor([0.02, 0.05, 0.1]).view(3, 1, 1, 1) * (i + 1)
        out.append(
            dict(
                pred_frames=gt + scale * noise,
                gt_frames=gt,
                in_frames=2,
                out_frames=3,
                sample_idx=i))
    return out


def _batch(samples):
    inputs = []
    for s in samples:
        frames = torch.cat([torch.zeros(2, 3, 8, 8), s['gt_frames']])
        inputs.append((frames * 255).to(torch.uint8))
    return dict(inputs=inputs, data_samples=samples)


def _metrics():
    return [
        MSEMetric(copy_last_baseline=True, scaled_keys=True),
        MAEMetric(scaled_keys=True),
        SSIMMetric(),
        PSNRMetric()
    ]


def _rank_indices(rank):
    # mmengine DefaultSampler(shuffle=False): pad to a multiple of the world
    # size by repeating the first indices, then take every world_size-th.
    total = -(-NUM_SAMPLES // WORLD_SIZE) * WORLD_SIZE
    indices = (list(range(NUM_SAMPLES)) * 2)[:total]
    return indices[rank::WORLD_SIZE]


def _evaluate(metrics, samples, batch_size=2):
    for start in range(0, len(samples), batch_size):
        chunk = samples[start:start + batch_size]
        for metric in metrics:
            metric.process(_batch(chunk), chunk)
    out = {}
    for metric in metrics:
        out.update(metric.evaluate(NUM_SAMPLES))
    return out


def _single_process():
    return _evaluate(_metrics(), _samples())


def test_split_results_equal_single_process():
    """Ranks' per-sample results concatenated -> same numbers."""
    single = _single_process()
    samples = _samples()
    merged = {}
    for make in (lambda: MSEMetric(copy_last_baseline=True, scaled_keys=True),
                 lambda: MAEMetric(scaled_keys=True), SSIMMetric, PSNRMetric):
        parts = []
        for rank in range(WORLD_SIZE):
            metric = make()
            shard = [samples[i] for i in _rank_indices(rank)]
            metric.process(_batch(shard), shard)
            parts.append(metric.results)
        # mmengine collect_results: interleave ranks, drop the padding
        ordered = [r for pair in zip(*parts) for r in pair][:NUM_SAMPLES]
        merged.update(make().compute_metrics(ordered))
    assert set(merged) == {k.split('/', 1)[1] for k in single}
    for key, value in merged.items():
        assert value == pytest.approx(single['vp/' + key], rel=1e-12)


def _worker(rank, init_file, out_file):
    dist.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=WORLD_SIZE)
    try:
        samples = _samples()
        shard = [samples[i] for i in _rank_indices(rank)]
        result = _evaluate(_metrics(), shard)
        if rank == 0:
            with open(out_file, 'wb') as f:
                pickle.dump(result, f)
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(),
    reason='needs torch.distributed with gloo')
def test_two_process_gloo_matches_single_process(tmp_path, monkeypatch):
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', str(_free_port()))
    out_file = str(tmp_path / 'result.pkl')
    mp.spawn(
        _worker,
        args=(str(tmp_path / 'init'), out_file),
        nprocs=WORLD_SIZE,
        join=True)
    assert os.path.exists(out_file)
    with open(out_file, 'rb') as f:
        dist_result = pickle.load(f)
    single = _single_process()
    assert set(dist_result) == set(single)
    assert 'vp/mse_frame_sum_copy_last_t3' in single
    for key, value in single.items():
        assert dist_result[key] == pytest.approx(value, rel=1e-12), key
