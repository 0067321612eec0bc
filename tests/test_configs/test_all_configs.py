# Copyright (c) mmvp contributors. All rights reserved.
"""Every leaf config loads, names registered components, and builds its
model (a config that cannot build must fail here, not in a user's job)."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmvp.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmvp.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LEAF_CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*.py')))

register_all_modules()


def test_there_are_leaf_configs():
    names = {osp.basename(p) for p in LEAF_CONFIGS}
    for backbone in ('convlstm', 'predrnn', 'predrnnpp', 'predrnnv2', 'mim',
                     'e3dlstm'):
        assert f'{backbone}_vmnist.py' in names
        assert f'motionrnn_{backbone}_vmnist.py' in names
    assert 'motionrnn_predrnn_vmnist_demo.py' in names


@pytest.mark.parametrize(
    'path', LEAF_CONFIGS, ids=[osp.basename(p) for p in LEAF_CONFIGS])
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmvp'
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = cfg[name]['dataset']
        assert DATASETS.get(dataset['type']) is not None, dataset['type']
        for step in dataset.get('pipeline', []):
            assert TRANSFORMS.get(step['type']) is not None, step['type']
        assert dataset['in_frames'] == cfg.model.in_frames
        assert dataset['out_frames'] == cfg.model.out_frames
    evaluators = cfg.val_evaluator + cfg.test_evaluator
    for metric in evaluators:
        assert METRICS.get(metric['type']) is not None, metric['type']
    model = MODELS.build(cfg.model)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params > 0
    if 'motionrnn' in osp.basename(path):
        assert model.neck is not None
    else:
        assert model.neck is None


def test_demo_config_forward_and_backward():
    """The demo's model runs one loss step on its own data layout."""
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'motionrnn_predrnn_vmnist_demo.py'))
    model = MODELS.build(cfg.model)
    frames = torch.randint(0, 256, (20, 1, 64, 64), dtype=torch.uint8)
    data = model.data_preprocessor(dict(inputs=[frames, frames]), True)
    loss = model(**data, mode='loss')['loss']
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())
