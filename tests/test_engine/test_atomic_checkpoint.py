# Copyright (c) mmvp contributors. All rights reserved.
"""Atomic checkpoint writes: a process killed (SIGKILL) or failing while a
checkpoint or ``last_checkpoint`` is written leaves the previous files
complete, ``last_checkpoint`` names a loadable checkpoint and resuming
works. The kill lands inside the save: a thread of the training process
kills it as soon as the new file has bytes on disk. The same kill against
MMEngine's own Runner and CheckpointHook shows what is prevented."""
import os
import os.path as osp
import signal
import subprocess
import sys
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmvp.engine import NonFiniteWeightsError, SafeCheckpointRunner
from mmvp.registry import MODELS
from mmvp.utils import (UnsafeCheckpointError, atomic_write_bytes,
                        register_all_modules, safe_load)

register_all_modules()

TESTS = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(TESTS, 'test_tools'))
import tools_helpers as helpers  # noqa: E402

# ---------------------------------------------------------------------------
# atomic_io: kill a slow writer half-way
SLOW_WRITER = '''\
import sys, time
from mmvp.utils import atomic_write

def write(f):
    f.write(b'new' * 1000)
    f.flush()
    print('half', flush=True)
    time.sleep(60)
    f.write(b'rest')

atomic_write(sys.argv[1], write)
'''


def test_killed_writer_leaves_the_old_file(tmp_path):
    target = tmp_path / 'last_checkpoint'
    target.write_text('old content')
    proc = subprocess.Popen([sys.executable, '-c', SLOW_WRITER,
                             str(target)],
                            env=helpers.tool_env(),
                            stdout=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout.readline().strip() == 'half'
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert target.read_text() == 'old content'
    temps = [n for n in os.listdir(tmp_path) if n.endswith('.tmp')]
    assert len(temps) == 1 and temps[0].startswith('.last_checkpoint.')
    assert os.path.getsize(tmp_path / temps[0]) == 3000
    # the next write of the same file replaces it and sweeps the leftover
    atomic_write_bytes(target, b'newer')
    assert target.read_bytes() == b'newer'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_failing_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / 'ckpt.pth'
    atomic_write_bytes(target, b'good')

    def fail(f):
        f.write(b'partial')
        raise OSError('disk full')

    from mmvp.utils import atomic_write
    with pytest.raises(OSError, match='disk full'):
        atomic_write(target, fail)
    assert target.read_bytes() == b'good'
    assert os.listdir(tmp_path) == ['ckpt.pth']


# ---------------------------------------------------------------------------
# in-process runners on a toy model
class _Data(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx)))


@MODELS.register_module()
class AtomicToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(torch.stack(inputs))
        return dict(loss=(out**2).mean()) if mode == 'loss' else out


def _runner(work_dir, runner_cls=SafeCheckpointRunner, max_iters=3, **ckpt):
    ckpt_cfg = dict(
        type='SafeCheckpointHook',
        by_epoch=False,
        interval=1,
        max_keep_ckpts=1)
    ckpt_cfg.update(ckpt)
    return runner_cls(
        model=dict(type='AtomicToyModel'),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_Data(),
            batch_size=2,
            sampler=dict(type='InfiniteSampler'),
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=ckpt_cfg),
        default_scope='mmvp',
        experiment_name=f'atomic_{uuid.uuid4().hex[:8]}')


def _last(work_dir):
    return (work_dir / 'last_checkpoint').read_text()


class _FailAt(Hook):
    """A hook that breaks the save of one checkpoint."""

    def __init__(self, step):
        self.step = step

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['iter'] == self.step:
            raise OSError('disk full while saving')


@pytest.mark.parametrize('runner_cls', [SafeCheckpointRunner, Runner])
def test_failed_save_keeps_last_checkpoint_valid(tmp_path, runner_cls):
    """max_keep_ckpts=1: the outdated checkpoint is deleted only after the
    new one is complete (also with MMEngine's Runner, which the hook
    makes write atomically)."""
    runner = _runner(tmp_path, runner_cls)
    runner.register_hook(_FailAt(3))
    with pytest.raises(OSError, match='disk full'):
        runner.train()
    assert _last(tmp_path) == str(tmp_path / 'iter_2.pth')
    assert safe_load(tmp_path / 'iter_2.pth')['meta']['iter'] == 2
    names = sorted(os.listdir(tmp_path))
    assert 'iter_3.pth' not in names and 'iter_1.pth' not in names
    assert not [n for n in names if n.endswith('.tmp')]


def test_non_finite_weights_are_never_saved(tmp_path):
    runner = _runner(tmp_path, max_iters=2)
    runner.train()
    assert _last(tmp_path) == str(tmp_path / 'iter_2.pth')
    with torch.no_grad():
        runner.model.fc.weight[0, 1] = float('nan')
    with pytest.raises(NonFiniteWeightsError) as info:
        runner.save_checkpoint(str(tmp_path), 'iter_3.pth', by_epoch=False)
    msg = str(info.value)
    assert 'fc.weight' in msg and 'iter_3.pth' in msg
    assert 'iter_2.pth' in msg  # names the last good checkpoint
    assert sorted(
        os.listdir(tmp_path))[-2:] == ['iter_2.pth', 'last_checkpoint']


