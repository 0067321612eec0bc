# Copyright (c) mmvp contributors. All rights reserved.
"""Check the arguments a config gives to the classes it builds.

Run by :func:`mmvp.utils.check_config`, before the Runner is built, for
two mistakes MMEngine reports late or without naming the key:

* **Unknown hook keys.** MMEngine's ``CheckpointHook`` keeps the keys it
  does not know and passes them to ``Runner.save_checkpoint`` at the first
  save, so ``default_hooks.checkpoint.intervl=2`` trains with the default
  interval and then fails, having saved nothing. Each hook config of
  ``default_hooks`` and ``custom_hooks`` is checked against the
  ``__init__`` of its class (and of the parents it forwards ``**kwargs``
  to).
* **Values of the wrong type.** ``--cfg-options train_cfg.max_iters=3k``
  gives the string ``'3k'``, which fails deep inside the loop with a message
  that names neither the key nor the expected type. Values are checked
  against the ``__init__`` annotations of the class they are given to:
  loops, hooks, dataloaders, datasets, every typed dict of the model,
  the optimizer wrapper, the optimizer, the parameter schedulers and the
  metrics. Only annotations that admit nothing but ``int``, ``float`` (or
  a tensor) or ``bool``, optionally ``None``, are checked.
"""
import ast
import inspect
import textwrap
import types
import typing
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
from mmengine.config import Config

from mmvp import registry as R
from .config_check import (ConfigError, _did_you_mean, _lookup, _resolve_class,
                           _where)

__all__ = ['check_arguments']

# Passed by MMEngine's CheckpointHook to ``runner.save_checkpoint``; its
# own ``**kwargs`` may only add the other parameters of that method.
_SAVE_CHECKPOINT_ARGS = ('self', 'out_dir', 'filename', 'file_client_args',
                         'save_optimizer', 'save_param_scheduler', 'meta',
                         'by_epoch', 'backend_args')

# Keys MMEngine pops from a hook config before building the hook.
_HOOK_CFG_KEYS = ('type', 'priority')

_KIND_TEXT = dict(int='an int', number='a number', bool='a bool')

# ---------------------------------------------------------------------------
# Signatures


def _init_parameters(cls: type) -> Dict[str, inspect.Parameter]:
    """Named ``__init__`` parameters of ``cls`` and of the parents its
    ``**kwargs`` reach, the most derived definition first."""
    params: Dict[str, inspect.Parameter] = {}
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if init is None or klass is object:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            break
        forwards = False
        for p in sig.parameters.values():
            if p.kind == p.VAR_KEYWORD:
                forwards = True
            elif p.kind != p.VAR_POSITIONAL and p.name != 'self':
                params.setdefault(p.name, p)
        if not forwards:
            break
    return params


