# Copyright (c) mmvp contributors. All rights reserved.
"""Safe checkpoint loading under ``torch>=2.6`` and a strict fit check.

Since torch 2.6 ``torch.load`` defaults to ``weights_only=True``, which
refuses the few Python objects that MMEngine stores in its checkpoints (the
message hub's ``HistoryBuffer`` and some numpy scalars). Rather than turning
the protection off, :func:`register_safe_globals` allow-lists exactly those
objects. ``builtins.getattr`` (used by ``HistoryBuffer.__getstate__``) is
mapped to a restricted stand-in that only returns the four statistics
methods of ``HistoryBuffer``, so a crafted file cannot fetch arbitrary
attributes. The allow-list is registered once when :mod:`mmvp` is imported.
"""
import os
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = [
    'register_safe_globals', 'safe_load', 'check_checkpoint_compatibility',
    'UnsafeCheckpointError', 'CheckpointMismatchError'
]

# Methods that ``HistoryBuffer.__getstate__`` pickles as
# ``getattr(HistoryBuffer, name)``.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')

# numpy dtypes whose ``numpy.dtypes.*DType`` classes may appear in the
# message hub (log values, counters, best scores). ``object`` is left out.
_NUMERIC_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                   'uint16', 'uint32', 'uint64', 'float16', 'float32',
                   'float64')

