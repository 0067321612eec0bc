# Copyright (c) mmvp contributors. All rights reserved.
"""Stop on (or skip) non-finite losses before they reach the weights."""
import math
from typing import Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmvp.registry import HOOKS

__all__ = [
    'NonFiniteLossHook', 'NonFiniteLossError', 'NonFiniteGuardMixin',
    'install_nonfinite_guard'
]


class NonFiniteLossError(FloatingPointError):
    """A training loss was NaN or Inf."""


class NonFiniteGuardMixin:
    """``update_params`` that applies no update for a non-finite loss.

    Mixed into the class of the runner's optimizer wrapper by
    :func:`install_nonfinite_guard`. Before the backward pass it checks
    that the loss is finite; under DDP the flag is all-reduced (max) first,
    so every rank skips together and no rank waits for a gradient
    all-reduce that the others never start. A skipped update does no
    backward pass and no optimizer step; the gradients accumulated so far
    are zeroed (with gradient accumulation the current window is dropped)
    and the accumulation counter advances as if the batch had been used.
    Each skip is recorded for :class:`NonFiniteLossHook`.
    """

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        local_bad = not bool(torch.isfinite(loss.detach()).all())
        any_bad = local_bad
        if get_dist_info()[1] > 1:
            flag = torch.tensor([float(local_bad)], device=loss.device)
            torch_dist.all_reduce(flag, op=torch_dist.ReduceOp.MAX)
            any_bad = bool(flag.item())
        if not any_bad:
            super().update_params(
                loss, step_kwargs=step_kwargs, zero_kwargs=zero_kwargs)
            return
        events = self.__dict__.setdefault('_nonfinite_events', [])
        events.append(dict(local=local_bad, loss=float(loss.detach().sum())))
        self._inner_count += 1
        self.zero_grad(**(zero_kwargs or {}))


_GUARDED_CLASSES: Dict[type, type] = {}


def _guarded_class(cls: type) -> type:
    if issubclass(cls, NonFiniteGuardMixin):
        return cls
    if cls not in _GUARDED_CLASSES:
        _GUARDED_CLASSES[cls] = type(
            f'NonFiniteGuarded{cls.__name__}', (NonFiniteGuardMixin, cls),
            dict(__module__=__name__, __doc__=cls.__doc__))
    return _GUARDED_CLASSES[cls]


def install_nonfinite_guard(optim_wrapper) -> None:
    """Give ``optim_wrapper`` (any :class:`OptimWrapper` subclass, e.g.
    the AMP wrappers, or each wrapper of an :class:`OptimWrapperDict`) the
    :class:`NonFiniteGuardMixin` behaviour, in place.

    The object's class becomes a subclass of its class, so ``isinstance``
    checks, its state and its checkpoint format are unchanged.
    """
    if isinstance(optim_wrapper, OptimWrapperDict):
        for wrapper in optim_wrapper.optim_wrappers.values():
            install_nonfinite_guard(wrapper)
        return
    if not isinstance(optim_wrapper, OptimWrapper):
        raise TypeError('NonFiniteLossHook needs an OptimWrapper (or '
                        f'OptimWrapperDict), got {type(optim_wrapper)}')
    optim_wrapper.__class__ = _guarded_class(type(optim_wrapper))
    optim_wrapper.__dict__.setdefault('_nonfinite_events', [])


def _pop_events(optim_wrapper) -> List[dict]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        events = []
        for wrapper in optim_wrapper.optim_wrappers.values():
            events += _pop_events(wrapper)
        return events
    events = optim_wrapper.__dict__.get('_nonfinite_events') or []
    optim_wrapper.__dict__['_nonfinite_events'] = []
    return events


def _as_float(value) -> Optional[float]:
    if isinstance(value, torch.Tensor):
        if value.numel() == 0:
            return None
        return float(value.detach().float().sum()) if value.numel() > 1 \
            else float(value.detach())
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
    """Stop training at a NaN/Inf loss, or skip such batches.

    The check runs *before* the update (:class:`NonFiniteGuardMixin`,
    installed into the runner's optimizer wrapper in ``before_train``;
    this also covers models such as ``VideoPredictor`` that call
    ``optim_wrapper.update_params`` from their own ``train_step``, once or
    twice per iteration), so a non-finite loss never reaches the weights:

    * ``skip_nonfinite=False`` (default): training stops with
      :class:`NonFiniteLossError` naming the iteration, the rank(s) and the
      non-finite loss terms. The weights are those after the previous
      iteration; no checkpoint is written for the failing iteration (this
      hook raises before ``CheckpointHook`` runs), so the last checkpoint on
      disk is a finite one to resume from or to inspect.
    * ``skip_nonfinite=True``: the batch's update is skipped on every rank,
      a warning names the iteration and terms, and the running count is
      logged as ``nonfinite_skipped`` (and kept in checkpoints, so it
      survives a resume). The non-finite values are kept out of the
      logged loss averages. More than ``max_consecutive_skips`` skips in a
      row stop training as above.

    Args:
        skip_nonfinite (bool): Skip non-finite batches instead of stopping.
            Defaults to False.
        max_consecutive_skips (int, optional): With ``skip_nonfinite``,
            stop after this many consecutive skipped iterations (the model
            has probably diverged). None never stops. Defaults to 100.
    """

    priority = 'HIGHEST'  # before RuntimeInfoHook logs and before saving

    def __init__(self,
                 skip_nonfinite: bool = False,
                 max_consecutive_skips: Optional[int] = 100):
        if max_consecutive_skips is not None and max_consecutive_skips < 1:
            raise ValueError('max_consecutive_skips must be None or >= 1, '
                             f'got {max_consecutive_skips}')
        self.skip_nonfinite = bool(skip_nonfinite)
        self.max_consecutive_skips = max_consecutive_skips
        self.num_skipped = 0
        self._consecutive = 0

    def before_train(self, runner) -> None:
        install_nonfinite_guard(runner.optim_wrapper)
        self.num_skipped = int(
            runner.message_hub.get_info('nonfinite_skipped', 0) or 0)
        self._consecutive = 0

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
        events = _pop_events(runner.optim_wrapper)
        if not events:
            self._consecutive = 0
            if self.num_skipped:
                runner.message_hub.update_scalar('train/nonfinite_skipped',
                                                 self.num_skipped)
            return
        itr = runner.iter + 1
        where = f'iteration {itr}'
        if runner.max_iters:
            where += f' of {runner.max_iters}'
        details = self._describe(outputs, events)
        if not self.skip_nonfinite:
            self._stop(runner, f'Non-finite loss at {where}: {details}.')
        self.num_skipped += 1
        self._consecutive += 1
        runner.message_hub.update_info('nonfinite_skipped', self.num_skipped)
        runner.message_hub.update_scalar('train/nonfinite_skipped',
                                         self.num_skipped)
        updates = (f' ({len(events)} updates)' if len(events) > 1 else '')
        runner.logger.warning(
            f'Non-finite loss at {where}: {details}. Skipped the update of '
            f'this batch{updates}; {self.num_skipped} batch(es) skipped so '
            'far (skip_nonfinite=True).')
        if isinstance(outputs, dict):
            for key in _nonfinite_items(outputs):
                del outputs[key]
        if self.max_consecutive_skips is not None and \
                self._consecutive >= self.max_consecutive_skips:
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
            'skip such batches instead, set default_hooks.nonfinite_loss.'
            'skip_nonfinite=True (NonFiniteLossHook).')
