# Copyright (c) mmvp contributors. All rights reserved.
"""Reduce a training checkpoint to what a model zoo entry needs.

A checkpoint written during training holds the optimizer state, the
scheduler states, the message hub and the RNG states as well as the
weights (about three times the size of the weights with Adam).
:func:`publish_checkpoint` keeps ``state_dict`` and ``meta``, writes the result
atomically and names it ``<stem>-<first 8 hex digits of its SHA-256>.pth``,
the OpenMMLab model-zoo convention the metafile's checksums refer to.
"""
import hashlib
import io
import os
import os.path as osp
from typing import Tuple, Union

import torch

from .atomic_io import atomic_write_bytes
from .checkpoint import safe_load


def publish_checkpoint(src: Union[str, os.PathLike],
                       dst: Union[str, os.PathLike]) -> Tuple[str, str]:
    """Write the weights and ``meta`` of ``src`` to ``dst``, named after
    their SHA-256.

    Args:
        src (str | PathLike): A checkpoint with a ``state_dict`` key, e.g.
            ``work_dirs/<config>/iter_<N>.pth``. Loaded with
            :func:`~mmvp.utils.safe_load`.
        dst (str | PathLike): The output path without the hash: ``a/b.pth``
            is written as ``a/b-<sha8>.pth``.

    Returns:
        tuple[str, str]: The path written and the full SHA-256 (hex).

    Raises:
        ValueError: ``dst`` does not end in ``.pth`` or ``src`` holds no
            ``state_dict`` of tensors.
    """
    src, dst = os.fspath(src), os.fspath(dst)
    stem, ext = osp.splitext(dst)
    if ext != '.pth':
        raise ValueError(f'output "{dst}": expected a name ending in .pth '
                         '(the hash is added before the extension)')
    ckpt = safe_load(src, map_location='cpu')
    state = ckpt.get('state_dict') if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        found = (f'keys {sorted(ckpt)}'
                 if isinstance(ckpt, dict) else type(ckpt).__name__)
        raise ValueError(
            f'checkpoint "{src}": expected a dict with a non-empty '
            '"state_dict" of tensors (a checkpoint written by '
            f'tools/train.py), got {found}')
    # ``meta`` says where the weights come from (iteration, seed, merged
    # config, dataset_meta); optimizer, schedulers, message hub and RNG
    # states only serve resuming and are dropped
    published = {
        'state_dict': {
            k: v.detach().cpu().contiguous()
            for k, v in state.items()
        },
        'meta': dict(ckpt.get('meta') or {}),
    }
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    sha256 = hashlib.sha256(data).hexdigest()
    out = f'{stem}-{sha256[:8]}{ext}'
    atomic_write_bytes(out, data)
    return out, sha256
