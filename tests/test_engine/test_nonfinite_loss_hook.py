# Copyright (c) mmvp contributors. All rights reserved.
"""NonFiniteSkipOptimWrapper with NonFiniteLossHook in a run: a NaN/Inf
loss stops training with a message naming the iteration and the loss
terms, its update not applied, so the weights and the last checkpoint stay
finite; ``skip_nonfinite=True`` skips such batches (no update at all, also
for models that update twice per iteration and for the AMP wrapper),
counts them in the log and resumes exactly. Configs that still give the
settings to the hook and use a plain wrapper keep working."""
import math
import os
import uuid

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch.utils.data import Dataset

from mmvp.engine import (NonFiniteLossError, NonFiniteLossHook,
                         NonFiniteSkipMixin, SafeCheckpointRunner)
from mmvp.registry import HOOKS, MODELS
from mmvp.utils import (ConfigError, config_error_hints, register_all_modules,
                        safe_load)

register_all_modules()


class _Data(Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(inputs=torch.full((2, ), float(idx + 1)))


@MODELS.register_module()
class NanAtIterModel(BaseModel):
    """Loss terms ``loss`` and ``loss_aux``; ``loss_aux`` is NaN at the
    1-based iterations ``nan_iters``. ``updates=2`` makes two optimizer
    updates per iteration, as ``VideoPredictor`` with ``reverse_input``."""

    def __init__(self, nan_iters=(), updates=1, bad_value='nan'):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.nan_iters = tuple(nan_iters)
        self.updates = updates
        self.bad_value = float(bad_value)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(torch.stack(inputs))
        itr = MessageHub.get_current_instance().get_info('iter', 0) + 1
        aux = out.mean() * 0
        if itr in self.nan_iters:
            aux = aux + self.bad_value
        return dict(loss=(out**2).mean(), loss_aux=aux)

    def train_step(self, data, optim_wrapper):
        log_vars = None
        for _ in range(self.updates):
            with optim_wrapper.optim_context(self):
                losses = self._run_forward(data, mode='loss')
            parsed, log_vars = self.parse_losses(losses)
            optim_wrapper.update_params(parsed)
        return log_vars


class _Recorder(Hook):
    """Weights after every iteration."""

    priority = 'LOWEST'

    def __init__(self):
        self.weights = {}

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.weights[runner.iter + 1] = runner.model.fc.weight.detach().clone()


def _runner(work_dir,
            nan_iters,
            skip=False,
            updates=1,
            max_iters=5,
            optim_type='NonFiniteSkipOptimWrapper',
            hook=None,
            resume=False,
            custom_hooks=(),
            **settings):
    optim = dict(type=optim_type, optimizer=dict(type='SGD', lr=0.01))
    if hook is None:  # the settings belong to the wrapper
        optim.update(skip_nonfinite=skip, **settings)
        hook = dict(type='NonFiniteLossHook')
    runner = SafeCheckpointRunner(
        model=dict(
            type='NanAtIterModel', nan_iters=nan_iters, updates=updates),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_Data(),
            batch_size=2,
            sampler=dict(type='InfiniteSampler'),
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        optim_wrapper=optim,
        default_hooks=dict(
            checkpoint=dict(
                type='SafeCheckpointHook', by_epoch=False, interval=1),
            logger=dict(type='LoggerHook', interval=1),
            nonfinite=hook),
        custom_hooks=[dict(type='RNGStateHook'), *custom_hooks],
        resume=resume,
        randomness=dict(seed=0),
        default_scope='mmvp',
        experiment_name=f'nonfinite_{uuid.uuid4().hex[:8]}')
    recorder = _Recorder()
    runner.register_hook(recorder)
    return runner, recorder


def test_stop_names_iteration_and_terms(tmp_path):
    runner, rec = _runner(tmp_path, nan_iters=(3, ))
    with pytest.raises(NonFiniteLossError) as info:
        runner.train()
    msg = str(info.value)
    assert 'iteration 3 of 5' in msg
    assert 'loss_aux=nan' in msg
    assert 'total=nan' in msg  # the summed loss
    assert str(tmp_path / 'iter_2.pth') in msg  # the last checkpoint
    assert 'skip_nonfinite=True' in msg
    # the update of iteration 3 was not applied, no checkpoint written
    assert torch.equal(runner.model.fc.weight, rec.weights[2])
    assert torch.isfinite(runner.model.fc.weight).all()
    assert not (tmp_path / 'iter_3.pth').exists()
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_2.pth')
    ckpt = safe_load(tmp_path / 'iter_2.pth')
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())


