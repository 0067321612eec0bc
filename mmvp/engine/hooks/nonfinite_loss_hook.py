# Copyright (c) mmvp contributors. All rights reserved.
"""Report the updates a non-finite-skipping optimizer wrapper skipped."""
import math
import warnings
from typing import Dict, List, Optional

import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmvp.registry import HOOKS
from ..optim_wrappers.nonfinite_skip_optim_wrapper import (NonFiniteLossError,
                                                           NonFiniteSkipMixin)

__all__ = ['NonFiniteLossHook', 'NonFiniteLossError']

_UNSET = object()
_ADOPTED: Dict[type, type] = {}


def _wrappers(optim_wrapper) -> List[OptimWrapper]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.optim_wrappers.values())
    if not isinstance(optim_wrapper, OptimWrapper):
        raise TypeError('NonFiniteLossHook needs an OptimWrapper (or '
                        f'OptimWrapperDict), got {type(optim_wrapper)}')
    return [optim_wrapper]


def _adopt(wrapper: OptimWrapper, skip_nonfinite: bool,
           max_consecutive_skips: Optional[int]) -> None:
    """Give a plain wrapper the skipping ``update_params`` (configs that
    predate :class:`~mmvp.engine.NonFiniteSkipOptimWrapper`)."""
    cls = type(wrapper)
    if cls not in _ADOPTED:
        _ADOPTED[cls] = type(f'NonFiniteSkip{cls.__name__}',
                             (NonFiniteSkipMixin, cls),
                             dict(__module__=__name__, __doc__=cls.__doc__))
    wrapper.__class__ = _ADOPTED[cls]
    wrapper._init_nonfinite(skip_nonfinite, max_consecutive_skips)


