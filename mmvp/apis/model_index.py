# Copyright (c) mmvp contributors. All rights reserved.
"""Model names of the model index (``model-index.yml`` and the metafiles
it imports): ``list_models()`` and the config / weights of a name."""
import difflib
import fnmatch
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.fileio import load

__all__ = ['list_models', 'model_info', 'resolve_model', 'find_model_index']

_PACKAGE = osp.dirname(osp.dirname(osp.abspath(__file__)))


def find_model_index() -> str:
    """Path of ``model-index.yml``: ``mmvp/.mim/`` of an installed package,
    else the repository root of a source checkout."""
    for path in (osp.join(_PACKAGE, '.mim', 'model-index.yml'),
                 osp.join(osp.dirname(_PACKAGE), 'model-index.yml')):
        if osp.isfile(path):
            return path
    raise FileNotFoundError(
        'model-index.yml not found (looked in mmvp/.mim and next to the '
        'mmvp package); give a config file instead of a model name')


def _read_models(index_file: str) -> Dict[str, dict]:
    """``{name: entry}`` of every model of the index, with ``Config`` and
    ``Weights`` made absolute (relative paths are relative to the index's
    folder)."""
    root = osp.dirname(osp.abspath(index_file))
    index = load(index_file) or {}
    models = {}
    for metafile in index.get('Import') or []:
        meta = load(osp.join(root, metafile)) or {}
        for entry in meta.get('Models') or []:
            name = entry.get('Name')
            if not name or not entry.get('Config'):
                raise ValueError(f'{metafile}: a model entry without Name '
                                 f'or Config: {entry!r}')
            if name in models:
                raise ValueError(f'{metafile}: model name {name!r} is '
                                 'listed twice')
            entry = dict(entry)
            entry['Config'] = osp.join(root, entry['Config'])
            weights = entry.get('Weights')
            if weights and '://' not in weights and not osp.isabs(weights):
                entry['Weights'] = osp.join(root, weights)
            models[name] = entry
    return models


def list_models(pattern: Optional[str] = None,
                index_file: Optional[str] = None) -> List[str]:
    """Sorted names of the models in the model index.

    Args:
        pattern (str, optional): A shell-style pattern (``'*h36m*'``) or a
            plain substring (``'predrnn'``) the names must match.
        index_file (str, optional): ``model-index.yml`` to read (default:
            :func:`find_model_index`).

    Returns:
        list[str]: e.g. ``['convlstm_h36m', 'convlstm_radar', ...]``.
    """
    names = sorted(_read_models(index_file or find_model_index()))
    if pattern is None:
        return names
    if not any(c in pattern for c in '*?['):
        pattern = f'*{pattern}*'
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def model_info(name: str, index_file: Optional[str] = None) -> dict:
    """The model-index entry of ``name`` (``Config`` and, when released,
    ``Weights`` as paths or URLs).

    Raises:
        ValueError: for an unknown name, listing the closest names.
    """
    models = _read_models(index_file or find_model_index())
    if name not in models:
        close = difflib.get_close_matches(name, list(models), n=5, cutoff=0.5)
        hint = (f'close names: {", ".join(close)}'
                if close else 'see mmvp.apis.list_models()')
        raise ValueError(f'unknown model name {name!r} (not a config file '
                         f'and not in the model index); {hint}')
    return models[name]


def resolve_model(name: str,
                  index_file: Optional[str] = None
                  ) -> Tuple[str, Optional[str]]:
    """``(config file, weights or None)`` of model ``name``."""
    info = model_info(name, index_file)
    return info['Config'], info.get('Weights') or None