@pytest.mark.parametrize('updates', [1, 2])
def test_skip_makes_no_update_and_counts(tmp_path, updates):
    runner, rec = _runner(
        tmp_path, nan_iters=(2, 4), skip=True, updates=updates)
    runner.train()
    # no update at the skipped iterations, updates at the others
    assert torch.equal(rec.weights[2], rec.weights[1])
    assert torch.equal(rec.weights[4], rec.weights[3])
    assert not torch.equal(rec.weights[3], rec.weights[2])
    assert not torch.equal(rec.weights[5], rec.weights[4])
    assert runner.message_hub.get_info('nonfinite_skipped') == 2
    log = open(
        os.path.join(
            str(tmp_path), runner.timestamp,
            f'{runner.timestamp}.log')).read()
    assert 'Non-finite loss at iteration 2 of 5: ' in log
    assert 'loss_aux=nan' in log
    assert '2 batch(es) skipped so far' in log
    assert 'nonfinite_skipped: 2' in log  # in the iteration log lines
    # the logged loss averages stay finite
    assert not math.isnan(runner.message_hub.get_scalar('train/loss').mean())
    # the count is kept in checkpoints (and restored on resume)
    hub = safe_load(tmp_path / 'iter_5.pth')['message_hub']
    assert hub['runtime_info']['nonfinite_skipped'] == 2


def test_inf_loss_and_consecutive_limit(tmp_path):
    runner, _ = _runner(
        tmp_path, nan_iters=(2, 3), skip=True, max_consecutive_skips=2)
    runner.model.bad_value = float('inf')
    with pytest.raises(NonFiniteLossError, match='2 consecutive batches'):
        runner.train()
    assert runner.message_hub.get_info('nonfinite_skipped') == 2


def test_amp_wrapper_skips(tmp_path):
    """The AMP flavour (bf16 on CPU) skips in a run too."""
    runner, rec = _runner(
        tmp_path,
        nan_iters=(2, ),
        skip=True,
        max_iters=3,
        optim_type='NonFiniteSkipAmpOptimWrapper')
    runner.train()
    assert type(runner.optim_wrapper).__name__ == \
        'NonFiniteSkipAmpOptimWrapper'
    assert torch.equal(rec.weights[2], rec.weights[1])
    assert not torch.equal(rec.weights[3], rec.weights[2])


@pytest.mark.parametrize('nan_iters,limit', [((2, 4), None), ((2, 3, 4), 3)])
def test_resume_is_exact(tmp_path, nan_iters, limit):
    """Weights, skip count and consecutive count after a resume equal those
    of an uninterrupted run (the limit counts skips across the resume)."""
    settings = dict(skip=True, max_consecutive_skips=limit)
    # one runner at a time: the model reads the iteration from the
    # current message hub
    full, full_rec = _runner(tmp_path / 'full', nan_iters, **settings)
    if limit is None:
        full.train()
    else:
        with pytest.raises(NonFiniteLossError, match='3 consecutive'):
            full.train()
    part, _ = _runner(tmp_path / 'part', nan_iters, max_iters=3, **settings)
    part.train()
    assert part.message_hub.get_info('nonfinite_consecutive') == \
        (2 if limit else 0)
    resumed, rec = _runner(
        tmp_path / 'part', nan_iters, resume=True, **settings)
    if limit is None:
        resumed.train()
        assert torch.equal(rec.weights[5], full_rec.weights[5])
        assert not torch.equal(rec.weights[5], rec.weights[4])
    else:
        with pytest.raises(NonFiniteLossError, match='3 consecutive'):
            resumed.train()
        assert torch.equal(resumed.model.fc.weight, full.model.fc.weight)
    for runner in (full, resumed):
        assert runner.message_hub.get_info('nonfinite_skipped') == \
            len(nan_iters)


