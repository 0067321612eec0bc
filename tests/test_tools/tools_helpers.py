# Copyright (c) mmvp contributors. All rights reserved.
"""Helpers for the command-line tool tests: a tiny variant of the demo
config and a subprocess runner (imported by the test modules here)."""
import importlib.util
import os
import os.path as osp
import re
import subprocess
import sys
import uuid

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO_CONFIG = osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist_demo.py')

# The demo config shrunk to seconds on CPU: 3 -> 3 frames, 8 channels,
# 16 training clips, 4 validation and 5 test clips (an odd count, so a
# 2-process test pads and truncates), 4 iterations with validation and a
# checkpoint every 2, at the demo's base learning rate (no decay).
TINY_CONFIG = """\
_base_ = [{base!r}]
_clip = dict(in_frames=3, out_frames=3)
_loader = dict(batch_size=2, num_workers=0, persistent_workers=False)
model = dict(
    in_frames=3,
    out_frames=3,
    backbone=dict(hidden_channels={hidden}),
    sampling=dict(rate=0.25, stop_iter=4))
train_dataloader = dict(
    **_loader,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(num_samples=16, **_clip))
val_dataloader = dict(**_loader, dataset=dict(num_samples=4, **_clip))
test_dataloader = dict(**_loader, dataset=dict(num_samples=5, **_clip))
train_cfg = dict(max_iters=4, val_interval=2)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
"""


def write_tiny_config(directory, name='tiny_demo.py', hidden=8):
    """Write the tiny demo variant into ``directory``; return its path."""
    path = osp.join(str(directory), name)
    with open(path, 'w') as f:
        f.write(TINY_CONFIG.format(base=DEMO_CONFIG, hidden=hidden))
    return path


def tool_env():
    """Environment of the tool subprocesses: the repository importable,
    CPU only, one OpenMP thread per process (two threads competing with a
    busy core were measured 100x slower on 2-core machines)."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO, env.get('PYTHONPATH', '')) if p)
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['OMP_NUM_THREADS'] = '1'
    env['MKL_NUM_THREADS'] = '1'
    env['MPLBACKEND'] = 'Agg'
    # the interpreter running pytest is the one the shell scripts find
    env['PATH'] = os.pathsep.join(
        [osp.dirname(sys.executable),
         env.get('PATH', '')])
    return env


def run_tool(args, cwd, timeout=300):
    """Run ``tools/<args[0]>`` with the test interpreter (or bash for .sh).

    Returns:
        subprocess.CompletedProcess: with ``stdout`` and ``stderr`` text.
    """
    script = osp.join(REPO, 'tools', args[0])
    cmd = (['bash', script] if script.endswith('.sh') else
           [sys.executable, script]) + [str(a) for a in args[1:]]
    return subprocess.run(
        cmd,
        cwd=str(cwd),
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=timeout)


def unique_name(prefix):
    """A unique experiment name (two Runners created in the same second
    would otherwise share one, dependency_notes.md#mmengine)."""
    return f'{prefix}_{uuid.uuid4().hex[:8]}'


def assert_ok(proc):
    assert proc.returncode == 0, (
        f'exit code {proc.returncode}\n--- stdout (tail) ---\n'
        f'{proc.stdout[-3000:]}\n--- stderr (tail) ---\n'
        f'{proc.stderr[-6000:]}')


def last_error(proc):
    """The exception Python printed last on stderr (its first line and
    any continuation lines)."""
    assert proc.returncode != 0, 'expected the tool to fail'
    lines = proc.stderr.rstrip().splitlines()
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r'[A-Za-z_][\w.]*(Error|Exception)\b', lines[i]):
            return '\n'.join(lines[i:])
    return lines[-1] if lines else ''


def save_model_checkpoint(cfg_path, out, cfg_options=None, meta=None):
    """Build the model of a config in this process and save an
    MMEngine-style checkpoint ``{'meta', 'state_dict'}`` (no training)."""
    import torch
    from mmengine.config import Config

    from mmvp.registry import MODELS
    from mmvp.utils import register_all_modules

    register_all_modules()
    cfg = Config.fromfile(str(cfg_path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save({
        'meta': meta or {},
        'state_dict': model.state_dict()
    }, str(out))
    return out


def load_tool(relpath: str, name: str):
    """Import the script ``REPO/relpath`` as module ``name`` (tools are not
    a package), to call its functions in-process."""
    spec = importlib.util.spec_from_file_location(name,
                                                  osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
