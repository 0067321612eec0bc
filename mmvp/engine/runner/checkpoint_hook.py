# Copyright (c) mmvp contributors. All rights reserved.
"""CheckpointHook whose files stay consistent when the process is killed."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from mmvp.registry import HOOKS
from mmvp.utils.atomic_io import (atomic_write_text, commit_temp_file,
                                  remove_stale_temps, temp_path_for)
from .safe_runner import is_local_path

__all__ = ['SafeCheckpointHook']


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """:class:`~mmengine.hooks.CheckpointHook` for runs that may be killed.

    Same arguments and files as MMEngine's hook (the default
    ``default_hooks.checkpoint`` of mmvp's configs). What changes is the
    order and the way files are written, so that a ``SIGKILL`` (or a full
    disk, or a power cut) at any moment leaves a ``last_checkpoint`` that
    names a complete, loadable checkpoint:

    1. the new checkpoint is written atomically (temporary file in the same
       folder, ``fsync``, rename) - by :class:`SafeCheckpointRunner`, or by
       this hook around any other Runner's ``save_checkpoint``;
    2. only then ``last_checkpoint`` is replaced, atomically too (MMEngine
       truncates it first, so a kill could leave it empty);
    3. only then the checkpoint beyond ``max_keep_ckpts`` is deleted
       (MMEngine deletes it *before* saving, so with ``max_keep_ckpts=1`` a
       kill during the save left no checkpoint at all).

    Temporary files of a killed save are hidden (``.iter_N.pth.*.tmp``)
    and are removed when the same checkpoint is written again. Best
    checkpoints (``save_best``) are written atomically by
    :class:`SafeCheckpointRunner`; MMEngine still deletes the previous best
    file just before, so a kill at that moment can leave no best file
    (``last_checkpoint``, used to resume, is not affected).
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        self._write_checkpoint(runner, ckpt_filename, meta)

        if not is_main_process():
            return
        atomic_write_text(
            osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if outdated is not None:
            self._remove_checkpoint(self.filename_tmpl.format(outdated))

    def _write_checkpoint(self, runner, filename: str, meta: dict) -> None:
        kwargs = dict(
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        atomic = getattr(runner, 'atomic_checkpoints', False)
        if atomic or not is_local_path(self.out_dir, self.file_client_args,
                                       self.backend_args):
            runner.save_checkpoint(self.out_dir, filename,
                                   self.file_client_args, **kwargs)
            return
        # another Runner: let it write a temporary file, then rename it
        final = osp.join(self.out_dir, filename)
        tmp = temp_path_for(final)
        if is_main_process():
            remove_stale_temps(final)
        runner.save_checkpoint(self.out_dir, osp.relpath(tmp, self.out_dir),
                               self.file_client_args, **kwargs)
        if is_main_process():
            commit_temp_file(tmp, final)

    def _remove_checkpoint(self, filename: str) -> None:
        path = self.file_backend.join_path(self.out_dir, filename)
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            # checkpoints saved by deepspeed are directories
            self.file_backend.rmtree(path)
