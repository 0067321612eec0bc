# Copyright (c) mmvp contributors. All rights reserved.
"""Safe checkpoint loading on every route, and a strict fit check.

Every checkpoint mmvp reads goes through :func:`safe_load`: a local file,
an ``http://`` / ``https://`` URL or a URI of another MMEngine file backend
(``s3://``...). The bytes are read first (:func:`mmengine.fileio.get` for
URIs), then unpickled by ``torch.load(..., weights_only=True)``, passed
explicitly so that neither torch's default nor the
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` environment variable can turn the
protection off.

MMEngine stores a few Python objects in its checkpoints (the message hub's
``HistoryBuffer``, numpy scalars and arrays) that ``weights_only`` refuses.
mmvp allow-lists exactly those, and only while one of its own loads runs
(:func:`checkpoint_safe_globals`): importing mmvp leaves torch's
process-wide allow-list as it was. ``builtins.getattr`` (used by
``HistoryBuffer.__getstate__``) is mapped to a restricted stand-in that only
returns the four statistics methods of ``HistoryBuffer``, so a crafted file
cannot fetch arbitrary attributes.

MMEngine 0.10 calls ``torch.load`` without ``weights_only``
(https://github.com/open-mmlab/mmengine/issues/1655): under torch >= 2.6
its local loader refuses its own checkpoints, while its ``http(s)://``
loader (``torch.hub``) unpickles with ``weights_only=False`` and would run
the code in a crafted file. :func:`register_checkpoint_loaders`, called
when :mod:`mmvp` is imported, registers :func:`safe_load` for MMEngine's
local, ``http(s)://``, ``s3://`` and ``petrel://`` schemes through the
public :meth:`mmengine.runner.CheckpointLoader.register_scheme`, and
refuses the model-zoo schemes (``open-mmlab://``, ``torchvision://``...)
whose loaders bypass it. So ``load_from``, ``resume``, ``init_cfg``
checkpoints and :func:`mmengine.runner.load_checkpoint` are safe too.
"""
import io
import os
import os.path as osp
import pickle
import re
import struct
import threading
import zipfile
from collections import OrderedDict
from contextlib import contextmanager
from typing import (Any, Callable, Iterator, List, Optional, Sequence, Tuple,
                    Union)

import numpy as np
import torch
import torch.nn as nn
from mmengine.logging.history_buffer import HistoryBuffer

__all__ = [
    'checkpoint_safe_globals', 'register_checkpoint_loaders', 'safe_load',
    'check_checkpoint_compatibility', 'UnsafeCheckpointError',
    'CheckpointMismatchError'
]

# Methods that ``HistoryBuffer.__getstate__`` pickles as
# ``getattr(HistoryBuffer, name)``.
_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')

# numpy dtypes whose ``numpy.dtypes.*DType`` classes may appear in the
# message hub (log values, counters, best scores). ``object`` is left out.
_NUMERIC_DTYPES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                   'uint16', 'uint32', 'uint64', 'float16', 'float32',
                   'float64')

# MMEngine's CheckpointLoader schemes that safe_load serves (the regular
# expressions are MMEngine's keys, so registering them replaces its loaders)
_SAFE_SCHEMES = ('', 'http://', 'https://', r'(\S+\:)?s3://',
                 r'(\S+\:)?petrel://')
# schemes whose MMEngine loaders resolve a model-zoo name and unpickle
# without weights_only; mmvp refuses them
_REFUSED_SCHEMES = ('open-mmlab://', 'openmmlab://', 'torchvision://',
                    'modelzoo://', 'mmcls://', 'pavi://')

_ZIP_MAGIC = b'PK\x03\x04'
_TRUE_VALUES = ('1', 'y', 'yes', 'true')
# one mmvp load at a time: the allow-list is added and removed around it
_LOAD_LOCK = threading.RLock()


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


@contextmanager
def checkpoint_safe_globals() -> Iterator[None]:
    """Allow-list the objects of MMEngine checkpoints inside a ``with``.

    Wraps :class:`torch.serialization.safe_globals` around mmvp's own
    loads; on exit torch's allow-list is as before (entries that were
    already allow-listed are left alone). Only needed to call
    ``torch.load(weights_only=True)`` directly; :func:`safe_load` uses it.

    Example:
        >>> with checkpoint_safe_globals():
        ...     ckpt = torch.load(path, weights_only=True)
    """
    with _LOAD_LOCK:
        present = torch.serialization.get_safe_globals()
        new = [entry for entry in _safe_globals() if entry not in present]
        with torch.serialization.safe_globals(new):
            yield


