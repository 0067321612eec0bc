# Copyright (c) mmvp contributors. All rights reserved.
"""Config handling shared by ``tools/train.py`` and ``tools/test.py``, and
the command-line arguments and error handling shared by the other tools.

Precedence: config file < command-line flags < ``--cfg-options`` (last).
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Type

from mmengine.config import Config, DictAction
from mmengine.logging import print_log

from .config_check import (RUNNER_KEYS, ConfigError, _did_you_mean, _where,
                           check_config)
from .dist_utils import prepare_distributed
from .setup_env import register_all_modules

__all__ = [
    'add_launcher_args', 'parse_tool_args', 'merge_common_args',
    'apply_cfg_options', 'propagate_data_root', 'load_tool_config',
    'build_runner', 'latest_checkpoint', 'add_cfg_options_arg',
    'add_model_args', 'add_converter_args', 'run_tool_main'
]

CFG_OPTIONS_HELP = 'override settings of the config, given as key=value pairs'
INPUT_ERRORS = (FileNotFoundError, ValueError, RuntimeError)


def add_cfg_options_arg(parser: argparse.ArgumentParser,
                        help_text: str = CFG_OPTIONS_HELP) -> None:
    """Add ``--cfg-options key=value ...`` (a dict, MMEngine's
    ``DictAction``); ``help_text`` may name examples of the tool."""
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, help=help_text)


def add_model_args(parser: argparse.ArgumentParser,
                   config_help: str = 'config file') -> None:
    """Add ``config``, ``checkpoint`` and ``--device`` (default cpu) of a
    tool that runs a trained model of a config."""
    parser.add_argument('config', help=config_help)
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, ...')


def add_converter_args(parser: argparse.ArgumentParser, src_help: str,
                       config_help: str, cfg_options_example: str) -> None:
    """Add ``src``, ``dst``, ``--config`` (required) and ``--cfg-options``
    of a checkpoint converter (``tools/model_converters``);
    ``cfg_options_example`` ends the help of ``--cfg-options``."""
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='output mmvp checkpoint (.pth)')
    parser.add_argument('--config', required=True, help=config_help)
    add_cfg_options_arg(
        parser, 'override settings of the config (key=value), e.g. ' +
        cfg_options_example)


def run_tool_main(main: Callable[[], Any],
                  errors: Tuple[Type[BaseException], ...] = INPUT_ERRORS):
    """Run a tool's ``main()``: for ``errors`` (bad inputs) print a clear
    one-line reason instead of a traceback and exit with status 1."""
    try:
        return main()
    except errors as err:
        print(f'{type(err).__name__}: {err}', file=sys.stderr)
        sys.exit(1)


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--launcher`` and ``--local-rank`` (read by
    :func:`parse_tool_args`)."""
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch>=2.0) or
    # --local_rank; torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local-rank', '--local_rank', type=int, default=0)


def parse_tool_args(parser: argparse.ArgumentParser,
                    argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse ``argv`` (default: ``sys.argv``) and export ``--local-rank``
    as ``LOCAL_RANK`` unless the launcher has set that already."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def merge_common_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply ``--launcher`` and ``--work-dir`` (default:
    ``work_dirs/<config name>`` unless the config sets ``work_dir``)."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    return cfg


def _check_new_top_level_keys(cfg: Config, options: Dict[str, Any],
                              filename: Optional[str]) -> None:
    """Refuse an override that adds a top-level key nobody reads."""
    for key, value in options.items():
        top = key.split('.', 1)[0]
        if top == 'data_root' and 'data_root' not in cfg:
            raise ConfigError(
                f'--cfg-options {key}={value!r}: the config{_where(filename)}'
                ' has no top-level data_root, so nothing would read it. Set '
                'the data_root of each dataset instead, e.g. '
                f'train_dataloader.dataset.data_root={value} '
                f'val_dataloader.dataset.data_root={value} '
                f'test_dataloader.dataset.data_root={value}')
        if top in cfg or top in RUNNER_KEYS or top == 'runner_type':
            continue
        known = sorted({k
                        for k in cfg.keys() if not k.startswith('_')}
                       | set(RUNNER_KEYS))
        hint = _did_you_mean(top, known)
        raise ConfigError(
            f'--cfg-options {key}={value!r}: unknown top-level key {top!r}; '
            f'the config{_where(filename)} has no such key and the Runner '
            f'does not read it, so the override would be ignored.{hint}')