def test_old_config_with_hook_settings_still_runs(tmp_path):
    """Settings on the hook and a plain OptimWrapper: deprecated, but the
    run skips as before and the warning says what to change."""
    with pytest.warns(DeprecationWarning, match='optim_wrapper.skip_nonf'):
        runner, rec = _runner(
            tmp_path,
            nan_iters=(2, ),
            optim_type='OptimWrapper',
            hook=dict(type='NonFiniteLossHook', skip_nonfinite=True))
    runner.train()
    assert isinstance(runner.optim_wrapper, NonFiniteSkipMixin)
    assert runner.optim_wrapper.skip_nonfinite
    assert torch.equal(rec.weights[2], rec.weights[1])
    assert not torch.equal(rec.weights[3], rec.weights[2])
    log = open(
        os.path.join(
            str(tmp_path), runner.timestamp,
            f'{runner.timestamp}.log')).read()
    assert "optim_wrapper.type='NonFiniteSkipOptimWrapper'" in log
    assert runner.message_hub.get_info('nonfinite_skipped') == 1


def test_old_config_with_the_hook_in_custom_hooks(tmp_path):
    """An old config listing the hook with its settings in custom_hooks,
    on top of the default one: the settings reach the wrapper whichever
    hook runs first, and each skip is reported once."""
    with pytest.warns(DeprecationWarning):
        runner, rec = _runner(
            tmp_path,
            nan_iters=(2, ),
            custom_hooks=[
                dict(
                    type='NonFiniteLossHook',
                    skip_nonfinite=True,
                    max_consecutive_skips=3)
            ])
    runner.train()
    assert runner.optim_wrapper.skip_nonfinite
    assert runner.optim_wrapper.max_consecutive_skips == 3
    assert torch.equal(rec.weights[2], rec.weights[1])
    assert runner.message_hub.get_info('nonfinite_skipped') == 1
    log = open(
        os.path.join(
            str(tmp_path), runner.timestamp,
            f'{runner.timestamp}.log')).read()
    assert log.count('Non-finite loss at iteration 2 of 5') == 1


def test_hook_settings_override_the_wrapper(tmp_path):
    with pytest.warns(DeprecationWarning):
        runner, _ = _runner(
            tmp_path,
            nan_iters=(2, ),
            hook=dict(
                type='NonFiniteLossHook',
                skip_nonfinite=False,
                max_consecutive_skips=7))
    with pytest.raises(NonFiniteLossError, match='iteration 2 of 5'):
        runner.train()
    assert runner.optim_wrapper.max_consecutive_skips == 7


def test_misspelled_hook_argument_is_explained():
    cfg = Config(
        dict(
            default_hooks=dict(
                nonfinite_loss=dict(
                    type='NonFiniteLossHook', skip_non_finite=True))))
    with pytest.raises(ConfigError) as info:
        with config_error_hints(cfg, 'my_config.py'):
            HOOKS.build(cfg.default_hooks.nonfinite_loss)
    msg = str(info.value)
    assert "Unknown key 'skip_non_finite'" in msg
    assert 'default_hooks.nonfinite_loss' in msg
    assert "Did you mean 'skip_nonfinite'?" in msg
    assert 'max_consecutive_skips' in msg


def test_in_default_runtime():
    assert HOOKS.get('NonFiniteLossHook') is NonFiniteLossHook
    cfg = Config.fromfile(
        os.path.join(
            os.path.dirname(__file__), '..', '..', 'configs', '_base_',
            'default_runtime.py'))
    assert cfg.default_hooks.nonfinite_loss == dict(type='NonFiniteLossHook')
    with pytest.raises(ValueError, match='max_consecutive_skips'):
        NonFiniteLossHook(max_consecutive_skips=0)
