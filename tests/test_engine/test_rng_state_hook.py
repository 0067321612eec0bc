# Copyright (c) mmvp contributors. All rights reserved.
"""RNGStateHook: the RNG states go into checkpoints as plain data and come
back on resume, after MMEngine's data replay and around validation, so a
split run equals an uninterrupted one bitwise. A toy model and data make
every step draw from torch, numpy and Python's ``random``."""
import os.path as osp
import random
import subprocess
import sys
import uuid

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmvp.engine import RNGStateHook, capture_rng_state, restore_rng_state
from mmvp.registry import METRICS, MODELS
from mmvp.utils import register_all_modules, safe_load

register_all_modules()


class _NoisyData(Dataset):
    """Each fetch draws from numpy, random and torch (num_workers=0: the
    main process's generators)."""

    def __len__(self):
        return 8

    def __getitem__(self, idx):
        noise = (np.random.rand() + random.random() + float(torch.rand(())))
        return dict(inputs=torch.full((4, ), float(idx) + noise))


@MODELS.register_module()
class RngToyModel(BaseModel):
    """A linear model with dropout, so the forward draws from torch."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 1)
        self.drop = nn.Dropout(0.5)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.fc(self.drop(x))
        if mode == 'loss':
            return dict(loss=(out**2).mean())
        return [dict(pred=o) for o in out]


@METRICS.register_module()
class RngToyMetric(BaseMetric):
    """Validation that consumes random numbers too (the forward's dropout
    is off in eval mode, so draw here)."""

    def process(self, data_batch, data_samples):
        self.results.append(float(torch.rand(())) + np.random.rand())

    def compute_metrics(self, results):
        return dict(score=float(np.mean(results)))


def _runner(work_dir, max_iters, resume=False, restore=True, **hooks):
    loader = dict(
        dataset=_NoisyData(),
        batch_size=2,
        num_workers=0,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        collate_fn=dict(type='pseudo_collate'))
    val_loader = dict(loader, sampler=dict(type='DefaultSampler'))
    return Runner(
        model=dict(type='RngToyModel'),
        work_dir=str(work_dir),
        train_dataloader=loader,
        val_dataloader=val_loader,
        val_evaluator=dict(type='RngToyMetric'),
        val_cfg=dict(),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        default_hooks=dict(
            checkpoint=dict(
                type='SafeCheckpointHook', by_epoch=False, interval=3),
            logger=dict(type='LoggerHook', interval=1),
            rng_state=dict(type='RNGStateHook', restore=restore, **hooks)),
        resume=resume,
        randomness=dict(seed=7),
        default_scope='mmvp',
        experiment_name=f'rng_{uuid.uuid4().hex[:8]}')


def _weights(path):
    return safe_load(path)['state_dict']


def test_capture_restore_round_trip():
    state = capture_rng_state()
    first = (torch.rand(3), np.random.rand(3),
             [random.random()
              for _ in range(3)], np.random.randn(), random.gauss(0, 1))
    restore_rng_state(state)
    second = (torch.rand(3), np.random.rand(3),
              [random.random()
               for _ in range(3)], np.random.randn(), random.gauss(0, 1))
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2:] == second[2:]


def test_states_load_with_weights_only_and_no_allow_list(tmp_path):
    """Plain data: a bare ``torch.load(weights_only=True)`` in a process
    that never imported mmvp (so no allow-list) reads them."""
    np.random.randn()  # cached Gaussian present: a float in the state
    random.gauss(0, 1)
    path = tmp_path / 'rng.pth'
    torch.save(dict(rng_state=capture_rng_state()), path)
    code = ('import sys, torch; s = torch.load(sys.argv[1], '
            'weights_only=True)["rng_state"]; print(sorted(s))')
    out = subprocess.run([sys.executable, '-c', code,
                          str(path)],
                         capture_output=True,
                         text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert "['numpy', 'python', 'torch']" in out.stdout
    assert safe_load(path)['rng_state']['numpy']['kind'] == 'MT19937'


def test_split_run_equals_straight_run(tmp_path):
    """6 iterations (validation at 2, 4, 6) vs 3 + resume to 6."""
    _runner(tmp_path / 'straight', 6).train()
    _runner(tmp_path / 'split', 3).train()
    ckpt = safe_load(tmp_path / 'split' / 'iter_3.pth')
    assert len(ckpt['rng_state']['ranks']) == 1
    _runner(tmp_path / 'split', 6, resume=True).train()
    a = _weights(tmp_path / 'straight' / 'iter_6.pth')
    b = _weights(tmp_path / 'split' / 'iter_6.pth')
    for key in a:
        assert torch.equal(a[key], b[key]), key

    # the same split without restoring: the runs differ, so the check
    # above is sensitive to the RNG states
    _runner(tmp_path / 'nostate', 3).train()
    _runner(tmp_path / 'nostate', 6, resume=True, restore=False).train()
    c = _weights(tmp_path / 'nostate' / 'iter_6.pth')
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_validation_does_not_move_the_training_streams(tmp_path):
    """With neutral_validation, validating or not gives the same training
    weights; without it the weights differ."""
    _runner(tmp_path / 'val', 4).train()
    runner = _runner(tmp_path / 'noval', 4)
    runner._train_loop['val_interval'] = 100  # never validates
    runner.train()
    a = _weights(tmp_path / 'val' / 'iter_4.pth')
    b = _weights(tmp_path / 'noval' / 'iter_4.pth')
    assert all(torch.equal(a[k], b[k]) for k in a)

    _runner(tmp_path / 'moved', 4, neutral_validation=False).train()
    c = _weights(tmp_path / 'moved' / 'iter_4.pth')
    assert any(not torch.equal(a[k], c[k]) for k in a)


class _FakeRunner:

    def __init__(self, resume):
        self._resume = resume
        self.warnings = []

        class _Logger:

            def warning(inner, msg):  # noqa: N805
                self.warnings.append(msg)

        self.logger = _Logger()


def test_restored_only_on_resume():
    hook = RNGStateHook()
    ckpt = dict(rng_state=dict(world_size=1, ranks=[capture_rng_state()]))
    hook.after_load_checkpoint(_FakeRunner(resume=False), ckpt)  # load_from
    assert hook._pending is None
    hook.after_load_checkpoint(_FakeRunner(resume=True), ckpt)
    assert hook._pending is ckpt['rng_state']['ranks'][0]


@pytest.mark.parametrize('saved, expect', [
    (None, 'holds no RNG states'),
    (dict(world_size=4, ranks=[{}] * 4), 'world size 4'),
])
def test_missing_or_foreign_states_warn(saved, expect):
    runner = _FakeRunner(resume=True)
    hook = RNGStateHook()
    hook.after_load_checkpoint(runner, dict(rng_state=saved))
    assert hook._pending is None
    assert expect in runner.warnings[0]


def test_registered_in_default_runtime():
    from mmengine.config import Config
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(
        osp.join(repo, 'configs', '_base_', 'default_runtime.py'))
    assert cfg.default_hooks.rng_state.type == 'RNGStateHook'
