# Copyright (c) mmvp contributors. All rights reserved.
"""Two-process CPU runs (gloo) through tools/dist_train.sh and
tools/dist_test.sh; the distributed test must match tools/test.py."""
import json
import socket

import pytest
from tools_helpers import assert_ok, run_tool, unique_name, write_tiny_config

from mmvp.utils import safe_load


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_dist_train_and_test_match_single_process(tmp_path, monkeypatch):
    cfg = write_tiny_config(tmp_path)
    work = tmp_path / 'work'
    monkeypatch.setenv('PORT', str(_free_port()))
    proc = run_tool([
        'dist_train.sh', cfg, 2, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=10',
        f'experiment_name={unique_name("ddp")}'
    ], tmp_path)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    ckpt = safe_load(work / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2
    # CPU DDP needs device_ids=None (set by the tools without CUDA)
    assert 'device_ids=None' in (work / 'tiny_demo.py').read_text()

    # 5 test clips over 2 processes: padded by the sampler, then truncated
    dist_out = tmp_path / 'dist.json'
    monkeypatch.setenv('PORT', str(_free_port()))
    proc = run_tool([
        'dist_test.sh', cfg, work / 'iter_2.pth', 2, '--work-dir', work,
        '--out', dist_out, '--cfg-options',
        f'experiment_name={unique_name("ddp_test")}'
    ], tmp_path)
    assert_ok(proc)
    single_out = tmp_path / 'single.json'
    proc = run_tool([
        'test.py', cfg, work / 'iter_2.pth', '--work-dir', work, '--out',
        single_out, '--cfg-options',
        f'experiment_name={unique_name("single_test")}'
    ], tmp_path)
    assert_ok(proc)

    dist_metrics = json.loads(dist_out.read_text())['metrics']
    single_metrics = json.loads(single_out.read_text())['metrics']
    assert set(dist_metrics) == set(single_metrics)
    assert 'vmnist/mse_frame_sum' in single_metrics
    for key, value in single_metrics.items():
        assert dist_metrics[key] == pytest.approx(
            value, rel=1e-5, abs=1e-6), key