def _as_float(value) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        if value.numel() == 0:
            return None
        return float(value.detach().float().sum())
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _nonfinite_items(outputs) -> Dict[str, float]:
    """The logged values of ``outputs`` that are NaN or Inf."""
    bad = {}
    for key, value in (outputs or {}).items():
        number = _as_float(value)
        if number is not None and not math.isfinite(number):
            bad[key] = number
    return bad


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Log the updates skipped for a NaN/Inf loss, or stop training.

    The skipping itself is done by the optimizer wrapper,
    :class:`~mmvp.engine.NonFiniteSkipOptimWrapper` (or its AMP flavour),
    chosen and configured in ``optim_wrapper`` (``skip_nonfinite``,
    ``max_consecutive_skips``). After every iteration this hook reads the
    wrapper's flags in one transfer and

    * without ``skip_nonfinite``: raises :class:`NonFiniteLossError` naming
      the iteration, the rank(s) and the non-finite loss terms. The update
      was not applied; no checkpoint is written for that iteration (this
      hook runs before ``CheckpointHook``), so the last checkpoint on disk
      is a finite one to resume from or to inspect;
    * with ``skip_nonfinite``: warns with the iteration and the terms, logs
      the running count as ``nonfinite_skipped`` (kept in checkpoints with
      the count of consecutive skips, so both survive a resume), keeps the
      non-finite values out of the logged loss averages and stops as above
      after ``max_consecutive_skips`` skipped iterations in a row.

    Args:
        skip_nonfinite (bool, optional): Deprecated; set
            ``optim_wrapper.skip_nonfinite``. When given it overrides the
            wrapper's setting.
        max_consecutive_skips (int, optional): Deprecated; set
            ``optim_wrapper.max_consecutive_skips``. When given it
            overrides the wrapper's setting.

    A config whose ``optim_wrapper`` is a plain ``OptimWrapper`` or
    ``DeviceAmpOptimWrapper`` still works: the wrapper is given the
    skipping behaviour at the start of training, with a warning.
    """

    priority = 'HIGHEST'  # before RuntimeInfoHook logs and before saving

    def __init__(self, skip_nonfinite=_UNSET, max_consecutive_skips=_UNSET):
        self._overrides = {}
        if skip_nonfinite is not _UNSET:
            self._overrides['skip_nonfinite'] = bool(skip_nonfinite)
        if max_consecutive_skips is not _UNSET:
            if max_consecutive_skips is not None and (not isinstance(
                    max_consecutive_skips, int) or max_consecutive_skips < 1):
                raise ValueError(
                    'NonFiniteLossHook: max_consecutive_skips must be None '
                    f'or an int >= 1, got {max_consecutive_skips!r}')
            self._overrides['max_consecutive_skips'] = max_consecutive_skips
        if self._overrides:
            names = ', '.join(f'optim_wrapper.{k}' for k in self._overrides)
            warnings.warn(
                'NonFiniteLossHook(skip_nonfinite, max_consecutive_skips) is '
                'deprecated: the optimizer wrapper skips non-finite updates '
                f"now; set {names} (optim_wrapper.type="
                "'NonFiniteSkipOptimWrapper') instead.",
                DeprecationWarning,
                stacklevel=2)
        self.num_skipped = 0
        self._consecutive = 0
        self._wrappers: List[NonFiniteSkipMixin] = []

    def before_train(self, runner) -> None:
        self._wrappers = []
        for wrapper in _wrappers(runner.optim_wrapper):
            if not isinstance(wrapper, NonFiniteSkipMixin):
                settings = dict(
                    skip_nonfinite=False, max_consecutive_skips=100)
                settings.update(self._overrides)
                runner.logger.warning(
                    f'optim_wrapper is a {type(wrapper).__name__}: it is '
                    'given the non-finite skipping of '
                    'NonFiniteSkipOptimWrapper for this run. Set '
                    "optim_wrapper.type='NonFiniteSkipOptimWrapper' (or "
                    "'NonFiniteSkipAmpOptimWrapper') in the config.")
                _adopt(wrapper, **settings)
            else:
                for key, value in self._overrides.items():
                    setattr(wrapper, key, value)
            self._wrappers.append(wrapper)
        hub = runner.message_hub
        self.num_skipped = int(hub.get_info('nonfinite_skipped', 0) or 0)
        self._consecutive = int(hub.get_info('nonfinite_consecutive', 0) or 0)

    def _describe(self, outputs, events: List[dict]) -> str:
        """Non-finite terms of every rank (gathered under DDP)."""
        local = _nonfinite_items(outputs)
        totals = [e['loss'] for e in events if e['local']]
        if totals:  # the summed loss the optimizer wrapper was given
            local['total'] = totals[0]
        rank, world_size = get_dist_info()
        per_rank = all_gather_object(local) if world_size > 1 else [local]
        parts = []
        for r, items in enumerate(per_rank):
            if items:
                terms = ', '.join(f'{k}={v}' for k, v in items.items())
                where = f' on rank {r}' if world_size > 1 else ''
                parts.append(f'{terms}{where}')
        return '; '.join(parts) or 'loss not finite'

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        events = []
        for wrapper in self._wrappers:
            events += wrapper.pop_nonfinite_events()
        hub = runner.message_hub
        if not events:
            if self._consecutive:
                self._consecutive = 0
                hub.update_info('nonfinite_consecutive', 0)
            if self.num_skipped:
                hub.update_scalar('train/nonfinite_skipped', self.num_skipped)
            return
        itr = runner.iter + 1
        where = f'iteration {itr}'
        if runner.max_iters:
            where += f' of {runner.max_iters}'
        details = self._describe(outputs, events)
        # the wrapper's settings, read now: another (deprecated) hook may
        # have set them after this one's before_train
        wrapper = self._wrappers[0]
        if not wrapper.skip_nonfinite:
            self._stop(runner, f'Non-finite loss at {where}: {details}.')
        self.num_skipped += 1
        self._consecutive += 1
        hub.update_info('nonfinite_skipped', self.num_skipped)
        hub.update_info('nonfinite_consecutive', self._consecutive)
        hub.update_scalar('train/nonfinite_skipped', self.num_skipped)
        updates = (f' ({len(events)} updates)' if len(events) > 1 else '')
        runner.logger.warning(
            f'Non-finite loss at {where}: {details}. Skipped the update of '
            f'this batch{updates}; {self.num_skipped} batch(es) skipped so '
            'far (skip_nonfinite=True).')
        if isinstance(outputs, dict):
            for key in _nonfinite_items(outputs):
                del outputs[key]
        limit = wrapper.max_consecutive_skips
        if limit is not None and self._consecutive >= limit:
            self._stop(
                runner, f'{self._consecutive} consecutive batches up to '
                f'{where} had a non-finite loss (last: {details}); the '
                'model has probably diverged.')

    @staticmethod
    def _stop(runner, reason: str) -> None:
        last = runner.message_hub.get_info('last_ckpt')
        saved = (f'The last checkpoint is "{last}".'
                 if last else 'No checkpoint was written yet.')
        raise NonFiniteLossError(
            f'{reason} Training stopped; the update of this batch was not '
            f'applied and no checkpoint was written after it. {saved} To '
            'skip such batches instead, set optim_wrapper.skip_nonfinite='
            'True (NonFiniteSkipOptimWrapper).')
