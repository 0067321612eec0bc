# Copyright (c) mmvp contributors. All rights reserved.
"""A loader that yields no batch stops the run with the reason."""
import pytest
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader

from mmvp.engine.hooks import DataloaderCheckHook, empty_loader_message
from mmvp.utils import ConfigError


class _Loop(BaseLoop):

    def run(self):
        pass


class _Runner:

    def __init__(self, **loops):
        for split in ('train', 'val', 'test'):
            loop = loops.get(split)
            built = _Loop(self, loop) if loop is not None else None
            setattr(self, f'{split}_loop', built)
        self._val_loop = self.val_loop


def _loader(clips, batch_size, drop_last):
    return DataLoader(
        list(range(clips)), batch_size=batch_size, drop_last=drop_last)


def test_message_names_clips_batch_size_and_the_fix():
    msg = empty_loader_message(_loader(3, 4, True), 'test')
    assert msg == ('the test set has 3 clips, fewer than batch_size=4 with '
                   'drop_last=True; set test_dataloader.drop_last=False or '
                   'a smaller batch_size')
    assert empty_loader_message(_loader(3, 4, False), 'test') is None
    assert empty_loader_message(_loader(4, 4, True), 'test') is None
    assert 'the val set is empty (0 clips)' in empty_loader_message(
        _loader(0, 4, False), 'val')


def test_hook_raises_before_test():
    hook = DataloaderCheckHook()
    hook.before_test(_Runner(test=_loader(5, 4, True)))  # one full batch
    with pytest.raises(ConfigError, match='the test set has 3 clips'):
        hook.before_test(_Runner(test=_loader(3, 4, True)))


def test_hook_checks_val_loader_before_training():
    hook = DataloaderCheckHook()
    runner = _Runner(train=_loader(8, 2, False), val=_loader(2, 8, True))
    with pytest.raises(
            ConfigError,
            match='the val set has 2 clips, fewer than '
            'batch_size=8 with drop_last=True; set val_dataloader'):
        hook.before_train(runner)
    with pytest.raises(ConfigError, match='the train set is empty'):
        hook.before_train(_Runner(train=_loader(0, 2, False)))
    hook.before_train(_Runner(train=_loader(8, 2, False)))  # no val loop