def _passes_kwargs_to_super(init: Callable, name: str) -> bool:
    """Whether ``init`` calls a parent ``__init__`` with ``**name``."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    except (OSError, TypeError, SyntaxError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(
                node.func, ast.Attribute) and node.func.attr == '__init__':
            for kw in node.keywords:
                if kw.arg is None and isinstance(
                        kw.value, ast.Name) and kw.value.id == name:
                    return True
    return False


def _save_checkpoint_extras(runner_cls: type) -> Optional[List[str]]:
    """Parameters of ``runner_cls.save_checkpoint`` that MMEngine's
    CheckpointHook does not pass itself; None if it takes ``**kwargs``."""
    try:
        sig = inspect.signature(runner_cls.save_checkpoint)
    except (AttributeError, TypeError, ValueError):
        return None
    extras = []
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            return None
        if p.kind != p.VAR_POSITIONAL and p.name not in _SAVE_CHECKPOINT_ARGS:
            extras.append(p.name)
    return extras


def hook_keys(cls: type,
              runner_cls: Optional[type] = None) -> Optional[List[str]]:
    """Keys a hook config of class ``cls`` may hold.

    Follows ``**kwargs`` to the parent ``__init__`` it is passed to, and
    MMEngine's ``CheckpointHook`` to ``runner_cls.save_checkpoint``.

    Returns:
        list[str] | None: The accepted keys (``type`` and ``priority``
        included), or None where ``**kwargs`` go somewhere that cannot be
        followed (then every key is accepted).
    """
    from mmengine.hooks import CheckpointHook
    from mmengine.runner import Runner

    keys: List[str] = list(_HOOK_CFG_KEYS)
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if klass is object:
            return keys  # object.__init__ takes no keyword
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return None
        var_kw = None
        for p in sig.parameters.values():
            if p.kind == p.VAR_KEYWORD:
                var_kw = p.name
            elif p.kind != p.VAR_POSITIONAL and p.name != 'self' and \
                    p.name not in keys:
                keys.append(p.name)
        if var_kw is None:
            return keys
        if klass is CheckpointHook:
            extras = _save_checkpoint_extras(runner_cls or Runner)
            return None if extras is None else keys + extras
        if not _passes_kwargs_to_super(init, var_kw):
            return None
    return keys


# ---------------------------------------------------------------------------
# Value types

_SIMPLE_NAMES = {
    'int': int,
    'float': float,
    'bool': bool,
    'None': type(None),
    'Tensor': torch.Tensor,
    'torch.Tensor': torch.Tensor
}


def _members_of_string(ann: str) -> Optional[Tuple[type, ...]]:
    """Members of an annotation written as text, such as ``'int | None'``
    or ``'Optional[int]'``; None unless every member is a simple name."""
    text = ann.replace(' ', '')
    for prefix in ('Optional[', 'typing.Optional['):
        if text.startswith(prefix) and text.endswith(']'):
            text = text[len(prefix):-1] + '|None'
    for prefix in ('Union[', 'typing.Union['):
        if text.startswith(prefix) and text.endswith(']'):
            text = text[len(prefix):-1].replace(',', '|')
    names = text.split('|')
    if not all(name in _SIMPLE_NAMES for name in names):
        return None
    return tuple(_SIMPLE_NAMES[name] for name in names)


def _expected_kind(param: inspect.Parameter) -> Optional[str]:
    """``'int'``, ``'number'`` or ``'bool'`` when the annotation of
    ``param`` admits only that (and None); None when anything else goes."""
    ann = param.annotation
    if ann is param.empty:
        return None
    if isinstance(ann, str):  # postponed evaluation of annotations
        members = _members_of_string(ann)
        if members is None:
            return None
    elif typing.get_origin(ann) in (typing.Union, types.UnionType):
        members = typing.get_args(ann)
    else:
        members = (ann, )
    members = [m for m in members if m is not type(None)]
    if not members:
        return None
    if all(m is bool for m in members):
        return 'bool'
    if all(m is int for m in members):
        return 'int'
    if all(m in (int, float, torch.Tensor) for m in members):
        return 'number'
    return None


def _wrong_type(value: Any, kind: str) -> bool:
    if value is None:
        return False
    if kind == 'bool':
        return not isinstance(value, (bool, int))
    if not isinstance(value, (int, float)):
        return True
    return kind == 'int' and isinstance(value, float) and \
        not value.is_integer()


def _check_values(node: Any, path: str, cls: Optional[type],
                  filename: Optional[str]) -> None:
    """Check the values of ``node`` against the annotations of ``cls``."""
    if cls is None or not isinstance(node, dict):
        return
    params = _init_parameters(cls)
    for key, value in node.items():
        param = params.get(key)
        if param is None:
            continue
        kind = _expected_kind(param)
        if kind is not None and _wrong_type(value, kind):
            raise ConfigError(
                f'{path}.{key}: expected {_KIND_TEXT[kind]}, got '
                f'{value!r}{_where(filename)} ({cls.__name__} takes '
                f'{key}: {_annotation_text(param.annotation)}).')


def _annotation_text(ann: Any) -> str:
    if isinstance(ann, type):
        return ann.__name__
    return str(ann).replace('typing.', '').replace('NoneType', 'None')


def _registered_class(node: Any, registry) -> Optional[type]:
    if not isinstance(node, dict):
        return None
    name = node.get('type')
    if inspect.isclass(name):
        return name
    if not isinstance(name, str):
        return None
    obj = _lookup(registry, name)
    return obj if inspect.isclass(obj) else _resolve_class(name)


def _check_tree(node: Any, path: str, filename: Optional[str]) -> None:
    """Check every dict with a ``type`` below ``node`` (the model)."""
    if isinstance(node, dict):
        if 'type' in node:
            _check_values(node, path, _registered_class(node, R.MODELS),
                          filename)
        for key, value in node.items():
            if key != 'type':
                _check_tree(value, f'{path}.{key}', filename)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _check_tree(value, f'{path}[{i}]', filename)


def _check_dataset(node: Any, path: str, filename: Optional[str]) -> None:
    if not isinstance(node, dict):
        return
    _check_values(node, path, _registered_class(node, R.DATASETS), filename)
    if isinstance(node.get('dataset'), dict):
        _check_dataset(node['dataset'], f'{path}.dataset', filename)
    for i, sub in enumerate(node.get('datasets', None) or []):
        _check_dataset(sub, f'{path}.datasets[{i}]', filename)


def _default_loop(key: str, node: dict) -> Optional[type]:
    """The loop MMEngine builds for a ``*_cfg`` without ``type``."""
    from mmengine.runner import (EpochBasedTrainLoop, IterBasedTrainLoop,
                                 TestLoop, ValLoop)
    if key == 'train_cfg':
        if node.get('by_epoch', False):
            return EpochBasedTrainLoop
        return IterBasedTrainLoop if 'max_iters' in node else None
    return dict(val_cfg=ValLoop, test_cfg=TestLoop)[key]


def _loop_options(node: dict) -> dict:
    # by_epoch is MMEngine's switch between the two loops, not an argument
    return {k: v for k, v in node.items() if k not in ('type', 'by_epoch')}


def _runner_class(cfg: Config) -> Optional[type]:
    from mmengine.runner import Runner
    name = cfg.get('runner_type')
    if name is None:
        return Runner
    if inspect.isclass(name):
        return name
    obj = _lookup(R.RUNNERS, name)
    return obj if inspect.isclass(obj) else None


def _hook_entries(cfg: Config) -> List[Tuple[str, dict]]:
    entries = []
    for key, hook in (cfg.get('default_hooks') or {}).items():
        if isinstance(hook, dict):
            entries.append((f'default_hooks.{key}', hook))
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        if isinstance(hook, dict):
            entries.append((f'custom_hooks[{i}]', hook))
    return entries


def _check_hook_keys(path: str, hook: dict, runner_cls: Optional[type],
                     filename: Optional[str]) -> Optional[type]:
    cls = _registered_class(hook, R.HOOKS)
    if cls is None:
        return None
    accepted = hook_keys(cls, runner_cls)
    if accepted is None:
        return cls
    for key in hook:
        if key in accepted:
            continue
        shown = [k for k in accepted if k not in _HOOK_CFG_KEYS]
        hint = _did_you_mean(key, shown)
        raise ConfigError(
            f'Unknown key {key!r} in `{path}`{_where(filename)}: '
            f'{cls.__name__} does not accept it.{hint} Accepted keys: '
            f'{", ".join(shown)} (and priority).')
    return cls


def check_arguments(cfg: Config, filename: Optional[str] = None) -> None:
    """Check hook keys and the types of the values a config passes on.

    Called by :func:`mmvp.utils.check_config` (after the ``type`` names
    were checked); see this module's docstring for what is checked.

    Args:
        cfg (Config): The merged config.
        filename (str, optional): Named in messages.

    Raises:
        ConfigError: Naming the key path and, for an unknown hook key, the
            closest accepted key; for a wrong value, the expected type.
    """
    from torch.utils.data import DataLoader

    runner_cls = _runner_class(cfg)
    for path, hook in _hook_entries(cfg):
        cls = _check_hook_keys(path, hook, runner_cls, filename)
        _check_values(hook, path, cls, filename)

    for key in ('train_cfg', 'val_cfg', 'test_cfg'):
        node = cfg.get(key)
        if not isinstance(node, dict):
            continue
        cls = _registered_class(node, R.LOOPS) if 'type' in node else \
            _default_loop(key, node)
        _check_values(_loop_options(node), key, cls, filename)

    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not isinstance(loader, dict):
            continue
        name = f'{split}_dataloader'
        _check_values(loader, name, DataLoader, filename)
        _check_dataset(loader.get('dataset'), f'{name}.dataset', filename)

    _check_tree(cfg.get('model'), 'model', filename)

    optim = cfg.get('optim_wrapper')
    if isinstance(optim, dict):
        from mmengine.optim import OptimWrapper
        cls = _registered_class(optim, R.OPTIM_WRAPPERS) if 'type' in \
            optim else OptimWrapper
        _check_values(optim, 'optim_wrapper', cls, filename)
        _check_values(
            optim.get('optimizer'), 'optim_wrapper.optimizer',
            _registered_class(optim.get('optimizer'), R.OPTIMIZERS), filename)

    schedulers = cfg.get('param_scheduler')
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers or []):
        _check_values(sched, f'param_scheduler[{i}]',
                      _registered_class(sched, R.PARAM_SCHEDULERS), filename)

    for split in ('val', 'test'):
        metrics = cfg.get(f'{split}_evaluator')
        name = f'{split}_evaluator'
        if isinstance(metrics, dict) and 'metrics' in metrics:
            metrics, name = metrics['metrics'], f'{name}.metrics'
        if isinstance(metrics, dict):
            _check_values(metrics, name, _registered_class(metrics, R.METRICS),
                          filename)
        elif isinstance(metrics, (list, tuple)):
            for i, metric in enumerate(metrics):
                _check_values(metric, f'{name}[{i}]',
                              _registered_class(metric, R.METRICS), filename)
