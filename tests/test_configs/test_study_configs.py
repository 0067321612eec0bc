# Copyright (c) mmvp contributors. All rights reserved.
"""The CPU study configs (``configs/study``, ``docs/en/cpu_study.md``):
they build, and they differ from the paper configs they inherit only in the
keys the page lists, the same keys for PredRNN and MotionRNN-PredRNN."""
import os.path as osp

import pytest
from mmengine.config import Config

from mmvp.registry import DATASETS, METRICS, MODELS
from mmvp.utils import register_all_modules

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STUDY = {
    'predrnn_vmnist_cpu': 'predrnn_vmnist',
    'motionrnn_predrnn_vmnist_cpu': 'motionrnn_predrnn_vmnist',
    'predrnn_vmnist_cpu_2400it': 'predrnn_vmnist',
    'motionrnn_predrnn_vmnist_cpu_2400it': 'motionrnn_predrnn_vmnist',
}
PAGE = osp.join(ROOT, 'docs', 'en', 'cpu_study.md')

# every key the study configs change, as dotted paths (lists compared whole)
SCALE_KEYS = {
    'model.backbone.num_layers',
    'model.backbone.hidden_channels',
    'model.backbone.kernel_size',
    'model.loss.type',
    'model.sampling.rate',
    'model.sampling.stop_iter',
    'train_dataloader.num_workers',
    'train_dataloader.dataset.digit_source',
    'val_dataloader.num_workers',
    'val_dataloader.dataset.digit_source',
    'val_dataloader.dataset.num_samples',
    'test_dataloader.num_workers',
    'test_dataloader.dataset.digit_source',
    'test_dataloader.dataset.num_samples',
    'test_evaluator',
    'optim_wrapper.optimizer.lr',
    'param_scheduler',
    'train_cfg.max_iters',
    'train_cfg.val_interval',
    'default_hooks.logger.interval',
    'default_hooks.checkpoint.interval',
    'default_hooks.checkpoint.max_keep_ckpts',
}
NECK_KEYS = {'model.neck.kernel_size'}

register_all_modules()


def load(name, study=True):
    folder = osp.join(ROOT, 'configs', 'study' if study else '')
    return Config.fromfile(osp.join(folder, f'{name}.py'))


def flatten(value, prefix=''):
    """Dotted key -> leaf value; lists are leaves. Module-level helper
    variables (``_iters``) are not settings and are left out."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not prefix and key.startswith('_'):
                continue
            out.update(flatten(item, f'{prefix}{key}.'))
        return out
    return {prefix[:-1]: value}


def changed_keys(study, parent):
    a, b = flatten(study.to_dict()), flatten(parent.to_dict())
    return {
        k
        for k in a.keys() | b.keys()
        if a.get(k, 'absent') != b.get(k, 'absent')
    }


@pytest.mark.parametrize('name', sorted(STUDY))
def test_study_changes_only_the_scale_keys(name):
    changed = changed_keys(load(name), load(STUDY[name], study=False))
    expected = SCALE_KEYS | (NECK_KEYS if 'motionrnn' in name else set())
    assert changed == expected, (
        f'configs/study/{name}.py changes {sorted(changed - expected)} '
        f'beyond the documented keys and leaves '
        f'{sorted(expected - changed)} as in configs/{STUDY[name]}.py')


@pytest.mark.parametrize('suffix', ['', '_2400it'])
def test_both_models_get_the_same_scale(suffix):
    """Data, schedule, loss and evaluation are identical: the two configs
    differ only in the MotionRNN neck, as their paper parents do."""
    predrnn = flatten(load(f'predrnn_vmnist_cpu{suffix}').to_dict())
    motion = flatten(load(f'motionrnn_predrnn_vmnist_cpu{suffix}').to_dict())
    differ = {
        k
        for k in predrnn.keys() | motion.keys()
        if predrnn.get(k, 'absent') != motion.get(k, 'absent')
    }
    assert differ and all(k.startswith('model.neck.') for k in differ)
    for key in SCALE_KEYS:
        assert predrnn[key] == motion[key], key


@pytest.mark.parametrize('name', sorted(STUDY))
def test_study_config_builds(name, tmp_path):
    cfg = load(name)
    # the protocol of the paper configs with the embedded glyph digits
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset_cfg = dict(
            cfg[loader]['dataset'], data_root=str(tmp_path / 'missing'))
        assert dataset_cfg['digit_source'] == 'glyphs'
        dataset = DATASETS.build(dataset_cfg)
        assert (dataset.in_frames, dataset.out_frames) == (10, 10)
        assert dataset.num_digits == 2
        assert dataset.render_uint8(0).shape == (20, 64, 64)
    for metric in cfg.val_evaluator + cfg.test_evaluator:
        METRICS.build(metric)
    baselines = {
        m['type']: tuple(m.get('baselines', ()))
        for m in cfg.test_evaluator
    }
    for metric in ('MSEMetric', 'SSIMMetric', 'PSNRMetric'):
        assert set(baselines[metric]) == {'copy_last', 'zeros'}, metric
    model = MODELS.build(cfg.model)
    assert len(model.backbone.cells) == 2
    assert (model.neck is not None) == ('motionrnn' in name)
    # the sampling ramp and the cosine both end inside the budget
    iters = cfg.train_cfg.max_iters
    assert cfg.model.sampling.stop_iter < iters
    assert cfg.model.sampling.rate * cfg.model.sampling.stop_iter == \
        pytest.approx(1.0)
    assert cfg.param_scheduler[0]['end'] == iters
    assert cfg.param_scheduler[0]['T_max'] == iters
    assert iters % cfg.train_cfg.val_interval == 0
    assert iters // cfg.train_cfg.val_interval == 8
    assert cfg.default_hooks.checkpoint.interval == iters


def test_page_lists_the_changed_keys():
    with open(PAGE, encoding='utf-8') as f:
        text = f.read()
    for key in sorted(SCALE_KEYS | NECK_KEYS):
        assert f'`{key}`' in text, f'docs/en/cpu_study.md does not list {key}'
    for name in STUDY:
        assert f'configs/study/{name}.py' in text