def _is_refused_pickle(err: BaseException) -> bool:
    text = str(err)
    return (isinstance(err, pickle.UnpicklingError)
            or 'Weights only load failed' in text
            or 'Unsupported global' in text)


def _is_truncation(err: BaseException) -> bool:
    """Errors that torch raises on a file cut short."""
    text = str(err)
    return (isinstance(err, (EOFError, struct.error, IndexError))
            or 'pickle data was truncated' in text or 'unexpected EOF' in text
            or 'negative seek value' in text
            or 'failed finding central directory' in text)


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


def _truncated(name: str, size: int) -> RuntimeError:
    return RuntimeError(
        f'{name}: empty or truncated checkpoint file ({size} bytes); it was '
        'probably cut off while being written, copied or downloaded. Use '
        'another checkpoint (e.g. the previous iter_*.pth) or copy it '
        'again.')


def _is_uri(name: str) -> bool:
    return '://' in name


def _fetch(uri: str, backend_args: Optional[dict]) -> bytes:
    """The bytes of a checkpoint URI, read by MMEngine's file backends."""
    for scheme in _REFUSED_SCHEMES:
        if uri.startswith(scheme):
            raise ValueError(
                f'Checkpoint "{uri}": mmvp does not load "{scheme}" '
                'checkpoints (MMEngine resolves them with loaders that do '
                'not use weights_only). Download the file and pass its '
                'local path, or its http(s):// URL.')
    from mmengine import fileio
    try:
        return fileio.get(uri, backend_args=backend_args)
    except Exception as err:  # noqa: B902  re-raised with the URI
        raise OSError(f'Could not fetch checkpoint "{uri}": '
                      f'{type(err).__name__}: {err}') from err


def safe_load(filename: Union[str, os.PathLike],
              map_location: Any = 'cpu',
              backend_args: Optional[dict] = None) -> Any:
    """Load a checkpoint with ``weights_only=True`` and clear errors.

    A local file is read directly (also when its path contains ``://``);
    otherwise a name with a scheme (``http://``, ``https://``, ``s3://``...)
    is fetched with :func:`mmengine.fileio.get` into memory. Either way the
    bytes are unpickled by ``torch.load(weights_only=True)`` with mmvp's
    allow-list (:func:`checkpoint_safe_globals`), whatever torch's default
    or the ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` environment variable say.

    Args:
        filename (str | PathLike): A local checkpoint file or a URI.
        map_location: Passed to :func:`torch.load`. Defaults to ``'cpu'``.
        backend_args (dict, optional): Arguments of the MMEngine file
            backend that fetches a URI. Defaults to None.

    Returns:
        The unpickled object, usually a dict.

    Raises:
        FileNotFoundError: No such local file (and not a URI).
        OSError: A URI could not be fetched.
        ValueError: A model-zoo URI (``open-mmlab://``...), refused.
        UnsafeCheckpointError: The file contains objects outside the
            allow-list (e.g. a pickle that would call ``os.system``).
        RuntimeError: The file is empty, truncated or not a readable
            torch checkpoint.
    """
    name = osp.expanduser(os.fspath(filename))
    if osp.isfile(name):
        source: Any = name
        size = osp.getsize(name)
        with open(name, 'rb') as f:
            head = f.read(len(_ZIP_MAGIC))
    elif _is_uri(name):
        data = _fetch(name, backend_args)
        source, size, head = io.BytesIO(data), len(data), data[:4]
    else:
        raise FileNotFoundError(f'Checkpoint file not found: {name}')
    # torch's own messages for these are "EOFError:" and miniz internals
    if size == 0 or (head == _ZIP_MAGIC and not zipfile.is_zipfile(source)):
        raise _truncated(name, size)
    if isinstance(source, io.BytesIO):
        source.seek(0)
    try:
        with checkpoint_safe_globals():
            return torch.load(
                source, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: B902  re-raised with the file name
        if _is_truncation(err):
            raise _truncated(name, size) from err
        if _is_refused_pickle(err):
            forced = os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '')
            note = (' TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD is set in the '
                    'environment; mmvp does not honour it.'
                    if forced.lower() in _TRUE_VALUES else '')
            raise UnsafeCheckpointError(
                f'Refused to load checkpoint "{name}" (not a checkpoint, '
                f'or it holds disallowed objects): {_refusal_reason(err)}. '
                'mmvp loads checkpoints with '
                'torch.load(weights_only=True) and allows only tensors, '
                'numpy arrays/scalars and MMEngine\'s HistoryBuffer. '
                'Checkpoints of other code bases need converting to a '
                f'state_dict first.{note}') from err
        raise RuntimeError(f'Failed to read checkpoint "{name}": '
                           f'{type(err).__name__}: {err}') from err


