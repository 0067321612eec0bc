# Copyright (c) mmvp contributors. All rights reserved.
"""The Quick start demo: embedded data (no download), the sizes and the
schedule the README and ``docs/en/get_started/quick_run.md`` describe, and
its sibling config that tests on clips of another generator."""
import os.path as osp
import re

import numpy as np
import pytest
from mmengine.config import Config

from mmvp.registry import DATASETS, METRICS, MODELS
from mmvp.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'motionrnn_predrnn_vmnist_demo.py')
UNSEEN = osp.join(ROOT, 'configs', 'motionrnn_predrnn_vmnist_demo_unseen.py')
QUICK_RUN = osp.join(ROOT, 'docs', 'en', 'get_started', 'quick_run.md')
README = osp.join(ROOT, 'README.md')

register_all_modules()


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


@pytest.fixture(scope='module')
def cfg():
    return Config.fromfile(DEMO)


def build(dataset_cfg, **overrides):
    dataset_cfg = dict(dataset_cfg, **overrides)
    return DATASETS.build(dataset_cfg)


@pytest.mark.parametrize(
    'loader', ['train_dataloader', 'val_dataloader', 'test_dataloader'])
def test_demo_data_is_embedded(cfg, loader, tmp_path):
    """Every split draws the glyph digits: it builds and renders from an
    empty data_root, so nothing has to be downloaded."""
    dataset_cfg = cfg[loader]['dataset']
    assert dataset_cfg['type'] == 'VMNISTDataset'
    assert dataset_cfg['digit_source'] == 'glyphs'
    ds = build(dataset_cfg, data_root=str(tmp_path / 'missing'))
    assert (ds.in_frames, ds.out_frames) == (cfg.model.in_frames,
                                             cfg.model.out_frames)
    frames = ds.render_uint8(0)
    assert frames.shape == (ds.num_frames, 64, 64)
    assert frames.max() > 200  # a digit is drawn


def test_demo_numbers_match_the_docs(cfg):
    iters = cfg.train_cfg.max_iters
    readme, quick_run = read(README), read(QUICK_RUN)
    ckpt = f'work_dirs/motionrnn_predrnn_vmnist_demo/iter_{iters}.pth'
    # the README's command and the page test the checkpoint training writes
    assert ckpt in readme and ckpt in quick_run
    assert cfg.default_hooks.checkpoint.interval == iters
    train = cfg.train_dataloader
    test = cfg.test_dataloader.dataset
    stated = [
        f'{iters} iterations', f'batch {train.batch_size}',
        f'{test.num_samples} test sequences',
        f'{cfg.model.in_frames} -> {cfg.model.out_frames}',
        f'{cfg.model.backbone.num_layers} layers of '
        f'{cfg.model.backbone.hidden_channels} channels'
    ]
    missing = [s for s in stated if s not in quick_run]
    assert not missing, f'quick_run.md does not say {missing}'
    assert train.dataset.num_digits == test.num_digits == 1
    assert 'one digit' in quick_run
    # the learning-rate decay ends where training ends
    (sched, ) = cfg.param_scheduler
    assert sched.end == sched.T_max == iters
    assert cfg.optim_wrapper.type == 'NonFiniteSkipAmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16' and 'bf16' in quick_run


def test_demo_test_scores_both_baselines(cfg):
    """The test prints the all-black and copy-last scores next to the
    model's, for MSE and SSIM, and the page explains those keys."""
    quick_run = read(QUICK_RUN)
    for metric in cfg.test_evaluator:
        METRICS.build(metric)  # the baselines are accepted
        if metric['type'] in ('MSEMetric', 'SSIMMetric', 'PSNRMetric'):
            assert set(metric['baselines']) == {'zeros', 'copy_last'}
    for key in ('vmnist/mse_frame_sum_zeros', 'vmnist/mse_frame_sum_copy_last',
                'vmnist/ssim_zeros', 'vmnist/psnr_zeros'):
        assert key in quick_run


def test_unseen_config_changes_only_the_test_clips(cfg):
    unseen = Config.fromfile(UNSEEN)
    assert unseen.model == cfg.model
    assert unseen.train_dataloader == cfg.train_dataloader
    demo_test = cfg.test_dataloader.dataset
    test = unseen.test_dataloader.dataset
    assert test.digit_source == 'segments' != demo_test.digit_source
    ds = build(test)
    assert ds.speed_range != build(demo_test).speed_range
    assert (ds.in_frames, ds.out_frames) == (cfg.model.in_frames,
                                             cfg.model.out_frames)
    assert ds.render_uint8(0).max() > 200
    # the page names the command that tests on these clips
    assert re.search(
        r'tools/test\.py\s+configs/'
        r'motionrnn_predrnn_vmnist_demo_unseen\.py', read(QUICK_RUN))


def test_demo_model_learns_one_step(cfg):
    """One optimiser step of the demo's model on a demo batch lowers the
    loss on that batch (the config's loss, sampling and sizes fit)."""
    import torch
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    ds = build(cfg.train_dataloader.dataset)
    clips = [
        torch.from_numpy(np.ascontiguousarray(ds.render_uint8(i)))[:, None]
        for i in range(4)
    ]
    data = model.data_preprocessor(dict(inputs=clips), True)
    opt = torch.optim.Adam(
        model.parameters(), lr=cfg.optim_wrapper.optimizer.lr)
    losses = []
    for _ in range(2):
        loss = model(**data, mode='loss', sampling_mask=None)['loss']
        losses.append(float(loss))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[1] < losses[0]


def test_long_demo_changes_only_the_budget(cfg):
    """The 19200-iteration demo is the demo with a longer schedule: same
    model, data and loss; teacher forcing, the cosine decay, validation and
    checkpoints all scale with the iteration count."""
    long = Config.fromfile(DEMO.replace('_demo.py', '_demo_19200it.py'))
    iters = long.train_cfg.max_iters
    assert iters == 16 * cfg.train_cfg.max_iters
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'optim_wrapper', 'test_evaluator'):
        assert long[key] == cfg[key], key
    model, demo_model = dict(long.model), dict(cfg.model)
    sampling, demo_sampling = model.pop('sampling'), demo_model.pop('sampling')
    assert model == demo_model
    # teacher forcing fades out over the same share of the run
    assert (sampling.stop_iter / iters == demo_sampling.stop_iter /
            cfg.train_cfg.max_iters)
    assert sampling.rate == pytest.approx(1 / sampling.stop_iter)
    (sched, ) = long.param_scheduler
    assert sched.end == sched.T_max == iters
    assert iters % long.train_cfg.val_interval == 0
    checkpoint_interval = long.default_hooks.checkpoint.interval
    assert checkpoint_interval == long.train_cfg.val_interval
