# Copyright (c) mmvp contributors. All rights reserved.
"""Early, readable errors for mistyped config keys and module types.

MMEngine already names an unknown ``type`` and an unexpected keyword, but it
does not say what was expected. :func:`check_config` runs before the Runner
is built and reports unknown types with the closest registered names;
:func:`config_error_hints` turns the ``unexpected keyword argument`` errors
raised while building modules into a message naming the config key path,
the accepted keys and the closest one. Nothing in MMEngine is patched.
"""
import contextlib
import difflib
import inspect
import re
from typing import Any, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import Registry

from mmvp import registry as R

__all__ = ['ConfigError', 'check_config', 'config_error_hints']


class ConfigError(ValueError):
    """A config names an unknown key or type."""


# Top-level keys read by ``Runner.from_cfg`` (and by the tools).
RUNNER_KEYS = ('model', 'work_dir', 'train_dataloader', 'val_dataloader',
               'test_dataloader', 'train_cfg', 'val_cfg', 'test_cfg',
               'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
               'val_evaluator', 'test_evaluator', 'default_hooks',
               'custom_hooks', 'data_preprocessor', 'load_from', 'resume',
               'launcher', 'env_cfg', 'log_processor', 'log_level',
               'visualizer', 'default_scope', 'randomness', 'experiment_name',
               'model_wrapper_cfg', 'custom_imports', 'find_unused_parameters')

# Other top-level keys with a meaning: read by the tools, or documented
# variables of the base configs that the tools propagate (``data_root``).
EXTRA_KEYS = ('runner_type', 'data_root')
KNOWN_TOP_LEVEL_KEYS = RUNNER_KEYS + EXTRA_KEYS

# Names MMEngine builds without a registry.
_PLAIN_CLASSES = {}


def _plain_class(name: str) -> Optional[type]:
    if not _PLAIN_CLASSES:
        from torch.utils.data import DataLoader
        _PLAIN_CLASSES['DataLoader'] = DataLoader
    return _PLAIN_CLASSES.get(name)


def _all_registries() -> List[Registry]:
    return [v for v in vars(R).values() if isinstance(v, Registry)]


def _registered_names(registry: Registry) -> List[str]:
    """Names visible from ``registry``: its own and its ancestors'."""
    _import_locations(registry)
    names: List[str] = []
    node = registry
    while node is not None:
        names.extend(k for k in node.module_dict if k not in names)
        node = node.parent
    return names


def _import_locations(registry: Registry) -> None:
    """Import the modules of ``registry`` and of its ancestors (MMEngine's
    root registries register their own modules lazily)."""
    import mmengine.runner  # noqa: F401  registers hooks, loops, optimizers
    node = registry
    while node is not None:
        node.import_from_location()
        node = node.parent


def _lookup(registry: Registry, name: str) -> Any:
    try:
        _import_locations(registry)
        return registry.get(name)
    except Exception:  # noqa: B902  an unknown scope prefix etc.
        return None


def _closest(word: str, candidates: Sequence[str], n: int = 3) -> List[str]:
    matches = difflib.get_close_matches(word, candidates, n=n, cutoff=0.6)
    if not matches:  # case or prefix slips, e.g. 'predrnn' -> 'PredRNN'
        lower = {c.lower(): c for c in candidates}
        matches = [
            lower[m] for m in difflib.get_close_matches(
                word.lower(), list(lower), n=n, cutoff=0.6)
        ]
    return matches


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    """``" Did you mean 'x'?"`` for the closest candidate, or ''."""
    close = _closest(word, candidates, n=1)
    return f' Did you mean {close[0]!r}?' if close else ''


def _where(filename: Optional[str]) -> str:
    return f' in {filename}' if filename else ''


def _unknown_type(path: str, name: str, registry: Registry,
                  filename: Optional[str]) -> ConfigError:
    names = _registered_names(registry)
    close = _closest(name, names)
    hint = (f'Did you mean {", ".join(repr(c) for c in close)}? '
            if close else '')
    shown = sorted(n for n in names if not n.startswith('_'))
    listing = ', '.join(shown[:40]) + (', ...' if len(shown) > 40 else '')
    return ConfigError(
        f'Unknown type {name!r} at `{path}.type`{_where(filename)}: it is '
        f'not registered in the {registry.scope}::{registry.name} registry. '
        f'{hint}Registered {registry.name} types: {listing}')


def _check_type(node: Any, path: str, registry: Registry,
                filename: Optional[str]) -> None:
    """Check the ``type`` of one dict against ``registry``."""
    if not isinstance(node, dict) or 'type' not in node:
        return
    name = node['type']
    if isinstance(name, str) and _lookup(registry, name) is None:
        raise _unknown_type(path, name, registry, filename)


def _check_nested(node: Any, path: str, registry: Registry,
                  filename: Optional[str]) -> None:
    """Check nested ``type`` values below a model-like dict.

    Nested configs may be built from other registries, so a name counts as
    unknown only if no mmvp (or parent) registry knows it.
    """
    if isinstance(node, dict):
        name = node.get('type')
        if isinstance(name, str) and '.' in path and not any(
                _lookup(reg, name) is not None for reg in _all_registries()):
            raise _unknown_type(path, name, registry, filename)
        for key, value in node.items():
            if key != 'type':
                _check_nested(value, f'{path}.{key}', registry, filename)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _check_nested(value, f'{path}[{i}]', registry, filename)


