# Copyright (c) mmvp contributors. All rights reserved.
"""``model-index.yml`` / ``configs/metafile.yml`` against the configs.

Every leaf config in ``configs/*.py`` has exactly one metafile entry named
after it, every entry points at an existing config, and the metadata agrees
with the config (batch size, iterations). Results appear only with the
weights that gave them (a URL, or a file in the repository checked against
its SHA-256 and its test output).
"""
import glob
import hashlib
import importlib.util
import json
import os.path as osp

import pytest
import yaml
from docs_helpers import DOCS, REPO
from mmengine.config import Config

REQUIRED_METADATA = ('Training Data', 'Training Resources', 'Iterations',
                     'Batch Size', 'Architecture', 'Parameters', 'FLOPs')


def load_gen_model_zoo():
    path = osp.join(DOCS, '_scripts', 'gen_model_zoo.py')
    spec = importlib.util.spec_from_file_location('gen_model_zoo', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = load_gen_model_zoo()
COLLECTIONS, MODELS = GEN.load_model_index(REPO)
LEAF_CONFIGS = sorted(
    osp.splitext(osp.basename(p))[0]
    for p in glob.glob(osp.join(REPO, 'configs', '*.py')))


def test_model_index_imports_metafile():
    with open(osp.join(REPO, 'model-index.yml')) as f:
        index = yaml.safe_load(f)
    assert 'configs/metafile.yml' in index['Import']
    for rel in index['Import']:
        assert osp.isfile(osp.join(REPO, rel)), rel


def test_every_config_has_one_entry():
    names = [m['Name'] for m in MODELS]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f'duplicate metafile entries: {duplicates}'
    missing = sorted(set(LEAF_CONFIGS) - set(names))
    assert not missing, ('configs without a metafile entry (add them to '
                         f'configs/metafile.yml): {missing}')


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_entry_matches_config(model):
    config = model.get('Config', '')
    assert osp.isfile(osp.join(REPO, config)), \
        f"{model['Name']}: Config {config!r} does not exist"
    assert osp.splitext(osp.basename(config))[0] == model['Name'], \
        f"{model['Name']}: Name must equal the config stem of {config}"
    assert model.get('In Collection') in {c['Name'] for c in COLLECTIONS}
    meta = model.get('Metadata') or {}
    missing = [k for k in REQUIRED_METADATA if k not in meta]
    assert not missing, f"{model['Name']}: Metadata lacks {missing}"
    assert isinstance(meta['Parameters'], int) and meta['Parameters'] > 0
    assert isinstance(meta['FLOPs'], int) and meta['FLOPs'] > 0
    assert meta['Architecture'] and isinstance(meta['Architecture'], list)

    cfg = Config.fromfile(osp.join(REPO, config))
    assert meta['Batch Size'] == cfg.train_dataloader.batch_size
    assert meta['Iterations'] == cfg.train_cfg.max_iters
    backbone = cfg.model.backbone.type
    assert any(backbone.lower().replace('pp', '++').replace('v2', '-v2')
               .replace('e3dlstm', 'e3d-lstm') in a.lower()
               for a in meta['Architecture']), \
        f"{model['Name']}: Architecture {meta['Architecture']} does not " \
        f'name the backbone {backbone}'
    has_neck = bool(cfg.model.get('neck'))
    names_motion = any('Motion' in a for a in meta['Architecture'])
    assert has_neck == names_motion, \
        f"{model['Name']}: neck {has_neck} but Architecture " \
        f"{meta['Architecture']}"


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_results_come_with_their_weights(model):
    """Results only with the weights that gave them. A URL is taken as
    given; a file in the repository must exist, carry the first 8 hex
    digits of its SHA-256 in its name and the full SHA-256 in the
    Metadata, and its Results must be those of the ``test.json`` written
    next to its Training Log."""
    results = model.get('Results') or []
    for result in results:
        assert result.get('Task') == 'Video Prediction'
        assert result.get('Dataset') and result.get('Metrics')
    weights = model.get('Weights')
    if results:
        assert weights and model.get('Training Log'), \
            f"{model['Name']}: Results without Weights and Training Log"
    if weights is None or str(weights).startswith(('https://', 'http://')):
        return
    path = osp.join(REPO, weights)
    assert osp.isfile(path), f"{model['Name']}: no file {weights}"
    with open(path, 'rb') as f:
        sha256 = hashlib.sha256(f.read()).hexdigest()
    assert weights.endswith(f'-{sha256[:8]}.pth'), weights
    assert model['Metadata'].get('Weights SHA256') == sha256
    log = osp.join(REPO, model['Training Log'])
    assert osp.isfile(log), f"{model['Name']}: no file {log}"
    with open(osp.join(osp.dirname(log), 'test.json')) as f:
        tested = json.load(f)['metrics']
    for result in results:
        for key, value in result['Metrics'].items():
            digits = len(str(value).partition('.')[2])
            assert round(tested[key], digits) == pytest.approx(value), key


def test_collection_fields():
    assert [c['Name'] for c in COLLECTIONS] == ['MotionRNN']
    for coll in COLLECTIONS:
        assert osp.isfile(osp.join(REPO, coll['README']))
        assert coll['Paper']['URL'].startswith('https://')
        assert 'MotionRNN' in coll['Paper']['Title']


def test_configs_readme_lists_every_config():
    with open(osp.join(REPO, 'configs', 'README.md')) as f:
        text = f.read()
    missing = [c for c in LEAF_CONFIGS if f'({c}.py)' not in text]
    assert not missing, f'configs/README.md does not link {missing}'
    # honest about what is trained: only the CPU study's small checkpoints
    assert 'No paper-scale checkpoints are released yet' in text
    assert 'checkpoints/study' in text
    assert '@inproceedings{' in text


def test_model_zoo_page_lists_every_entry(tmp_path):
    out = tmp_path / 'model_zoo.md'
    assert GEN.write_model_zoo(REPO, str(out)) is True
    text = out.read_text()
    for model in MODELS:
        assert f"`{model['Name']}`" in text
    assert 'No paper-scale checkpoints are released yet' in text
    assert 'checkpoints/study' in text
    # unchanged content is not rewritten (no rebuild loops)
    assert GEN.write_model_zoo(REPO, str(out)) is False


def test_model_zoo_renders_results_when_present():
    model = dict(
        Name='x_vmnist',
        Config='configs/x_vmnist.py',
        Metadata={
            'Architecture': ['PredRNN'],
            'Batch Size': 8,
            'Training Resources': '4x A100',
            'Iterations': 100000,
            'Parameters': 6049792,
            'FLOPs': 29426188288,
            'Training Data': 'V-MNIST (vmnist-v1)'
        },
        Results=[
            dict(
                Task='Video Prediction',
                Dataset='V-MNIST',
                Metrics={'vmnist/mse_frame_sum': 30.1})
        ],
        Weights='https://example.org/x.pth')
    text = GEN.render_model_zoo([dict(Name='MotionRNN')], [model])
    assert '| `x_vmnist` | PredRNN | 4x8, 100k | 6.05 | 29.43 |' in text
    assert 'vmnist/mse_frame_sum 30.1' in text
    assert '[model](https://example.org/x.pth)' in text
    # a file in the repository is named, not linked (the site lacks it)
    model.update(
        Weights='checkpoints/x-0123abcd.pth',
        **{'Training Log': 'docs/x/scalars.json'})
    text = GEN.render_model_zoo([dict(Name='MotionRNN')], [model])
    assert 'model: `checkpoints/x-0123abcd.pth`' in text
    assert 'log: `docs/x/scalars.json`' in text
