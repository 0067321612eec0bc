# Copyright (c) mmvp contributors. All rights reserved.
"""Refuse a dataloader that yields no batch, saying why."""
from typing import Optional

from mmengine.dist import get_world_size
from mmengine.hooks import Hook
from mmengine.runner import BaseLoop

from mmvp.registry import HOOKS
from mmvp.utils.config_check import ConfigError

__all__ = ['DataloaderCheckHook', 'empty_loader_message']


def empty_loader_message(loader, split: str) -> Optional[str]:
    """Why ``loader`` yields no batch, or None when it yields some.

    Args:
        loader: A built ``torch.utils.data.DataLoader``.
        split (str): ``'train'``, ``'val'`` or ``'test'``, named in the
            message with its config key (``test_dataloader``).

    Returns:
        str | None: The message, naming the number of clips, the batch size
        and the settings to change.
    """
    try:
        if len(loader) > 0:
            return None
        clips = len(loader.dataset)
    except TypeError:  # iterable datasets have no length
        return None
    key = f'{split}_dataloader'
    if clips == 0:
        return (f'the {split} set is empty (0 clips): check {key}.dataset '
                '(data_root and the split settings)')
    batch_size = getattr(loader, 'batch_size', None)
    if batch_size is None or not getattr(loader, 'drop_last', False):
        return (f'the {split} dataloader yields no batch from {clips} clips; '
                f'check {key}.sampler and {key}.batch_sampler')
    world = get_world_size()
    where = ''
    if world > 1:
        try:
            where = (f' ({len(loader.sampler)} per process over {world} '
                     'processes)')
        except TypeError:
            where = f' (over {world} processes)'
    return (f'the {split} set has {clips} clips{where}, fewer than '
            f'batch_size={batch_size} with drop_last=True; set '
            f'{key}.drop_last=False or a smaller batch_size')


@HOOKS.register_module()
class DataloaderCheckHook(Hook):
    """Stop before a loop runs when its dataloader yields no batch.

    A test set smaller than ``batch_size`` with ``drop_last=True`` yields no
    batch, and the metrics then only report that no sequence was
    processed; an empty training loader makes MMEngine's iteration loop
    wait forever. This hook checks the loaders the Runner has built, before
    anything runs: the training and validation loaders in ``before_train``
    (MMEngine builds both before training starts), the validation loader
    in ``before_val`` and the test loader in ``before_test``. It raises
    :class:`mmvp.utils.ConfigError`, e.g. ``the test set has 3 clips, fewer
    than batch_size=4 with drop_last=True; set test_dataloader.drop_last=
    False or a smaller batch_size``.

    Part of ``default_hooks`` in ``configs/_base_/default_runtime.py``.
    """

    priority = 'VERY_HIGH'

    @staticmethod
    def _check(loop, split: str) -> None:
        if not isinstance(loop, BaseLoop):
            return  # not built: nothing will run
        message = empty_loader_message(loop.dataloader, split)
        if message is not None:
            raise ConfigError(message)

    def before_train(self, runner) -> None:
        # Runner.train() builds the validation loop before the hooks run
        self._check(runner.train_loop, 'train')
        self._check(getattr(runner, '_val_loop', None), 'val')

    def before_val(self, runner) -> None:
        self._check(runner.val_loop, 'val')

    def before_test(self, runner) -> None:
        self._check(runner.test_loop, 'test')