def _datasets(node: Any, path: str) -> Iterator[Tuple[str, dict]]:
    """Every dataset dict below a dataset config (wrappers included)."""
    if not isinstance(node, dict):
        return
    yield path, node
    yield from _datasets(node.get('dataset'), f'{path}.dataset')
    for i, sub in enumerate(node.get('datasets', None) or []):
        yield from _datasets(sub, f'{path}.datasets[{i}]')


def _moved(value: Any, old: str, new: str) -> Optional[str]:
    if not isinstance(value, str):
        return None
    if value == old:
        return new
    stem = old.rstrip('/')
    if stem and value.startswith(stem + '/'):
        return new.rstrip('/') + value[len(stem):]
    return None


def propagate_data_root(cfg: Config,
                        old: str,
                        new: str,
                        keep: Tuple[str, ...] = ()) -> List[str]:
    """Point every dataset that used the config's ``data_root`` at ``new``.

    Base configs write their top-level ``data_root`` variable into the
    datasets when the file is loaded (``data_root=data_root`` or
    ``data_root=data_root + '/train'``), so changing the variable later does
    not reach them. This replaces ``old`` by ``new`` in the ``data_root`` of
    every dataset of ``train/val/test_dataloader`` that equals ``old`` or
    lies below it; datasets with another root are left alone.

    Args:
        cfg (Config): The config, changed in place.
        old (str): The config's ``data_root`` before the override.
        new (str): The new root.
        keep (tuple[str]): Key paths (``train_dataloader.dataset.data_root``)
            set explicitly, which are not changed.

    Returns:
        list[str]: The key paths changed.
    """
    changed = []
    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader')
        if not isinstance(loader, dict):
            continue
        for path, dataset in _datasets(
                loader.get('dataset'), f'{split}_dataloader.dataset'):
            key = f'{path}.data_root'
            moved = _moved(dataset.get('data_root'), old, new)
            if moved is not None and key not in keep:
                dataset['data_root'] = moved
                changed.append(key)
    return changed


def apply_cfg_options(cfg: Config,
                      options: Optional[Dict[str, Any]],
                      filename: Optional[str] = None) -> Config:
    """Merge ``--cfg-options`` into ``cfg``, refusing keys nobody reads.

    * An override that introduces a new top-level key (``trian_cfg.x=2``)
      raises :class:`ConfigError` naming the closest existing key; keys the
      Runner reads (``resume``, ``load_from``, ...) may be added.
    * ``data_root=DIR`` also moves the ``data_root`` of every dataset that
      used the config's ``data_root`` (:func:`propagate_data_root`);
      explicit ``*_dataloader.dataset.data_root`` overrides win.

    Args:
        cfg (Config): The config, changed in place.
        options (dict, optional): ``--cfg-options`` as parsed by
            ``DictAction``.
        filename (str, optional): The config file, named in messages.

    Returns:
        Config: ``cfg``.
    """
    if not options:
        return cfg
    _check_new_top_level_keys(cfg, options, filename)
    old_root = cfg.get('data_root')
    cfg.merge_from_dict(options)
    if 'data_root' in options and isinstance(old_root, str):
        explicit = tuple(k for k in options if k.endswith('.data_root'))
        changed = propagate_data_root(cfg, old_root, cfg.data_root, explicit)
        if changed:
            print_log(
                f'data_root={cfg.data_root!r} (was {old_root!r}) set in: '
                f'{", ".join(changed)}',
                logger='current')
    return cfg


def load_tool_config(args: argparse.Namespace,
                     merge_args: Callable[[Config, argparse.Namespace],
                                          Config]) -> Config:
    """The config of ``tools/train.py`` / ``tools/test.py``, ready to build
    the Runner from.

    Registers mmvp's modules (default scope ``'mmvp'``), reads
    ``args.config``, applies the tool's flags with ``merge_args``, checks
    the result (:func:`check_config`) and sets up the distributed launch
    of ``args.launcher`` (:func:`prepare_distributed`).
    """
    register_all_modules()
    cfg = Config.fromfile(args.config)
    cfg = merge_args(cfg, args)
    check_config(cfg, args.config)
    prepare_distributed(cfg, args.launcher)
    return cfg


def build_runner(cfg: Config):
    """Build the Runner of ``cfg``: ``runner_type`` if set, else
    MMEngine's Runner."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    return RUNNERS.build(cfg)


def latest_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint named by ``work_dir/last_checkpoint``, or None.

    Unlike MMEngine's ``find_latest_checkpoint`` it prints nothing when
    there is none (a fresh run).
    """
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return f.read().strip() or None
