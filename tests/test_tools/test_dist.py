# Copyright (c) mmvp contributors. All rights reserved.
"""Two-process CPU runs (gloo) through tools/dist_train.sh and
tools/dist_test.sh; the distributed test must match tools/test.py, and
both tools free their DDP wrapper and destroy the process group before
the interpreter exits."""
import json
import socket

import pytest
from tools_helpers import assert_ok, run_tool, unique_name, write_tiny_config

from mmvp.utils import safe_load

# Imported by every rank (custom_imports): reports at exit whether the
# process group is still alive. A group left for interpreter finalisation
# can abort a finished gloo job ('terminate called without an active
# exception').
EXIT_PROBE = '''\
import atexit
import gc

import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


@atexit.register
def _report():
    state = 'alive' if dist.is_initialized() else 'gone'
    print(f'process group at exit: {state}', flush=True)
    # a DDP wrapper left to interpreter finalisation keeps its group's
    # C++ object (and gloo's threads) alive until then
    ddp = sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects())
    print(f'DDP wrappers at exit: {ddp}', flush=True)
'''

LEAF = '''\
_base_ = [{base!r}]
custom_imports = dict(imports=['exit_probe'])
'''


def _probe_config(root):
    (root / 'exit_probe.py').write_text(EXIT_PROBE)
    cfg = root / 'exit_probe_cfg.py'
    cfg.write_text(LEAF.format(base=str(write_tiny_config(root))))
    return cfg


def _assert_group_destroyed(log):
    assert log.count('process group at exit: gone') == 2, log[-3000:]
    assert 'process group at exit: alive' not in log
    assert log.count('DDP wrappers at exit: 0') == 2, log[-3000:]


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_dist_train_and_test_match_single_process(tmp_path, monkeypatch):
    cfg = _probe_config(tmp_path)
    work = tmp_path / 'work'
    monkeypatch.setenv('PYTHONPATH', str(tmp_path))
    monkeypatch.setenv('PORT', str(_free_port()))
    proc = run_tool([
        'dist_train.sh', cfg, 2, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=10',
        f'experiment_name={unique_name("ddp")}'
    ], tmp_path)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'Distributed training: True' in log
    _assert_group_destroyed(log)
    ckpt = safe_load(work / 'iter_2.pth')
    assert ckpt['meta']['iter'] == 2
    # CPU DDP needs device_ids=None (set by the tools without CUDA)
    assert 'device_ids=None' in (work / 'exit_probe_cfg.py').read_text()

    # 5 test clips over 2 processes: padded by the sampler, then truncated
    dist_out = tmp_path / 'dist.json'
    monkeypatch.setenv('PORT', str(_free_port()))
    proc = run_tool([
        'dist_test.sh', cfg, work / 'iter_2.pth', 2, '--work-dir', work,
        '--out', dist_out, '--cfg-options',
        f'experiment_name={unique_name("ddp_test")}'
    ], tmp_path)
    assert_ok(proc)
    _assert_group_destroyed(proc.stdout + proc.stderr)
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
