# Copyright (c) mmvp contributors. All rights reserved.
"""A Runner whose checkpoints survive being killed at any moment."""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Optional, Union

import torch
from mmengine.dist import master_only
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, find_latest_checkpoint, load_state_dict

from mmvp.registry import RUNNERS
from mmvp.utils.atomic_io import (commit_temp_file, remove_stale_temps,
                                  temp_path_for)
from mmvp.utils.checkpoint import check_checkpoint_compatibility, safe_load

__all__ = [
    'SafeCheckpointRunner', 'NonFiniteWeightsError', 'is_local_path',
    'check_finite_weights'
]


class NonFiniteWeightsError(FloatingPointError):
    """The model holds NaN or Inf weights; no checkpoint is written."""


def is_local_path(path: str,
                  file_client_args: Optional[dict] = None,
                  backend_args: Optional[dict] = None) -> bool:
    """Whether MMEngine would write ``path`` to the local disk."""
    if '://' in str(path):
        return False
    for args in (file_client_args, backend_args):
        if args and args.get('backend', 'local') not in ('local', 'disk'):
            return False
    return True


def check_finite_weights(model: torch.nn.Module,
                         what: str,
                         hint: str = '') -> None:
    """Raise :class:`NonFiniteWeightsError` naming the first parameter of
    ``model`` with a NaN or Inf value."""
    if is_model_wrapper(model):
        model = model.module
    for name, param in model.named_parameters():
        if param.is_floating_point() and not torch.isfinite(param).all():
            bad = int((~torch.isfinite(param.detach())).sum())
            raise NonFiniteWeightsError(
                f'Refusing to write {what}: parameter "{name}" has {bad} '
                f'non-finite value(s) (NaN/Inf) of {param.numel()}; training '
                f'has diverged.{hint}')


@RUNNERS.register_module()
class SafeCheckpointRunner(Runner):
    """:class:`~mmengine.runner.Runner` with safe checkpoint files.

    Selected with ``runner_type = 'SafeCheckpointRunner'`` (the default in
    ``configs/_base_/default_runtime.py``); the tools build it through the
    ``RUNNERS`` registry. Compared with MMEngine's Runner:

    * :meth:`save_checkpoint` writes a local checkpoint to a hidden
      temporary file in the same folder, ``fsync``-s it and renames it into
      place (:mod:`mmvp.utils.atomic_io`): a process killed while saving
      leaves the previous files intact, never a truncated ``.pth``.
      Remote URIs (``s3://`` etc.) are written by MMEngine as before.
    * :meth:`save_checkpoint` refuses to write a model with NaN/Inf
      parameters (:class:`NonFiniteWeightsError`), so the last checkpoint
      on disk is always a usable one.
    * :meth:`load_checkpoint` (used by ``load_from``, ``resume`` and
      ``tools/test.py``) reads local files and URIs (``http(s)://``,
      ``s3://``...) with :func:`mmvp.utils.safe_load`: explicitly
      ``weights_only=True`` with mmvp's allow-list, whatever torch's default
      or the ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` environment variable say.
    * :meth:`load_checkpoint` refuses a checkpoint that does not fit the
      model (:func:`mmvp.utils.check_checkpoint_compatibility`) instead of
      loading part of it with a warning. Set :attr:`check_checkpoint_fit`
      to False in a subclass to load partial checkpoints.

    Pair it with :class:`SafeCheckpointHook`, which also writes
    ``last_checkpoint`` atomically and deletes outdated checkpoints only
    after the new one is complete.
    """

    #: Read by :class:`SafeCheckpointHook`: saves are already atomic.
    atomic_checkpoints = True
    #: Whether :meth:`load_checkpoint` refuses checkpoints that do not fit
    #: the model exactly (missing/unexpected keys, other shapes).
    check_checkpoint_fit = True

    @master_only
    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None):
        """Save a checkpoint atomically; see the class docstring.

        The arguments are those of
        :meth:`mmengine.runner.Runner.save_checkpoint`.
        """
        final = osp.join(out_dir, filename)
        # find_latest_checkpoint logs "Did not find last_checkpoint to be
        # resumed." when there is none: look first, a fresh run stays quiet
        last = find_latest_checkpoint(self.work_dir) if osp.isfile(
            osp.join(self.work_dir, 'last_checkpoint')) else None
        check_finite_weights(
            self.model, f'checkpoint "{final}"',
            f' The last checkpoint written is "{last}".' if last else '')
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args)
        if not is_local_path(out_dir, file_client_args, backend_args):
            return super().save_checkpoint(out_dir, filename, **kwargs)
        remove_stale_temps(final)
        tmp = temp_path_for(final)
        try:
            super().save_checkpoint(out_dir, osp.relpath(tmp, out_dir),
                                    **kwargs)
            commit_temp_file(tmp, final)
        except BaseException:
            if osp.exists(tmp):
                os.remove(tmp)
            raise

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        """Load a checkpoint into the model (``load_from`` and ``resume``).

        The file or URI is read with :func:`mmvp.utils.safe_load`. Then, as
        in MMEngine: the ``after_load_checkpoint`` hooks run and the weights
        are loaded into the (unwrapped) model with
        :func:`mmengine.runner.load_state_dict`, after
        :func:`mmvp.utils.check_checkpoint_compatibility` has checked that
        they fit (see :attr:`check_checkpoint_fit`).
        """
        checkpoint = safe_load(filename, map_location=map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        model = self.model.module if is_model_wrapper(
            self.model) else self.model
        if self.check_checkpoint_fit:
            check_checkpoint_compatibility(
                model,
                checkpoint,
                filename=str(filename),
                config=getattr(self.cfg, 'filename', None),
                revise_keys=revise_keys)
        state_dict = checkpoint.get('state_dict', checkpoint)
        metadata = getattr(state_dict, '_metadata', OrderedDict())
        for pattern, repl in revise_keys:
            state_dict = OrderedDict(
                (re.sub(pattern, repl, k), v) for k, v in state_dict.items())
        state_dict._metadata = metadata  # keeps the modules' versions
        load_state_dict(model, state_dict, strict, self.logger)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint
