# Copyright (c) mmvp contributors. All rights reserved.
"""Hook configs are checked against their classes before training starts.

MMEngine's CheckpointHook keeps unknown keys and passes them to
``Runner.save_checkpoint`` at the first save, so a misspelled key used to
train with the default interval and then fail having saved nothing.
"""
import pytest
from mmengine.config import Config
from mmengine.hooks import CheckpointHook, EMAHook, Hook, LoggerHook
from mmengine.runner import Runner

from mmvp.engine.runner import SafeCheckpointHook
from mmvp.registry import HOOKS
from mmvp.utils import ConfigError, check_config, register_all_modules
from mmvp.utils.config_args import hook_keys

FILE = 'configs/some_config.py'


@HOOKS.register_module()
class HookArgsParent(Hook):

    def __init__(self, alpha: int = 1):
        self.alpha = alpha


@HOOKS.register_module()
class HookArgsForwarding(HookArgsParent):

    def __init__(self, beta: float = 0.5, **kwargs):
        super().__init__(**kwargs)
        self.beta = beta


@HOOKS.register_module()
class HookArgsStoring(Hook):

    def __init__(self, gamma: int = 0, **kwargs):
        self.options = kwargs  # used somewhere the check cannot follow


class ExtraSaveRunner(Runner):

    def save_checkpoint(self,
                        out_dir,
                        filename,
                        file_client_args=None,
                        save_optimizer=True,
                        save_param_scheduler=True,
                        meta=None,
                        by_epoch=True,
                        backend_args=None,
                        compress=False):
        pass


def _cfg(**kwargs):
    register_all_modules()
    cfg = dict(
        runner_type='SafeCheckpointRunner',
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=10),
            checkpoint=dict(type='SafeCheckpointHook', interval=5)),
        custom_hooks=[])
    cfg.update(kwargs)
    return Config(cfg)


def test_checkpoint_hook_keys_stop_at_save_checkpoint():
    keys = hook_keys(CheckpointHook)
    assert 'interval' in keys and 'save_begin' in keys
    assert 'priority' in keys and 'type' in keys
    # Runner.save_checkpoint takes no argument the hook does not pass
    assert 'intervl' not in keys and 'compress' not in keys
    assert hook_keys(SafeCheckpointHook) == keys
    # a runner whose save_checkpoint takes more accepts those keys too
    assert 'compress' in hook_keys(CheckpointHook, ExtraSaveRunner)


def test_hook_keys_follow_kwargs_to_the_parent():
    keys = hook_keys(HookArgsForwarding)
    assert {'alpha', 'beta'} <= set(keys)
    assert hook_keys(LoggerHook) is not None
    # kwargs kept by the hook itself (EMAHook builds its EMA model from
    # them) cannot be followed: every key is accepted
    assert hook_keys(HookArgsStoring) is None
    assert hook_keys(EMAHook) is None


def test_misspelled_checkpoint_key_is_refused_before_training():
    cfg = _cfg()
    cfg.merge_from_dict({'default_hooks.checkpoint.intervl': 2})
    with pytest.raises(ConfigError) as info:
        check_config(cfg, FILE)
    msg = str(info.value)
    assert "Unknown key 'intervl' in `default_hooks.checkpoint`" in msg
    assert 'some_config.py' in msg
    assert "SafeCheckpointHook does not accept it. Did you mean 'interval'?"\
        in msg
    assert 'save_begin' in msg  # the accepted keys are listed


def test_custom_hook_keys_and_forwarded_keys():
    cfg = _cfg(custom_hooks=[
        dict(type='HookArgsForwarding', alpha=2, beta=0.1, priority=30)
    ])
    check_config(cfg, FILE)
    cfg.custom_hooks.append(dict(type='HookArgsForwarding', alpah=2))
    with pytest.raises(
            ConfigError,
            match=r"'alpah' in `custom_hooks\[1\]`.*Did you mean 'alpha'"):
        check_config(cfg, FILE)


def test_unfollowable_kwargs_are_not_refused():
    cfg = _cfg(custom_hooks=[
        dict(type='HookArgsStoring', anything=1),
        dict(type='EMAHook', momentum=0.001)
    ])
    check_config(cfg, FILE)


def test_checkpoint_keys_of_a_custom_runner():
    cfg = _cfg()
    cfg.pop('runner_type')
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', compress=True)
    with pytest.raises(ConfigError, match="'compress'"):
        check_config(cfg, FILE)  # MMEngine's Runner has no such argument
    cfg.runner_type = ExtraSaveRunner
    check_config(cfg, FILE)


@pytest.mark.parametrize('key, value, expected', [
    ('default_hooks.logger.interval', '10x', 'an int'),
    ('default_hooks.checkpoint.by_epoch', 'no', 'a bool'),
    ('default_hooks.checkpoint.interval', 2.5, 'an int'),
])
def test_hook_values_of_the_wrong_type(key, value, expected):
    cfg = _cfg()
    cfg.merge_from_dict({key: value})
    with pytest.raises(ConfigError) as info:
        check_config(cfg, FILE)
    assert str(
        info.value).startswith(f'{key}: expected {expected}, got {value!r}')


def test_shipped_default_hooks_pass():
    register_all_modules()
    cfg = Config.fromfile('configs/_base_/default_runtime.py')
    check_config(cfg, 'configs/_base_/default_runtime.py')