def load_from_weights_only(filename: str, map_location: Any = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme loader: :func:`safe_load`."""
    return safe_load(filename, map_location=map_location)


def load_from_unsupported_scheme(filename: str,
                                 map_location: Any = None) -> Any:
    """MMEngine ``CheckpointLoader`` scheme loader for model-zoo names:
    refuses with the reason (see :func:`safe_load`)."""
    return safe_load(filename, map_location=map_location)


def register_checkpoint_loaders() -> None:
    """Make MMEngine's checkpoint loading go through :func:`safe_load`.

    Registers :func:`safe_load` for the local, ``http(s)://``, ``s3://``
    and ``petrel://`` schemes of :class:`mmengine.runner.CheckpointLoader`
    and a refusal for the model-zoo schemes, replacing MMEngine's loaders
    (which call ``torch.load`` without ``weights_only``, or through
    ``torch.hub`` with ``weights_only=False``). Called when :mod:`mmvp` is
    imported; calling it again is harmless.
    """
    from mmengine.runner import CheckpointLoader
    CheckpointLoader.register_scheme(
        list(_SAFE_SCHEMES), load_from_weights_only, force=True)
    CheckpointLoader.register_scheme(
        list(_REFUSED_SCHEMES), load_from_unsupported_scheme, force=True)


def _shape(value: Any) -> Optional[Tuple[int, ...]]:
    shape = getattr(value, 'shape', None)
    return tuple(shape) if shape is not None else None


def _fmt(shape: Optional[Tuple[int, ...]]) -> str:
    return 'not a tensor' if shape is None else str(tuple(shape))


def check_checkpoint_compatibility(model: nn.Module,
                                   checkpoint: Union[str, os.PathLike, dict],
                                   filename: Optional[str] = None,
                                   config: Optional[str] = None,
                                   revise_keys: Sequence[Tuple[str, str]] = ((
                                       r'^module\.', ''), ),
                                   max_listed: int = 5) -> None:
    """Check that a checkpoint fits ``model`` exactly (names and shapes).

    MMEngine loads checkpoints with ``strict=False`` and only warns about
    missing keys or shape mismatches, so a checkpoint of another config
    silently yields a half-initialised model. This check raises instead.
    It is mmvp's one fit check: :class:`~mmvp.engine.SafeCheckpointRunner`
    runs it on every ``load_from`` / ``resume`` (so ``tools/train.py`` and
    ``tools/test.py``), and :class:`~mmvp.apis.VideoPredInferencer` on its
    weights.

    Args:
        model (nn.Module): The model built from the config (a DDP wrapper
            is unwrapped).
        checkpoint (str | PathLike | dict): A checkpoint path (loaded with
            :func:`safe_load`) or an already loaded checkpoint dict.
        filename (str, optional): The file name used in messages when
            ``checkpoint`` is a dict.
        config (str, optional): The config file the model was built from,
            named in the message.
        revise_keys (Sequence[tuple]): ``(pattern, replacement)`` pairs
            applied to checkpoint keys, as in MMEngine's loader.
        max_listed (int): How many problems to list in the message.

    Raises:
        CheckpointMismatchError: Naming the file and the config, the first
            mismatching or missing parameter with expected and found
            shapes, and how many problems there are in total.
    """
    if isinstance(checkpoint, (str, os.PathLike)):
        filename = os.fspath(checkpoint)
        checkpoint = safe_load(filename)
    from mmengine.model import is_model_wrapper

    filename = filename or '<in-memory checkpoint>'
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'Checkpoint "{filename}" holds a {type(checkpoint).__name__}, '
            'expected a dict (a state_dict or an MMEngine checkpoint with '
            'a "state_dict" key).')
    state_dict = checkpoint.get('state_dict', checkpoint)
    if not isinstance(state_dict, dict):
        raise CheckpointMismatchError(
            f'Checkpoint "{filename}": "state_dict" holds a '
            f'{type(state_dict).__name__}, expected a dict of tensors.')
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
    source = f'config "{config}"' if config else 'the config'
    raise CheckpointMismatchError(
        f'Checkpoint "{filename}" does not fit the model built from '
        f'{source} ({type(module).__name__}): {problems[0]}. '
        f'{len(problems)} problem(s) in total; was it trained with another '
        f'config?{origin}{listed}')