def _check_dataset(node: Any, path: str, filename: Optional[str]) -> None:
    if not isinstance(node, dict):
        return
    _check_type(node, path, R.DATASETS, filename)
    for i, step in enumerate(node.get('pipeline', None) or []):
        _check_type(step, f'{path}.pipeline[{i}]', R.TRANSFORMS, filename)
    # dataset wrappers (ConcatDataset, RepeatDataset, ...)
    inner = node.get('dataset', None)
    if isinstance(inner, dict):
        _check_dataset(inner, f'{path}.dataset', filename)
    for i, sub in enumerate(node.get('datasets', None) or []):
        _check_dataset(sub, f'{path}.datasets[{i}]', filename)


def _check_top_level_keys(cfg: Config, filename: Optional[str]) -> None:
    # Helper variables (``dataset_type``, ``train_pipeline``, ``_clip``)
    # are legitimate; a key one or two letters away from a Runner key is
    # not, whether or not the Runner key is also set (``trian_cfg`` next to
    # the ``train_cfg`` of a base file).
    keys = [k for k in cfg.keys() if not k.startswith('_')]
    for key in keys:
        if key in KNOWN_TOP_LEVEL_KEYS:
            continue
        close = difflib.get_close_matches(
            key, KNOWN_TOP_LEVEL_KEYS, n=1, cutoff=0.85)
        # ``train_dataloader_cfg`` is a user variable, not a typo
        if close and not key.startswith(close[0]):
            raise ConfigError(
                f'Unknown top-level key {key!r}{_where(filename)}: did you '
                f'mean {close[0]!r}? The Runner reads {close[0]!r} and '
                f'ignores {key!r}.')


def check_config(cfg: Config, filename: Optional[str] = None) -> None:
    """Check a config for misspelled keys, unknown types and values of the
    wrong type.

    Call it after :func:`mmvp.utils.register_all_modules`, before building
    the Runner. ``type`` values given as classes are not checked. Besides
    the ``type`` names it checks the keys of every hook config and the
    values given to typed ``__init__`` parameters
    (:mod:`mmvp.utils.config_args`), so that such mistakes stop the run
    before training starts.

    Args:
        cfg (Config): The merged config.
        filename (str, optional): Named in messages. Defaults to
            ``cfg.filename``.

    Raises:
        ConfigError: Naming the key path, the wrong name and the closest
            registered names, or the expected type of a value.
    """
    filename = filename or getattr(cfg, 'filename', None)
    _check_top_level_keys(cfg, filename)

    if isinstance(cfg.get('model'), dict):
        _check_type(cfg.model, 'model', R.MODELS, filename)
        _check_nested(cfg.model, 'model', R.MODELS, filename)
        model = cfg.model
        if 'data_preprocessor' in model:
            _check_type(model.data_preprocessor, 'model.data_preprocessor',
                        R.MODELS, filename)
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not isinstance(loader, dict):
            continue
        name = f'{split}_dataloader'
        _check_dataset(loader.get('dataset'), f'{name}.dataset', filename)
        _check_type(
            loader.get('sampler'), f'{name}.sampler', R.DATA_SAMPLERS,
            filename)
        _check_type(
            loader.get('batch_sampler'), f'{name}.batch_sampler',
            R.DATA_SAMPLERS, filename)
    for split in ('val', 'test'):
        evaluator = cfg.get(f'{split}_evaluator')
        name = f'{split}_evaluator'
        if isinstance(evaluator, dict) and 'metrics' in evaluator:
            _check_type(evaluator, name, R.EVALUATOR, filename)
            evaluator = evaluator['metrics']
            name = f'{name}.metrics'
        if isinstance(evaluator, dict):
            _check_type(evaluator, name, R.METRICS, filename)
        elif isinstance(evaluator, (list, tuple)):
            for i, metric in enumerate(evaluator):
                _check_type(metric, f'{name}[{i}]', R.METRICS, filename)
    if isinstance(cfg.get('runner_type'), str):
        _check_type(
            dict(type=cfg.runner_type), 'runner_type', R.RUNNERS, filename)
    for key, hook in (cfg.get('default_hooks') or {}).items():
        _check_type(hook, f'default_hooks.{key}', R.HOOKS, filename)
    for i, hook in enumerate(cfg.get('custom_hooks') or []):
        _check_type(hook, f'custom_hooks[{i}]', R.HOOKS, filename)
    optim = cfg.get('optim_wrapper')
    if isinstance(optim, dict):
        _check_type(optim, 'optim_wrapper', R.OPTIM_WRAPPERS, filename)
        _check_type(
            optim.get('optimizer'), 'optim_wrapper.optimizer', R.OPTIMIZERS,
            filename)
    schedulers = cfg.get('param_scheduler')
    if isinstance(schedulers, dict):
        schedulers = [schedulers]
    for i, sched in enumerate(schedulers or []):
        _check_type(sched, f'param_scheduler[{i}]', R.PARAM_SCHEDULERS,
                    filename)
    for key in ('train_cfg', 'val_cfg', 'test_cfg'):
        _check_type(cfg.get(key), key, R.LOOPS, filename)
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict):
        _check_type(visualizer, 'visualizer', R.VISUALIZERS, filename)
        for i, backend in enumerate(visualizer.get('vis_backends') or []):
            _check_type(backend, f'visualizer.vis_backends[{i}]',
                        R.VISBACKENDS, filename)
    _check_type(
        cfg.get('log_processor'), 'log_processor', R.LOG_PROCESSORS, filename)
    _check_type(
        cfg.get('model_wrapper_cfg'), 'model_wrapper_cfg', R.MODEL_WRAPPERS,
        filename)

    from .config_args import check_arguments  # imports this module
    check_arguments(cfg, filename)


