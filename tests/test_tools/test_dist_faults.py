# Copyright (c) mmvp contributors. All rights reserved.
"""Two-process CPU (gloo) runs through tools/dist_train.sh with injected
faults: a rank that raises, or one that hangs, ends the whole job with an
error instead of leaving the other rank waiting forever. The hang is
caught by the collective timeout ``env_cfg.dist_cfg.timeout``."""
import os
import socket
import subprocess

from tools_helpers import REPO, tool_env, unique_name, write_tiny_config

# Fault injection shared with the other test_dist_faults_* modules.
PROBE = '''\
import time

import torch
import torch.nn.functional as F
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.logging import MessageHub

from mmvp.registry import HOOKS, MODELS


@HOOKS.register_module()
class FaultHook(Hook):
    """At 1-based iteration ``at_iter`` on rank ``rank``: ``raise`` an
    error or ``hang`` (sleep for an hour)."""

    def __init__(self, at_iter=-1, rank=1, kind='raise'):
        self.at_iter, self.rank, self.kind = at_iter, rank, kind

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 != self.at_iter or get_rank() != self.rank:
            return
        if self.kind == 'hang':
            print(f'rank {get_rank()} hangs', flush=True)
            time.sleep(3600)
        raise RuntimeError(f'injected fault on rank {get_rank()} at '
                           f'iteration {runner.iter + 1}')


@MODELS.register_module()
class NanLossProbe(torch.nn.Module):
    """MSE, but NaN at 1-based iteration ``at_iter`` on rank ``rank``."""

    def __init__(self, at_iter=-1, rank=1):
        super().__init__()
        self.at_iter, self.rank = at_iter, rank

    def forward(self, pred, target):
        loss = F.mse_loss(pred, target)
        itr = MessageHub.get_current_instance().get_info('iter', 0) + 1
        if itr == self.at_iter and get_rank() == self.rank:
            loss = loss * float('nan')
        return loss
'''

LEAF = '''\
_base_ = [{base!r}]
custom_imports = dict(imports=['dist_probe'])
custom_hooks = [dict(type='FaultHook')]
# the probe replaces the demo's loss (MSE + L1) rather than merging into it
model = dict(loss=dict(_delete_=True, type='NanLossProbe'))
train_cfg = dict(max_iters=6, val_interval=100)
default_hooks = dict(checkpoint=dict(interval=2))
'''


def _free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def write_probe_config(root):
    """The tiny config with the fault probes (off until options set)."""
    (root / 'dist_probe.py').write_text(PROBE)
    base = write_tiny_config(root)
    cfg = root / 'dist_probe_cfg.py'
    cfg.write_text(LEAF.format(base=str(base)))
    return cfg


def dist_train(cfg, work, root, options, tag, nproc=2, timeout=240):
    """``tools/dist_train.sh`` with the probe module importable.

    ``timeout`` only guards the test against a hang; a job that reaches
    it is a failure of the behaviour under test.
    """
    env = tool_env()
    env['PYTHONPATH'] = os.pathsep.join([str(root), env['PYTHONPATH']])
    env['PORT'] = str(_free_port())
    cmd = [
        'bash',
        os.path.join(REPO, 'tools', 'dist_train.sh'),
        str(cfg),
        str(nproc), '--work-dir',
        str(work), '--cfg-options', f'experiment_name={unique_name(tag)}'
    ] + list(options)
    return subprocess.run(
        cmd,
        cwd=str(root),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)


def test_a_crashing_rank_fails_the_job(tmp_path):
    cfg = write_probe_config(tmp_path)
    proc = dist_train(
        cfg, tmp_path / 'work', tmp_path,
        ['custom_hooks.0.at_iter=3', 'custom_hooks.0.kind=raise'], 'crash')
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'injected fault on rank 1 at iteration 3' in out
    assert 'Iter(train) [6/6]' not in out


def test_a_hanging_rank_times_out(tmp_path):
    """Rank 1 stops answering; rank 0's next collective gives up after
    ``env_cfg.dist_cfg.timeout`` seconds and the job fails."""
    cfg = write_probe_config(tmp_path)
    proc = dist_train(cfg, tmp_path / 'work', tmp_path, [
        'custom_hooks.0.at_iter=3', 'custom_hooks.0.kind=hang',
        'env_cfg.dist_cfg.timeout=20'
    ], 'hang')
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'rank 1 hangs' in out
    # gloo's error names the timeout
    assert 'Timed out' in out or 'timed out' in out or 'Timeout' in out, \
        out[-3000:]
    assert 'Iter(train) [6/6]' not in out
