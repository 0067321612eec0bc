# Copyright (c) mmvp contributors. All rights reserved.
"""Readable errors for misspelled config keys and unknown types."""
import glob
import os
from typing import Optional, Sequence

import pytest
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import BaseDataset

from mmvp.registry import DATASETS, MODELS
from mmvp.utils import (ConfigError, check_config, config_error_hints,
                        register_all_modules)

FILE = 'configs/some_config.py'


@MODELS.register_module()
class CfgCheckPredictor(nn.Module):

    def __init__(self, backbone=None, neck=None, loss=None):
        super().__init__()
        self.backbone = MODELS.build(backbone) if backbone else None
        self.neck = neck


@MODELS.register_module()
class CfgCheckBackbone(nn.Module):

    def __init__(self, num_layers=2, hidden_channels=8):
        super().__init__()


@DATASETS.register_module()
class CfgCheckDataset(BaseDataset):

    def __init__(self, in_frames=2, **kwargs):
        self.in_frames = in_frames
        super().__init__(**kwargs)

    def load_data_list(self):
        return [dict(idx=0)]


def _cfg(**kwargs):
    cfg = dict(
        model=dict(
            type='CfgCheckPredictor',
            backbone=dict(type='CfgCheckBackbone', num_layers=2)),
        train_dataloader=dict(
            batch_size=1,
            dataset=dict(type='CfgCheckDataset', pipeline=[]),
            sampler=dict(type='InfiniteSampler')),
        train_cfg=dict(type='IterBasedTrainLoop', max_iters=2),
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=1e-3)),
        default_hooks=dict(logger=dict(type='LoggerHook')))
    cfg.update(kwargs)
    return Config(cfg)


def test_valid_config_passes():
    check_config(_cfg(), FILE)


def test_unknown_model_type_names_type_and_closest():
    cfg = _cfg()
    cfg.model.type = 'CfgCheckPredicter'
    with pytest.raises(ConfigError) as info:
        check_config(cfg, FILE)
    msg = str(info.value)
    assert "'CfgCheckPredicter'" in msg and '`model.type`' in msg
    assert "Did you mean 'CfgCheckPredictor'" in msg
    assert 'some_config.py' in msg


def test_unknown_nested_type():
    cfg = _cfg()
    cfg.model.backbone.type = 'CfgCheckBackbon'
    with pytest.raises(
            ConfigError,
            match=r"model\.backbone\.type.*"
            r"Did you mean 'CfgCheckBackbone'"):
        check_config(cfg, FILE)


@pytest.mark.parametrize('path, registry', [
    ('train_dataloader.dataset.type', 'dataset'),
    ('train_dataloader.sampler.type', 'data sampler'),
    ('optim_wrapper.optimizer.type', 'optimizer'),
    ('default_hooks.logger.type', 'hook'),
    ('train_cfg.type', 'loop'),
])
def test_unknown_types_in_other_slots(path, registry):
    cfg = _cfg()
    cfg.merge_from_dict({path: 'NoSuchThing'})
    with pytest.raises(ConfigError) as info:
        check_config(cfg, FILE)
    assert f'`{path}`' in str(info.value)
    assert f'mmvp::{registry} registry' in str(info.value)


def test_misspelled_top_level_key():
    cfg = _cfg()
    cfg['val_dataloder'] = cfg.train_dataloader
    with pytest.raises(ConfigError, match="'val_dataloder'.*'val_dataloader'"):
        check_config(cfg, FILE)
    # user variables that extend a known name are fine
    cfg = _cfg(val_dataloader_cfg=dict(batch_size=1), data_root='data/x')
    check_config(cfg, FILE)


def test_unexpected_model_key_names_key_and_alternatives():
    cfg = _cfg()
    cfg.model.neckk = dict(type='CfgCheckBackbone')
    with pytest.raises(ConfigError) as info:
        with config_error_hints(cfg):
            MODELS.build(cfg.model)
    msg = str(info.value)
    assert "Unknown key 'neckk' in `model`" in msg
    assert "Did you mean 'neck'?" in msg
    assert 'backbone, neck, loss' in msg
    assert isinstance(info.value.__cause__, TypeError)


def test_unexpected_nested_key():
    cfg = _cfg()
    cfg.model.backbone.num_layer = 3
    with pytest.raises(
            ConfigError,
            match=r"'num_layer' in `model\.backbone`"
            r".*Did you mean 'num_layers'"):
        with config_error_hints(cfg):
            MODELS.build(cfg.model)