# ---------------------------------------------------------------------------
# Hints for errors raised while building modules

_UNEXPECTED_KWARG = re.compile(
    r"(?:(\w+)\.)?__init__\(\) got an unexpected keyword argument '(\w+)'")


def _find_key(node: Any,
              key: str,
              path: str = '') -> Iterator[Tuple[str, dict]]:
    """Yield ``(path, dict)`` for every dict in ``node`` holding ``key``."""
    if isinstance(node, dict):
        if key in node:
            yield path, node
        for k, v in node.items():
            yield from _find_key(v, key, f'{path}.{k}' if path else str(k))
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            yield from _find_key(v, key, f'{path}[{i}]')


def _resolve_class(name: Any) -> Optional[type]:
    if inspect.isclass(name):
        return name
    if not isinstance(name, str):
        return None
    for reg in _all_registries():
        obj = _lookup(reg, name)
        if inspect.isclass(obj):
            return obj
    for reg in _all_registries():  # match on the class's own name
        node = reg
        while node is not None:
            for obj in node.module_dict.values():
                if inspect.isclass(obj) and obj.__name__ == name:
                    return obj
            node = node.parent
    return _plain_class(name)


def _accepted_keys(cls: type) -> List[str]:
    """Named ``__init__`` parameters along the MRO while ``**kwargs``
    forwards them."""
    keys: List[str] = []
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get('__init__')
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            break
        forwards = False
        for p in params:
            if p.kind == p.VAR_KEYWORD:
                forwards = True
            elif p.kind != p.VAR_POSITIONAL and p.name != 'self' and \
                    p.name not in keys:
                keys.append(p.name)
        if not forwards:
            break
    return keys


def _explain_unexpected_kwarg(err: BaseException, cfg: Config,
                              filename: Optional[str]) -> Optional[str]:
    match = _UNEXPECTED_KWARG.search(str(err))
    if not match:
        return None
    cls_name, key = match.groups()
    tree = cfg.to_dict() if isinstance(cfg, Config) else cfg
    hits = list(_find_key(tree, key))
    if not hits:  # not a config problem
        return None
    path, node = hits[0]
    for hit_path, hit in hits:  # prefer the dict of the failing class
        if cls_name and _resolve_class(hit.get('type')) is not None and \
                cls_name in [c.__name__ for c in inspect.getmro(
                    _resolve_class(hit.get('type')))]:
            path, node = hit_path, hit
            break
    cls = _resolve_class(node.get('type')) or _resolve_class(cls_name)
    where = f'`{path}`' if path else 'the top level'
    msg = (f'Unknown key {key!r} in {where}{_where(filename)}')
    if cls is None:
        return msg + f' ({cls_name} does not accept it).'
    accepted = [k for k in _accepted_keys(cls) if k not in ('args', )]
    msg += f': {cls.__name__} does not accept it.'
    msg += _did_you_mean(key, accepted)
    return msg + f' Accepted keys: {", ".join(accepted)}.'


def _explain_unknown_type(err: BaseException,
                          filename: Optional[str]) -> Optional[str]:
    match = re.search(r'(\S+) is not in the (\S+?)::(.+?) registry', str(err))
    if not match:
        return None
    name, scope, reg_name = match.groups()
    for reg in _all_registries():
        if reg.name == reg_name:
            return str(_unknown_type('<config>', name, reg, filename)).replace(
                ' at `<config>.type`', '')
    return None


@contextlib.contextmanager
def config_error_hints(cfg: Config, filename: Optional[str] = None):
    """Re-raise config mistakes met while building modules as
    :class:`ConfigError` naming the key path and what was expected.

    Only errors whose offending key occurs in ``cfg`` are rewritten; the
    original exception stays attached as ``__cause__``.
    """
    filename = filename or getattr(cfg, 'filename', None)
    try:
        yield
    except TypeError as err:
        msg = _explain_unexpected_kwarg(err, cfg, filename)
        if msg is None:
            raise
        raise ConfigError(msg) from err
    except KeyError as err:
        msg = _explain_unknown_type(err, filename)
        if msg is None:
            raise
        raise ConfigError(msg) from err
