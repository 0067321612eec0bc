# Copyright (c) mmvp contributors. All rights reserved.
"""Optimizer wrappers that never apply the update of a NaN/Inf loss."""
from typing import Dict, List, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from mmvp.registry import OPTIM_WRAPPERS
from .device_amp_optim_wrapper import DeviceAmpOptimWrapper

__all__ = [
    'NonFiniteLossError', 'NonFiniteSkipMixin', 'NonFiniteSkipOptimWrapper',
    'NonFiniteSkipAmpOptimWrapper'
]

# Updates whose flags are kept on the device before the wrapper reads
# them itself (when nothing, e.g. NonFiniteLossHook, collects them).
_MAX_PENDING = 1000


class NonFiniteLossError(FloatingPointError):
    """A training loss was NaN or Inf."""


class NonFiniteSkipMixin:
    """``update_params`` that applies no update for a NaN/Inf loss, without
    waiting for the device.

    Whether the loss is finite is computed on the loss's device (under DDP
    all-reduced with ``max``, so every rank skips together). At an
    optimizer step a non-finite loss's update is skipped:

    * on the CPU the host reads the flag and does not step: nothing runs
      ahead of the host there, so reading it costs nothing;
    * on an accelerator the flag stays on the device. A fused optimizer
      (``fused=True``, as in the configs) is given it as ``found_inf`` and
      skips the whole update in its kernel (parameters, moments and step
      count), at no cost. Otherwise the parameters, the optimizer state
      and the AMP loss scaler are copied before the step and put back
      with ``torch.where`` after it: about three passes over parameters
      and state, 2-4x an unfused Adam update (measured on a CPU, where it
      is not used: 2.9M parameters, foreach Adam, one thread, 9 -> 18 ms
      and on a busier machine 32 -> 100 ms). The host reads the flag
      only when the step creates state (the first step) or keeps state
      on another device (Adam's step counts on the CPU in a GPU run
      without ``fused`` or ``capturable``).

    Between optimizer steps (gradient accumulation) a bad batch zeroes the
    gradients accumulated so far: the window is dropped.

    The backward pass runs for every loss, so no rank waits for a gradient
    all-reduce the others skip. The flags of all updates are kept on the
    device until :meth:`pop_nonfinite_events` reads them in one transfer;
    :class:`~mmvp.engine.NonFiniteLossHook` does so once per iteration,
    after the step is queued and where MMEngine reads the logged losses
    anyway, and logs the skipped batches or stops training.

    Args:
        skip_nonfinite (bool): Go on training after a non-finite loss (its
            update is skipped and counted). False stops training with
            :class:`NonFiniteLossError` at the end of that iteration, the
            update not applied. Defaults to False.
        max_consecutive_skips (int, optional): With ``skip_nonfinite``,
            stop after this many consecutive iterations with a skipped
            update (the model has probably diverged). None never stops.
            Defaults to 100.
    """

    def __init__(self,
                 skip_nonfinite: bool = False,
                 max_consecutive_skips: Optional[int] = 100,
                 **kwargs):
        super().__init__(**kwargs)
        self._init_nonfinite(skip_nonfinite, max_consecutive_skips)

    def _init_nonfinite(self, skip_nonfinite: bool,
                        max_consecutive_skips: Optional[int]) -> None:
        if max_consecutive_skips is not None and (
                isinstance(max_consecutive_skips, bool)
                or not isinstance(max_consecutive_skips, int)
                or max_consecutive_skips < 1):
            raise ValueError(
                f'{type(self).__name__}: max_consecutive_skips must be None '
                f'or an int >= 1, got {max_consecutive_skips!r}')
        self.skip_nonfinite = bool(skip_nonfinite)
        self.max_consecutive_skips = max_consecutive_skips
        self._nonfinite_pending: List[torch.Tensor] = []
        self._nonfinite_events: List[dict] = []

    def _nonfinite_flags(self, loss: torch.Tensor) -> torch.Tensor:
        """``[local_bad, any_bad, loss_sum]`` on the loss's device."""
        loss = loss.detach()
        local_bad = (~torch.isfinite(loss).all()).float()
        any_bad = local_bad
        if get_dist_info()[1] > 1:
            any_bad = local_bad.clone()
            torch_dist.all_reduce(any_bad, op=torch_dist.ReduceOp.MAX)
        return torch.stack([local_bad, any_bad, loss.float().sum()])

    def update_params(self,
                      loss: torch.Tensor,
                      step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        flags = self._nonfinite_flags(loss)
        self._nonfinite_pending.append(flags)
        if len(self._nonfinite_pending) >= _MAX_PENDING:
            self._read_pending()
        bad = flags[1] > 0
        self.backward(self.scale_loss(loss))
        if self.should_update():
            self._guarded_step(bad, **(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))
        else:  # a bad batch drops the accumulation window so far
            for group in self.optimizer.param_groups:
                for param in group['params']:
                    if param.grad is not None:
                        param.grad.masked_fill_(bad, 0)

    def _snapshot(self) -> tuple:
        """The parameters, the optimizer state (shallow) and the tensors a
        step may change in place, with copies of those tensors."""
        params = [p for g in self.optimizer.param_groups for p in g['params']]
        state = {
            p: dict(self.optimizer.state[p])
            for p in params if p in self.optimizer.state
        }
        scaler = getattr(self, 'loss_scaler', None)
        tensors = params + [
            v for s in state.values()
            for v in s.values() if isinstance(v, torch.Tensor)
        ] + [
            getattr(scaler, name) for name in ('_scale', '_growth_tracker')
            if isinstance(getattr(scaler, name, None), torch.Tensor)
        ]
        with torch.no_grad():
            copies = [t.detach().clone() for t in tensors]
        return params, state, tensors, copies

    def _state_kept(self, params, state) -> bool:
        """Whether the step changed the state only inside its tensors."""
        for param in params:
            now = self.optimizer.state.get(param, {})
            old = state.get(param, {})
            if now.keys() != old.keys():
                return False
            for key, value in now.items():
                if value is not old[key] and (isinstance(value, torch.Tensor)
                                              or value != old[key]):
                    return False
        return True

    #: Read the flag on the host and skip ``step`` (None: on the CPU).
    _host_check: Optional[bool] = None

    @torch.no_grad()
    def _guarded_step(self, bad: torch.Tensor, **kwargs) -> None:
        optimizer = self.optimizer
        host = self._host_check
        if host is None:
            host = bad.device.type == 'cpu'
        if host:
            if not bool(bad):
                with torch.enable_grad():
                    self.step(**kwargs)
            return
        if getattr(self, 'loss_scaler', None) is None and \
                getattr(optimizer, '_step_supports_amp_scaling', False) and \
                optimizer.defaults.get('fused'):
            # the fused kernels skip the update, step count included; a
            # first step, which creates the state, asks the host instead
            if any(p not in optimizer.state for g in optimizer.param_groups
                   for p in g['params'] if p.grad is not None):
                if not bool(bad):
                    self.step(**kwargs)
                return
            optimizer.found_inf = bad.float()
            try:
                self.step(**kwargs)
            finally:
                del optimizer.found_inf
            return
        params, state, tensors, copies = self._snapshot()
        with torch.enable_grad():
            self.step(**kwargs)
        if self._state_kept(params, state) and all(t.device == bad.device
                                                   for t in tensors):
            for tensor, old in zip(tensors, copies):
                tensor.copy_(torch.where(bad, old, tensor))
            return
        if not bool(bad):  # the step made or moved state: ask the host
            return
        copy_of = {id(t): c for t, c in zip(tensors, copies)}
        for tensor, old in zip(tensors, copies):
            tensor.copy_(old)
        for param in params:
            if param in state:
                optimizer.state[param] = {
                    k: copy_of.get(id(v), v)
                    for k, v in state[param].items()
                }
            else:
                optimizer.state.pop(param, None)

    def _read_pending(self) -> None:
        if not self._nonfinite_pending:
            return
        rows = torch.stack(self._nonfinite_pending).tolist()
        self._nonfinite_pending = []
        for local_bad, any_bad, loss in rows:
            if any_bad:
                self._nonfinite_events.append(
                    dict(local=bool(local_bad), loss=loss))
        if len(self._nonfinite_events) >= _MAX_PENDING:
            print_log(
                f'{type(self).__name__}: {len(self._nonfinite_events)} '
                'updates with a non-finite loss were skipped and nothing '
                'reported them; add NonFiniteLossHook to the hooks.',
                logger='current',
                level=30)
            self._nonfinite_events = self._nonfinite_events[-1:]

    def pop_nonfinite_events(self) -> List[dict]:
        """The skipped updates since the last call, read from the device
        in one transfer: ``dict(local=bool, loss=float)`` each, ``local``
        whether this rank's own loss was non-finite, ``loss`` the summed
        loss this rank was given."""
        self._read_pending()
        events, self._nonfinite_events = self._nonfinite_events, []
        return events


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipOptimWrapper(NonFiniteSkipMixin, OptimWrapper):
    """:class:`~mmengine.optim.OptimWrapper` that skips the update of a
    NaN/Inf loss on the device (see :class:`NonFiniteSkipMixin`).

    Args:
        skip_nonfinite, max_consecutive_skips: See
            :class:`NonFiniteSkipMixin`.
        **kwargs: Passed to :class:`~mmengine.optim.OptimWrapper`.
    """


@OPTIM_WRAPPERS.register_module()
class NonFiniteSkipAmpOptimWrapper(NonFiniteSkipMixin, DeviceAmpOptimWrapper):
    """:class:`~mmvp.engine.DeviceAmpOptimWrapper` (mixed precision on GPUs
    and CPUs) that skips the update of a NaN/Inf loss on the device (see
    :class:`NonFiniteSkipMixin`); a skipped update leaves the loss scaler
    as it was.

    Args:
        skip_nonfinite, max_consecutive_skips: See
            :class:`NonFiniteSkipMixin`.
        **kwargs: Passed to :class:`~mmvp.engine.DeviceAmpOptimWrapper`.
    """
