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


@pytest.mark.parametrize('option, expected', [
    ('trian_cfg.max_iters=2', [
        "--cfg-options trian_cfg.max_iters=2: unknown top-level key "
        "'trian_cfg'", "Did you mean 'train_cfg'?"
    ]),
    ('default_hooks.checkpoint.intervl=2', [
        "Unknown key 'intervl' in `default_hooks.checkpoint`",
        "SafeCheckpointHook does not accept it. Did you mean 'interval'?"
    ]),
    ('train_cfg.max_iters=3k',
     ["train_cfg.max_iters: expected an int, got '3k'"]),
    ('model.backbone.hidden_channels=big',
     ["model.backbone.hidden_channels: expected an int, got 'big'"]),
    ('optim_wrapper.optimizer.lr=fast',
     ["optim_wrapper.optimizer.lr: expected a number, got 'fast'"]),
])
def test_bad_cfg_options_stop_before_training(base, option, expected):
    root, cfg = base
    work = root / ('work_' + option.split('=')[0].replace('.', '_'))
    proc = run_tool(
        ['train.py', cfg, '--work-dir', work, '--cfg-options', option], root)
    msg = last_error(proc)
    assert msg.startswith('mmvp.utils.config_check.ConfigError: ')
    for text in expected:
        assert text in msg
    # refused before the Runner was built: no iteration, no checkpoint
    assert 'Iter(train)' not in proc.stdout + proc.stderr
    assert not list(work.glob('**/*.pth'))


def test_data_root_override_reaches_the_datasets(base):
    root, cfg = base
    missing = root / 'no_mnist_here'
    proc = run_tool([
        'train.py', cfg, '--work-dir', root / 'work_data_root',
        '--cfg-options', f'data_root={missing}',
        'train_dataloader.dataset.digit_source=mnist'
    ], root)
    msg = last_error(proc)
    # the error names the new root, not the config's data/mnist
    assert f"MNIST data_root not found: '{missing}'" in msg