_REGISTERED = False


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds Python objects outside the allow-list."""


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's parameters do not fit the model built from a config."""


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` inside ``torch.load`` only.

    It returns the statistics methods of ``HistoryBuffer`` and refuses
    everything else.
    """
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'blocked getattr({obj!r}, {name!r}): only HistoryBuffer.'
        f'{{{", ".join(_HISTORY_BUFFER_METHODS)}}} may be loaded')


def _safe_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The allow-list: MMEngine checkpoint objects plus numpy internals."""
    multiarray = (
        np._core.multiarray if hasattr(np, '_core') else np.core.multiarray)
    entries: List[Union[Callable, Tuple[Callable, str]]] = [
        HistoryBuffer,
        (_history_buffer_getattr, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        # names written by numpy 1.x pickles
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]
    # ``numpy.dtypes.Float64DType`` and friends (numpy >= 1.25)
    entries += [type(np.dtype(name)) for name in _NUMERIC_DTYPES]
    return entries


def register_safe_globals() -> None:
    """Allow-list the globals found in MMEngine checkpoints (once).

    Called when :mod:`mmvp` is imported, so every process (each DDP rank,
    every test) loads checkpoints with ``weights_only=True``.
    """
    global _REGISTERED
    if _REGISTERED:
        return
    torch.serialization.add_safe_globals(_safe_globals())
    _REGISTERED = True


def _is_refused_pickle(err: BaseException) -> bool:
    text = str(err)
    return (isinstance(err, pickle.UnpicklingError)
            or 'Weights only load failed' in text
            or 'Unsupported global' in text)


def _refusal_reason(err: BaseException) -> str:
    """The informative line(s) of torch's ``weights_only`` refusal."""
    text = str(err)
    for pattern in (r'blocked getattr[^\n]*', r'Unsupported global: [^\n]*',
                    r'Trying to load unsupported[^\n]*',
                    r'Unsupported operand[^\n]*'):
        match = re.search(pattern, text)
        if match:
            return match.group(0).rstrip('. ')
    lines = [
        line for line in text.strip().splitlines()
        if line.strip() and not line.startswith(('Weights only load failed',
                                                 'Check the documentation'))
    ]
    return lines[0].rstrip('. ') if lines else type(err).__name__


def safe_load(filename: Union[str, os.PathLike],
              map_location: Any = 'cpu') -> Any:
    """Load a checkpoint with ``weights_only=True`` and clear errors.

    Args:
        filename (str | PathLike): Path of a local checkpoint file.
        map_location: Passed to :func:`torch.load`. Defaults to ``'cpu'``.

    Returns:
        The unpickled object, usually a dict.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: The file contains objects outside the
            allow-list (e.g. a pickle that would call ``os.system``).
        RuntimeError: The file is not a readable torch checkpoint.
    """
    filename = osp.expanduser(os.fspath(filename))
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file not found: {filename}')
    register_safe_globals()
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: B902  re-raised with the file name
        if _is_refused_pickle(err):
            raise UnsafeCheckpointError(
                f'Refused to load checkpoint "{filename}" (not a checkpoint, '
                f'or it holds disallowed objects): {_refusal_reason(err)}. '
                'mmvp loads checkpoints with '
                'torch.load(weights_only=True) and allows only tensors, '
                'numpy arrays/scalars and MMEngine\'s HistoryBuffer. '
                'Checkpoints of other code bases need converting to a '
                'state_dict first.') from err
        raise RuntimeError(f'Failed to read checkpoint "{filename}": '
                           f'{type(err).__name__}: {err}') from err


def _load_any(filename: str, map_location: Any = 'cpu') -> Any:
    """Load a local file with :func:`safe_load`, other URIs via MMEngine."""
    if '://' in filename:
        from mmengine.runner import CheckpointLoader
        register_safe_globals()
        return CheckpointLoader.load_checkpoint(
            filename, map_location=map_location)
    return safe_load(filename, map_location=map_location)


def _shape(value: Any) -> Optional[Tuple[int, ...]]:
    shape = getattr(value, 'shape', None)
    return tuple(shape) if shape is not None else None


def _fmt(shape: Optional[Tuple[int, ...]]) -> str:
    return 'not a tensor' if shape is None else str(tuple(shape))


def check_checkpoint_compatibility(model: nn.Module,
                                   checkpoint: Union[str, os.PathLike, dict],
                                   filename: Optional[str] = None,
                                   revise_keys: Sequence[Tuple[str, str]] = ((
                                       r'^module\.', ''), ),
                                   max_listed: int = 5) -> None:
    """Check that a checkpoint fits ``model`` exactly (names and shapes).

    MMEngine loads checkpoints with ``strict=False`` and only warns about
    missing keys or shape mismatches, so a checkpoint of another config
    silently yields a half-initialised model. This check raises instead.

    Args:
        model (nn.Module): The model built from the config (a DDP wrapper
            is unwrapped).
        checkpoint (str | PathLike | dict): A checkpoint path (loaded with
            :func:`safe_load`) or an already loaded checkpoint dict.
        filename (str, optional): The file name used in messages when
            ``checkpoint`` is a dict.
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` pairs
            applied to checkpoint keys, as in MMEngine's loader.
        max_listed (int): How many problems to list in the message.

    Raises:
        CheckpointMismatchError: Naming the file, the first mismatching
            or missing parameter with expected and found shapes, and how
            many problems there are in total.
    """
    if isinstance(checkpoint, (str, os.PathLike)):
        filename = os.fspath(checkpoint)
        checkpoint = _load_any(filename)
    from mmengine.model import is_model_wrapper

    filename = filename or '<in-memory checkpoint>'
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'Checkpoint "{filename}" holds a {type(checkpoint).__name__}, '
            'expected a dict (a state_dict or an MMEngine checkpoint with '
            'a "state_dict" key).')
    state_dict = checkpoint.get('state_dict', checkpoint)
    found = OrderedDict()
    for key, value in state_dict.items():
        for pattern, repl in revise_keys:
            key = re.sub(pattern, repl, key)
        found[key] = value

    module = model.module if is_model_wrapper(model) else model
    expected = module.state_dict()

    problems = []
    for key, value in expected.items():
        exp_shape = _shape(value)
        if key not in found:
            problems.append(f'parameter "{key}": expected shape '
                            f'{_fmt(exp_shape)}, missing from the checkpoint')
        elif _shape(found[key]) != exp_shape:
            problems.append(f'parameter "{key}": expected shape '
                            f'{_fmt(exp_shape)}, found '
                            f'{_fmt(_shape(found[key]))}')
    for key, value in found.items():
        if key not in expected:
            problems.append(f'unexpected parameter "{key}" with shape '
                            f'{_fmt(_shape(value))} (not in the model)')
    if not problems:
        return

    meta = checkpoint.get('meta', {}) if 'state_dict' in checkpoint else {}
    origin = ''
    if isinstance(meta, dict) and meta.get('experiment_name'):
        origin = (' It was written by experiment '
                  f'"{meta["experiment_name"]}".')
    listed = ''
    if len(problems) > 1:
        listed = '\n  ' + '\n  '.join(problems[:max_listed])
        if len(problems) > max_listed:
            listed += f'\n  ... and {len(problems) - max_listed} more'
    raise CheckpointMismatchError(
        f'Checkpoint "{filename}" does not fit the model built from the '
        f'config ({type(module).__name__}): {problems[0]}. '
        f'{len(problems)} problem(s) in total; was it trained with another '
        f'config?{origin}{listed}')
