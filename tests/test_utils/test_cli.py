# Copyright (c) mmvp contributors. All rights reserved.
"""The config handling shared by tools/train.py and tools/test.py."""
import argparse
import os
import os.path as osp

import pytest
from mmengine.config import Config

from mmvp.utils import ConfigError
from mmvp.utils.cli import (add_launcher_args, apply_cfg_options,
                            latest_checkpoint, merge_common_args,
                            parse_tool_args, propagate_data_root)

VMNIST = 'configs/motionrnn_predrnn_vmnist.py'
RADAR = 'configs/motionrnn_predrnn_radar.py'


def _args(**kwargs):
    args = dict(config='configs/x_y.py', work_dir=None, launcher='none')
    args.update(kwargs)
    return argparse.Namespace(**args)


def test_work_dir_and_launcher():
    cfg = merge_common_args(Config(dict()), _args())
    assert cfg.work_dir == osp.join('./work_dirs', 'x_y')
    assert cfg.launcher == 'none'
    cfg = merge_common_args(Config(dict(work_dir='a')), _args())
    assert cfg.work_dir == 'a'
    cfg = merge_common_args(
        Config(dict(work_dir='a')), _args(work_dir='b', launcher='pytorch'))
    assert cfg.work_dir == 'b' and cfg.launcher == 'pytorch'


def test_launcher_args_and_local_rank(monkeypatch):
    parser = argparse.ArgumentParser()
    add_launcher_args(parser)
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    args = parse_tool_args(parser,
                           ['--launcher', 'pytorch', '--local_rank', '3'])
    assert args.launcher == 'pytorch' and args.local_rank == 3
    assert os.environ['LOCAL_RANK'] == '3'
    # a LOCAL_RANK set by the launcher (torchrun) is kept
    monkeypatch.setenv('LOCAL_RANK', '1')
    args = parse_tool_args(parser, ['--local-rank', '2'])
    assert args.launcher == 'none' and os.environ['LOCAL_RANK'] == '1'
    with pytest.raises(SystemExit):
        parse_tool_args(parser, ['--launcher', 'ssh'])


def test_new_top_level_key_names_the_closest():
    cfg = Config.fromfile(VMNIST)
    with pytest.raises(ConfigError) as info:
        apply_cfg_options(cfg, {'trian_cfg.max_iters': 2}, VMNIST)
    msg = str(info.value)
    assert msg.startswith("--cfg-options trian_cfg.max_iters=2: unknown "
                          "top-level key 'trian_cfg'")
    assert "Did you mean 'train_cfg'?" in msg
    assert 'motionrnn_predrnn_vmnist.py' in msg
    assert 'trian_cfg' not in cfg  # nothing was merged
    assert cfg.train_cfg.max_iters == 100000


def test_existing_and_runner_keys_are_merged():
    cfg = Config.fromfile(VMNIST)
    apply_cfg_options(
        cfg, {
            'train_cfg.max_iters': 2,
            'resume': True,
            'experiment_name': 'x',
            'dataset_type': 'Other'
        })
    assert cfg.train_cfg.max_iters == 2 and cfg.resume
    assert cfg.experiment_name == 'x'  # read by the Runner, not in the file
    assert cfg.dataset_type == 'Other'  # a variable of the file
    assert apply_cfg_options(cfg, None) is cfg


def test_data_root_reaches_every_dataset():
    cfg = Config.fromfile(VMNIST)
    apply_cfg_options(cfg, {'data_root': '/datasets/mnist'})
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.data_root == '/datasets/mnist', split


def test_data_root_moves_sub_folders_and_explicit_keys_win():
    cfg = Config.fromfile(RADAR)
    assert cfg.train_dataloader.dataset.data_root == 'data/radar/train'
    apply_cfg_options(
        cfg, {
            'data_root': '/d/radar/',
            'test_dataloader.dataset.data_root': '/elsewhere'
        })
    assert cfg.train_dataloader.dataset.data_root == '/d/radar/train'
    assert cfg.val_dataloader.dataset.data_root == '/d/radar/valid'
    assert cfg.test_dataloader.dataset.data_root == '/elsewhere'


def test_propagate_leaves_other_roots_alone():
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='ConcatDataset',
                    datasets=[
                        dict(data_root='data/a'),
                        dict(data_root='data/ab')
                    ])),
            val_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset', dataset=dict(
                        data_root='data/a/val')))))
    changed = propagate_data_root(cfg, 'data/a', 'new')
    datasets = cfg.train_dataloader.dataset.datasets
    assert [d.data_root for d in datasets] == ['new', 'data/ab']
    assert cfg.val_dataloader.dataset.dataset.data_root == 'new/val'
    assert changed == [
        'train_dataloader.dataset.datasets[0].data_root',
        'val_dataloader.dataset.dataset.data_root'
    ]


def test_data_root_without_a_variable_says_where_to_set_it():
    cfg = Config(dict(train_dataloader=dict(dataset=dict(data_root='x'))))
    with pytest.raises(ConfigError) as info:
        apply_cfg_options(cfg, {'data_root': '/d'}, 'cfg.py')
    msg = str(info.value)
    assert 'has no top-level data_root' in msg
    assert 'train_dataloader.dataset.data_root=/d' in msg


def test_latest_checkpoint_is_quiet(tmp_path, capsys):
    assert latest_checkpoint(str(tmp_path)) is None
    assert 'last_checkpoint' not in capsys.readouterr().out
    (tmp_path / 'last_checkpoint').write_text('/w/iter_4.pth\n')
    assert latest_checkpoint(str(tmp_path)) == '/w/iter_4.pth'
