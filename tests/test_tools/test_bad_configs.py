# Copyright (c) mmvp contributors. All rights reserved.
"""Misspelled config keys and unknown types: the message names the wrong
key or type and what was expected."""
import pytest
from tools_helpers import last_error, run_tool, write_tiny_config


@pytest.fixture(scope='module')
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp('bad_cfg')
    return root, write_tiny_config(root)


def _leaf(root, base_cfg, name, body):
    path = root / name
    path.write_text(f'_base_ = [{str(base_cfg)!r}]\n{body}\n')
    return path


def test_misspelled_model_key(base):
    root, cfg = base
    bad = _leaf(root, cfg, 'neckk.py',
                "model = dict(neckk=dict(type='MotionRNNNeck'))")
    msg = last_error(run_tool(['train.py', bad, '--work-dir', root], root))
    assert "Unknown key 'neckk' in `model`" in msg
    assert 'neckk.py' in msg
    assert "Did you mean 'neck'?" in msg
    assert 'VideoPredictor' in msg


def test_unknown_model_type(base):
    root, cfg = base
    bad = _leaf(root, cfg, 'type.py', "model = dict(type='VideoPredicter')")
    msg = last_error(run_tool(['train.py', bad, '--work-dir', root], root))
    assert "Unknown type 'VideoPredicter' at `model.type`" in msg
    assert "Did you mean 'VideoPredictor'" in msg


def test_misspelled_dataset_key(base):
    root, cfg = base
    bad = _leaf(root, cfg, 'dataset.py',
                'train_dataloader = dict(dataset=dict(num_sample=3))')
    msg = last_error(run_tool(['train.py', bad, '--work-dir', root], root))
    assert "Unknown key 'num_sample' in `train_dataloader.dataset`" in msg
    assert "Did you mean 'num_samples'?" in msg
