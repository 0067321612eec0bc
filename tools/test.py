# Copyright (c) mmvp contributors. All rights reserved.
"""Test a checkpoint on the test split of a config.

Precedence: config file < command-line flags < ``--cfg-options`` (last).
"""
import argparse
import csv
import json
import os
import os.path as osp
from numbers import Number

from mmengine.config import Config
from mmengine.dist import is_main_process
from mmengine.runner import Runner

from mmvp.registry import HOOKS
from mmvp.utils import (check_checkpoint_compatibility, config_error_hints,
                        finish_distributed)
from mmvp.utils.cli import (add_cfg_options_arg, add_launcher_args,
                            apply_cfg_options, build_runner, load_tool_config,
                            merge_common_args, parse_tool_args)

OUT_FORMATS = ('.json', '.csv')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a video predictor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs (default: work_dirs/<config name>)')
    parser.add_argument(
        '--out',
        help='write the metrics (and per-sample metrics where the metric '
        'provides them) to this .json or .csv file')
    parser.add_argument(
        '--show-dir',
        help='save visualized predictions to this directory (turns on the '
        'visualization hook of the config)')
    add_cfg_options_arg(
        parser, 'override settings of the config, given as key=value pairs; '
        'they are applied last and win over the other flags')
    add_launcher_args(parser)
    args = parse_tool_args(parser)
    if args.out is not None and \
            osp.splitext(args.out)[1].lower() not in OUT_FORMATS:
        parser.error(f'--out {args.out}: the file must end with '
                     f'{" or ".join(OUT_FORMATS)}')
    return args


def trigger_visualization_hook(cfg: Config, args: argparse.Namespace):
    """Enable the visualization hook of the config for ``--show-dir``."""
    hooks = cfg.get('default_hooks') or {}
    hook = hooks.get('visualization', None)
    if hook is None:
        for custom in cfg.get('custom_hooks') or []:
            if 'Visualization' in str(custom.get('type', '')):
                hook = custom
                break
    if hook is None:
        known = sorted(name for name in HOOKS.module_dict
                       if 'Visualiz' in name)
        example = known[0] if known else 'VisualizationHook'
        raise RuntimeError(
            f'--show-dir needs a visualization hook, but {args.config} has '
            'none: add default_hooks = dict(visualization=dict('
            f"type='{example}')) to the config. Registered visualization "
            f'hooks: {", ".join(known) if known else "none"}.')
    hook['enable'] = True
    hook['out_dir'] = args.show_dir


def _jsonable(value):
    if hasattr(value, 'tolist'):  # tensors and numpy values
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def collect_per_sample(runner: Runner) -> list:
    """Per-sample records offered by the test metrics.

    A metric offers them through a ``per_sample_results`` attribute (or a
    method of that name) holding a list of dicts, each with a
    ``sample_idx`` and per-sample values (scalars or per-timestep lists),
    filled in ``compute_metrics`` on the main process.
    """
    evaluator = getattr(runner, 'test_evaluator', None)
    records = []
    for metric in getattr(evaluator, 'metrics', []):
        found = getattr(metric, 'per_sample_results', None)
        if callable(found):
            found = found()
        if found:
            prefix = getattr(metric, 'prefix', None)
            for rec in found:
                rec = dict(rec)
                if prefix:
                    rec.setdefault('metric_prefix', prefix)
                records.append(rec)
    return records


def dump_results(path: str, metrics: dict, per_sample: list, cfg_file: str,
                 checkpoint: str) -> None:
    """Write metrics to ``path`` (.json, or long-format .csv with columns
    ``sample_idx, metric, value``; aggregate rows use ``sample_idx=all``)."""
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    if path.lower().endswith('.json'):
        with open(path, 'w') as f:
            json.dump(
                _jsonable(
                    dict(
                        config=cfg_file,
                        checkpoint=checkpoint,
                        metrics=metrics,
                        per_sample=per_sample)),
                f,
                indent=2)
        return
    rows = [('all', k, v) for k, v in _jsonable(metrics).items()]
    for rec in _jsonable(per_sample):
        idx = rec.pop('sample_idx', '')
        prefix = rec.pop('metric_prefix', None)
        for key, value in rec.items():
            name = f'{prefix}/{key}' if prefix else key
            if isinstance(value, list):
                rows += [(idx, f'{name}_t{t + 1}', v)
                         for t, v in enumerate(value)]
            elif isinstance(value, Number):
                rows.append((idx, name, value))
    with open(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(('sample_idx', 'metric', 'value'))
        writer.writerows(rows)


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line flags to the config."""
    merge_common_args(cfg, args)
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.show_dir is not None:
        trigger_visualization_hook(cfg, args)
    return apply_cfg_options(cfg, args.cfg_options, args.config)


def main():
    args = parse_args()
    # registers mmvp's modules (default scope 'mmvp'), merges the flags,
    # checks the config and sets up the launcher
    cfg = load_tool_config(args, merge_args)

    with config_error_hints(cfg, args.config):
        runner = build_runner(cfg)

        # MMEngine's Runner loads with strict=False and only warns; a
        # checkpoint of another config must not be evaluated (mmvp's
        # SafeCheckpointRunner runs this check itself, on the loaded file).
        if not getattr(runner, 'check_checkpoint_fit', False):
            check_checkpoint_compatibility(
                runner.model, cfg.load_from, config=args.config)

        metrics = runner.test()

    if args.out is not None and is_main_process():
        dump_results(args.out, metrics, collect_per_sample(runner),
                     args.config, args.checkpoint)
        runner.logger.info(f'Metrics written to {args.out}')
    del runner  # frees the DDP wrapper, which holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