def test_runner_loads_with_the_allow_list(tmp_path):
    """load_from / resume read local files with safe_load."""

    class _Evil:

        def __reduce__(self):
            return os.system, (f'touch {tmp_path / "pwned"}', )

    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _Evil()}, evil)
    runner = _runner(tmp_path / 'work')
    with pytest.raises(UnsafeCheckpointError, match='evil.pth'):
        runner.load_checkpoint(str(evil))
    assert not (tmp_path / 'pwned').exists()


# ---------------------------------------------------------------------------
# tools/train.py killed inside a checkpoint save
PROBE = '''\
import glob
import os
import signal
import threading
import time

import torch
from mmengine.hooks import Hook

from mmvp.registry import HOOKS


@HOOKS.register_module()
class KillDuringSaveHook(Hook):
    """Make the checkpoint of iteration ``at_iter`` large and SIGKILL the
    process as soon as ``pattern`` (its file) has bytes on disk."""

    def __init__(self, at_iter=-1, pattern='.iter_{}.pth.*.tmp'):
        self.at_iter = at_iter
        self.pattern = pattern

    def before_save_checkpoint(self, runner, checkpoint):
        step = checkpoint['meta']['iter']
        if step != self.at_iter:
            return
        checkpoint['ballast'] = torch.ones(32 * 2**20)  # 128 MB
        target = os.path.join(runner.work_dir, self.pattern.format(step))

        def watch():
            while True:
                for path in glob.glob(target):
                    try:
                        if os.path.getsize(path) > 0:
                            os.kill(os.getpid(), signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.0002)

        threading.Thread(target=watch, daemon=True).start()
'''


def _train(cfg, work, root, options, tag):
    env = helpers.tool_env()
    env['PYTHONPATH'] = os.pathsep.join([str(root), env['PYTHONPATH']])
    cmd = [
        sys.executable,
        osp.join(helpers.REPO, 'tools', 'train.py'), cfg, '--work-dir',
        str(work), '--cfg-options',
        f'experiment_name={helpers.unique_name(tag)}'
    ] + options
    return subprocess.run(
        cmd,
        cwd=str(root),
        env=env,
        capture_output=True,
        text=True,
        timeout=300)


@pytest.fixture(scope='module')
def probe_cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp('kill_save')
    (root / 'save_probe.py').write_text(PROBE)
    base = helpers.write_tiny_config(root)
    cfg = root / 'save_cfg.py'
    cfg.write_text(f'_base_ = [{str(base)!r}]\n'
                   "custom_imports = dict(imports=['save_probe'])\n"
                   "custom_hooks = [dict(type='KillDuringSaveHook')]\n"
                   'train_cfg = dict(max_iters=8, val_interval=100)\n'
                   'default_hooks = dict(checkpoint=dict(interval=2, '
                   'max_keep_ckpts=1))\n')
    return root, cfg


def test_sigkill_inside_a_save_then_resume(probe_cfg):
    root, cfg = probe_cfg
    work = root / 'safe'
    proc = _train(cfg, work, root, ['custom_hooks.0.at_iter=6'],
                  'killed_in_save')
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    names = os.listdir(work)
    # killed while the temporary file of iter_6 was being written
    assert [n for n in names if n.startswith('.iter_6.pth.')]
    assert 'iter_6.pth' not in names
    assert _last(work) == str(work / 'iter_4.pth')
    assert safe_load(work / 'iter_4.pth')['meta']['iter'] == 4

    proc = _train(cfg, work, root, ['--resume'], 'resume_after_kill')
    helpers.assert_ok(proc)
    assert 'resumed epoch: 0, iter: 4' in proc.stdout + proc.stderr
    assert _last(work) == str(work / 'iter_8.pth')
    assert safe_load(work / 'iter_8.pth')['meta']['iter'] == 8
    names = os.listdir(work)
    assert 'iter_4.pth' not in names and 'iter_6.pth' not in names
    assert not [n for n in names if n.endswith('.tmp')]


def test_same_kill_breaks_mmengine_checkpoints(probe_cfg):
    """Control: MMEngine's Runner and CheckpointHook delete iter_4 before
    writing iter_6 in place, so the kill leaves nothing to resume from."""
    root, cfg = probe_cfg
    work = root / 'plain'
    proc = _train(cfg, work, root, [
        'runner_type=Runner', 'default_hooks.checkpoint.type=CheckpointHook',
        'custom_hooks.0.at_iter=6', 'custom_hooks.0.pattern=iter_{}.pth'
    ], 'plain_killed_in_save')
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    assert not (work / 'iter_4.pth').exists()
    assert _last(work) == str(work / 'iter_4.pth')  # names a deleted file
    with pytest.raises(Exception):
        safe_load(work / 'iter_6.pth')  # truncated
