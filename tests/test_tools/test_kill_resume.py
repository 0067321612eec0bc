# Copyright (c) mmvp contributors. All rights reserved.
"""SIGKILL a training run at seeded random moments, resume it from its
last checkpoint (twice), and compare with an uninterrupted run: the final
weights and optimizer state are bitwise equal.

Every step draws random numbers: a data transform uses numpy, Python's
``random`` and torch (``num_workers=0``: the main process's generators),
the model starts each rollout from ``xavier_normal`` states (torch),
scheduled sampling is random, and validation runs in between."""
import os
import random
import signal
import subprocess
import sys
import time

import torch
from tools_helpers import REPO, tool_env, unique_name, write_tiny_config

from mmvp.utils import safe_load

MAX_ITERS = 48
INTERVAL = 4  # iterations between checkpoints
SEED = 20240611  # seeds the kill moments

PROBE = '''\
import random

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmvp.registry import TRANSFORMS


@TRANSFORMS.register_module()
class KillTestJitter(BaseTransform):
    """Brighten a clip by a random amount from three generators."""

    def transform(self, results):
        shift = (np.random.randint(0, 6) + random.randint(0, 5) +
                 int(torch.randint(0, 6, ())))
        frames = results['frames'].astype(np.int16) + shift
        results['frames'] = np.clip(frames, 0, 255).astype(np.uint8)
        return results
'''

LEAF = '''\
_base_ = [{base!r}]
custom_imports = dict(imports=['kill_probe'], allow_failed_imports=False)
model = dict(
    init_state='xavier_normal', sampling=dict(rate=0.01, stop_iter=100))
train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='KillTestJitter'),
        dict(type='PackVideoPredInputs')
    ]))
train_cfg = dict(max_iters={iters}, val_interval=8)
default_hooks = dict(
    logger=dict(interval=8),
    checkpoint=dict(interval={interval}, max_keep_ckpts=2))
'''


def _env(root):
    env = tool_env()
    env['PYTHONPATH'] = os.pathsep.join([str(root), env['PYTHONPATH']])
    return env


def _start(cfg, work, root, resume=False, tag=''):
    cmd = [
        sys.executable,
        os.path.join(REPO, 'tools', 'train.py'), cfg, '--work-dir',
        str(work)
    ]
    if resume:
        cmd.append('--resume')
    cmd += ['--cfg-options', f'experiment_name={unique_name(tag)}']
    log = open(os.path.join(str(root), f'{tag}.log'), 'w')
    proc = subprocess.Popen(
        cmd,
        cwd=str(root),
        env=_env(root),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True)
    proc.log_file = log
    return proc


def _finish(proc, timeout=300):
    try:
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.log_file.close()
    return proc.returncode


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _wait_for_checkpoints(proc, marker, count, before, deadline):
    """Wait until ``last_checkpoint`` changed ``count`` times from
    ``before``; return its content."""
    seen = before
    while count and proc.poll() is None and time.monotonic() < deadline:
        now = _read(marker)
        if now and now != seen:
            seen, count = now, count - 1
        else:
            time.sleep(0.01)
    return seen


def _kill_at_random_moment(proc, work, fraction, timeout=240):
    """SIGKILL the process group at ``fraction`` of the training time it
    has left, estimated from the pace between two checkpoints (so the
    moment is random but always inside training, whatever the machine's
    speed). Returns the process's exit code."""
    marker = os.path.join(str(work), 'last_checkpoint')
    deadline = time.monotonic() + timeout
    before = _read(marker)
    first = _wait_for_checkpoints(proc, marker, 1, before, deadline)
    start = time.monotonic()
    second = _wait_for_checkpoints(proc, marker, 1, first, deadline)
    pace = time.monotonic() - start  # seconds per checkpoint interval
    done = int(second.rsplit('_', 1)[-1].split('.')[0]) if second else 0
    left = max(0, MAX_ITERS - done) / INTERVAL * pace
    time.sleep(fraction * left)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    return _finish(proc)


def _assert_resumable(work):
    """``last_checkpoint`` names a complete checkpoint."""
    last = _read(os.path.join(str(work), 'last_checkpoint'))
    assert last and os.path.isfile(last), last
    ckpt = safe_load(last)
    assert 'rng_state' in ckpt and 'optimizer' in ckpt
    return ckpt['meta']['iter']


def _tensors(tree, prefix=''):
    if isinstance(tree, torch.Tensor):
        yield prefix, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from _tensors(value, f'{prefix}.{key}')
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            yield from _tensors(value, f'{prefix}[{i}]')


def test_sigkill_and_resume_give_the_uninterrupted_weights(tmp_path):
    (tmp_path / 'kill_probe.py').write_text(PROBE)
    base = write_tiny_config(tmp_path)
    cfg = tmp_path / 'kill_cfg.py'
    cfg.write_text(
        LEAF.format(base=str(base), iters=MAX_ITERS, interval=INTERVAL))
    rng = random.Random(SEED)
    fractions = [rng.uniform(0.05, 0.9) for _ in range(2)]

    # uninterrupted run; the first killed run starts at the same time
    straight = _start(cfg, tmp_path / 'straight', tmp_path, tag='straight')
    work = tmp_path / 'killed'
    first = _start(cfg, work, tmp_path, tag='killed_1')
    assert _kill_at_random_moment(first, work, fractions[0]) == -signal.SIGKILL
    it1 = _assert_resumable(work)

    second = _start(cfg, work, tmp_path, resume=True, tag='killed_2')
    code = _kill_at_random_moment(second, work, fractions[1])
    it2 = _assert_resumable(work)
    print(f'killed at {fractions[0]:.0%} of the time left (resumable from '
          f'iter {it1}), then at {fractions[1]:.0%} (iter {it2}, exit code '
          f'{code})')
    assert it1 < MAX_ITERS

    last = _start(cfg, work, tmp_path, resume=True, tag='resumed')
    assert _finish(last) == 0, (tmp_path / 'resumed.log').read_text()[-3000:]
    assert _finish(straight) == 0
    log = (tmp_path / 'resumed.log').read_text()
    assert f'resumed epoch: 0, iter: {it2}' in log

    a = safe_load(tmp_path / 'straight' / f'iter_{MAX_ITERS}.pth')
    b = safe_load(work / f'iter_{MAX_ITERS}.pth')
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key in a['state_dict']:
        # tolerance: none (same machine, same thread count)
        assert torch.equal(a['state_dict'][key], b['state_dict'][key]), key
    opt_a = dict(_tensors(a['optimizer']))
    opt_b = dict(_tensors(b['optimizer']))
    assert opt_a.keys() == opt_b.keys() and opt_a
    for key in opt_a:
        assert torch.equal(opt_a[key], opt_b[key]), key
    # no temporary checkpoint file is left over where a later save landed
    leftovers = [n for n in os.listdir(work) if n.endswith('.tmp')]
    assert all(f'iter_{MAX_ITERS}' not in n for n in leftovers), leftovers
