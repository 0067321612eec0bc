# Copyright (c) mmvp contributors. All rights reserved.
"""Random-number-generator states in checkpoints, for exact resumption."""
import functools
import random
from typing import List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import IterBasedTrainLoop

from mmvp.registry import HOOKS

__all__ = ['RNGStateHook', 'capture_rng_state', 'restore_rng_state']

RNG_STATE_VERSION = 1


def capture_rng_state() -> dict:
    """The global RNG states of this process as plain data.

    Returns a dict with ``torch`` (CPU generator, uint8 tensor), ``cuda``
    (one uint8 tensor per visible GPU; only once CUDA is initialised),
    ``numpy`` (the legacy ``np.random`` Mersenne Twister as ints) and
    ``python`` (``random``'s state as a list of ints). Everything loads
    with ``torch.load(weights_only=True)`` without extra allow-listing.
    """
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    version, internal, gauss_next = random.getstate()
    state = dict(
        torch=torch.get_rng_state(),
        numpy=dict(
            kind=str(kind),
            keys=[int(k) for k in keys],
            pos=int(pos),
            has_gauss=int(has_gauss),
            cached_gaussian=float(cached)),
        python=dict(
            version=int(version),
            state=[int(v) for v in internal],
            gauss_next=None if gauss_next is None else float(gauss_next)))
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = [s.cpu() for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng_state(state: dict) -> List[str]:
    """Set the global RNGs from :func:`capture_rng_state`'s output.

    Returns:
        list[str]: The generators that were *not* restored (e.g. ``cuda``
        when the number of visible GPUs changed).
    """
    skipped = []
    if 'torch' in state:
        torch.set_rng_state(
            torch.as_tensor(state['torch']).cpu().to(torch.uint8))
    np_state = state.get('numpy')
    if np_state is not None:
        np.random.set_state(
            (np_state['kind'], np.asarray(np_state['keys'], dtype=np.uint32),
             int(np_state['pos']), int(np_state['has_gauss']),
             float(np_state['cached_gaussian'])))
    py_state = state.get('python')
    if py_state is not None:
        random.setstate(
            (int(py_state['version']),
             tuple(int(v) for v in py_state['state']), py_state['gauss_next']))
    cuda = state.get('cuda')
    if cuda is not None:
        if torch.cuda.is_available() and torch.cuda.device_count() == len(
                cuda):
            torch.cuda.set_rng_state_all([s.cpu() for s in cuda])
        else:
            skipped.append('cuda')
    return skipped


class _RestoreBeforeFetch:
    """Iterator proxy: after ``skip`` batches (the resume advance of
    ``IterBasedTrainLoop``), restore the RNGs before the next batch is
    fetched, then hand the loop its own iterator back."""

    def __init__(self, loop, iterator, skip: int, restore):
        self._loop = loop
        self._iterator = iterator
        self._skip = skip
        self._count = 0
        self._restore = restore

    def __iter__(self):
        return self

    def __next__(self):
        if self._count >= self._skip:
            self._loop.dataloader_iterator = self._iterator
            self._restore()
            return next(self._iterator)
        self._count += 1
        return next(self._iterator)

    def __getattr__(self, name):
        if name.startswith('__') or name == '_iterator':
            raise AttributeError(name)
        return getattr(self._iterator, name)


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Save the RNG states in every checkpoint; restore them on resume.

    With this hook a run resumed from its last checkpoint continues with
    the random streams an uninterrupted run had at that point, so it ends
    with the same weights (bitwise on the same machine and software).

    What is saved (``checkpoint['rng_state']``): torch's CPU generator,
    the CUDA generators (when CUDA is in use), ``np.random`` and Python's
    ``random``, for every rank (gathered when a checkpoint is due) - see
    :func:`capture_rng_state`. Generators owned by objects are not global
    state and must be reproducible by themselves: the scheduled-sampling
    masks come from a generator seeded by ``(sampling_seed, iteration,
    rank)``, ``InfiniteSampler`` / ``DefaultSampler`` shuffle with their
    own generator seeded by ``randomness.seed`` (keep a fixed seed, the
    default ``seed=0``; with ``seed=None`` the sampler's seed of a resumed
    run differs), and MMEngine seeds each dataloader worker with
    ``seed + num_workers * rank + worker_id`` (numpy, random and torch)
    when it starts.

    Order of a resume: MMEngine replays (re-loads) the batches already
    trained to bring the sampler and the workers' generators to where they
    were; the main process's generators are restored *after* that replay,
    right before the first new batch is fetched, because with
    ``num_workers=0`` the replay itself draws random numbers. Restoring
    happens only when resuming (``resume=True``), not for ``load_from``.

    Validation does not move the training streams (``neutral_validation``):
    the states are captured before and restored after every validation, so
    a run validates at the same iterations whether or not it was
    interrupted, and a checkpoint saved during validation (``save_best``)
    stores the pre-validation states.

    Args:
        restore (bool): Restore the states on resume. Defaults to True.
        neutral_validation (bool): Restore the states after validation.
            Defaults to True.
    """

    priority = 'VERY_HIGH'  # gather states before CheckpointHook saves

    def __init__(self, restore: bool = True, neutral_validation: bool = True):
        self.restore = restore
        self.neutral_validation = neutral_validation
        self._pending: Optional[dict] = None
        self._val_states: Optional[List[dict]] = None
        self._gathered = None  # ((iter, epoch), [state per rank])

    # -- saving ----------------------------------------------------------
    @staticmethod
    def _position(runner):
        return (runner.iter, runner.epoch)

    def _checkpoint_due(self, runner) -> bool:
        """Whether an iteration-based CheckpointHook saves at this
        iteration (same rule as ``CheckpointHook.after_train_iter``)."""
        for hook in runner.hooks:
            if not isinstance(hook, CheckpointHook) or hook.by_epoch:
                continue
            if hook.every_n_train_iters(
                    runner, hook.interval,
                    hook.save_begin) or (hook.save_last
                                         and hook.is_last_train_iter(runner)):
                return True
        return False

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        # every rank's states go into rank 0's checkpoint
        if get_dist_info()[1] > 1 and self._checkpoint_due(runner):
            self._gathered = (self._position(runner),
                              all_gather_object(capture_rng_state()))

    def after_train_epoch(self, runner) -> None:
        if get_dist_info()[1] > 1:
            self._gathered = (self._position(runner),
                              all_gather_object(capture_rng_state()))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self._val_states is not None:
            states = self._val_states  # saved while validating
        elif self._gathered is not None and \
                self._gathered[0] == self._position(runner):
            states = self._gathered[1]
        else:
            states = [capture_rng_state()]
        checkpoint['rng_state'] = dict(
            version=RNG_STATE_VERSION,
            world_size=get_dist_info()[1],
            ranks=list(states))

    # -- validation ------------------------------------------------------
    def before_val(self, runner) -> None:
        if not self.neutral_validation:
            return
        own = capture_rng_state()
        if get_dist_info()[1] > 1:
            self._val_states = all_gather_object(own)
        else:
            self._val_states = [own]

    def after_val(self, runner) -> None:
        if self._val_states is None:
            return
        restore_rng_state(self._val_states[get_dist_info()[0]])
        self._val_states = None

    # -- resuming --------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if not self.restore or not getattr(runner, '_resume', False):
            return
        saved = checkpoint.get('rng_state')
        if not isinstance(saved, dict) or not saved.get('ranks'):
            runner.logger.warning(
                'The checkpoint holds no RNG states (written without '
                'RNGStateHook); the resumed run draws different random '
                'numbers than an uninterrupted one would.')
            return
        rank, world_size = get_dist_info()
        ranks = saved['ranks']
        same_world = saved.get('world_size', len(ranks)) == world_size
        if same_world and rank < len(ranks):
            self._pending = ranks[rank]
        elif same_world:
            runner.logger.warning(
                f'The checkpoint holds no RNG states of rank {rank} (they '
                'were not gathered for this save); this rank keeps freshly '
                'seeded RNGs.')
        else:
            runner.logger.warning(
                f'The checkpoint holds the RNG states of a run with world '
                f'size {saved.get("world_size")}, this run has '
                f'{world_size}; every rank keeps freshly seeded RNGs.')

    def before_train(self, runner) -> None:
        if self._pending is None:
            return
        loop = runner.train_loop
        skip = runner.iter
        iterator = getattr(loop, 'dataloader_iterator', None)
        if isinstance(loop, IterBasedTrainLoop) and skip > 0 and \
                iterator is not None:
            loop.dataloader_iterator = _RestoreBeforeFetch(
                loop, iterator, skip,
                functools.partial(self._apply_pending, runner))
        else:
            self._apply_pending(runner)

    def _apply_pending(self, runner=None) -> None:
        state, self._pending = self._pending, None
        if state is None:
            return
        skipped = restore_rng_state(state)
        if skipped and runner is not None:
            runner.logger.warning('RNG states not restored (device count '
                                  f'changed): {", ".join(skipped)}')