def test_unexpected_dataset_key_follows_kwargs_to_base_dataset():
    cfg = _cfg()
    cfg.train_dataloader.dataset.data_roott = 'x'
    with pytest.raises(ConfigError) as info:
        with config_error_hints(cfg):
            DATASETS.build(cfg.train_dataloader.dataset)
    msg = str(info.value)
    assert "'data_roott' in `train_dataloader.dataset`" in msg
    assert "Did you mean 'data_root'?" in msg
    assert 'in_frames' in msg  # the subclass's own keys are listed too


def test_unrelated_errors_pass_through():
    with pytest.raises(TypeError, match='not_in_config'):
        with config_error_hints(_cfg()):
            raise TypeError("f.__init__() got an unexpected keyword argument "
                            "'not_in_config'")
    with pytest.raises(KeyError):
        with config_error_hints(_cfg()):
            raise KeyError('plain')


_REPO = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CONFIGS = sorted(glob.glob(os.path.join(_REPO, 'configs', '*.py')))


@pytest.mark.parametrize(
    'path', _CONFIGS, ids=[os.path.basename(p) for p in _CONFIGS])
def test_repository_configs_pass(path):
    """No false alarms on the shipped configs."""
    register_all_modules()
    check_config(Config.fromfile(path), path)


def test_unknown_runner_type_names_the_closest():
    cfg = _cfg()
    cfg.runner_type = 'SafeCheckpointRuner'
    with pytest.raises(ConfigError) as info:
        check_config(cfg, FILE)
    assert "Did you mean 'SafeCheckpointRunner'" in str(info.value)


def test_misspelled_top_level_key_next_to_the_right_one():
    # train_cfg is set (by a base file); trian_cfg would be ignored
    cfg = _cfg(trian_cfg=dict(max_iters=2))
    with pytest.raises(ConfigError, match="'trian_cfg'.*'train_cfg'"):
        check_config(cfg, FILE)
    # helper variables of the configs are not mistaken for typos
    check_config(
        _cfg(
            dataset_type='X',
            train_pipeline=[],
            test_pipeline=[],
            model_cfg=dict(),
            _clip=dict(in_frames=2)), FILE)


@MODELS.register_module()
class CfgCheckTypedBackbone(nn.Module):

    def __init__(self,
                 hidden_channels: int = 8,
                 momentum: float = 0.5,
                 out_channels: Optional[int] = None,
                 layer_norm: bool = False,
                 sizes: Sequence[int] = (1, )):
        super().__init__()


@pytest.mark.parametrize(
    'key, value, expected',
    [
        ('train_cfg.max_iters', '3k', 'an int'),
        ('train_cfg.max_iters', 2.5, 'an int'),
        ('train_cfg.val_interval', [1], 'an int'),
        ('optim_wrapper.optimizer.lr', 'fast', 'a number'),
        ('optim_wrapper.optimizer.weight_decay', '1e-4x', 'a number'),
        ('train_dataloader.batch_size', 'big', 'an int'),
        ('train_dataloader.num_workers', 'two', 'an int'),
        ('train_dataloader.dataset.in_frames', 'x', None),  # not annotated
        ('model.backbone.hidden_channels', 'big', 'an int'),
        ('model.backbone.momentum', 'high', 'a number'),
        ('model.backbone.out_channels', '8', 'an int'),
        ('model.backbone.layer_norm', 'yes', 'a bool'),
    ])
def test_values_of_the_wrong_type_name_key_and_type(key, value, expected):
    cfg = _cfg()
    cfg.model.backbone.type = 'CfgCheckTypedBackbone'
    cfg.merge_from_dict({key: value})
    if expected is None:
        check_config(cfg, FILE)
        return
    with pytest.raises(ConfigError) as info:
        check_config(cfg, FILE)
    msg = str(info.value)
    assert msg.startswith(f'{key}: expected {expected}, got {value!r}')
    assert 'some_config.py' in msg


@pytest.mark.parametrize(
    'key, value',
    [
        ('train_cfg.max_iters', 1e5),  # an integral float is accepted
        ('optim_wrapper.optimizer.lr', 3),
        ('model.backbone.momentum', 1),
        ('model.backbone.out_channels', None),
        ('model.backbone.sizes', 'anything'),  # not only numbers: unchecked
        ('train_dataloader.batch_size', 4),
    ])
def test_values_of_the_right_type_pass(key, value):
    cfg = _cfg()
    cfg.model.backbone.type = 'CfgCheckTypedBackbone'
    cfg.merge_from_dict({key: value})
    check_config(cfg, FILE)
