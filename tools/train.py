# Copyright (c) mmvp contributors. All rights reserved.
"""Train a video-prediction model from a config file.

Precedence: config file < command-line flags < ``--cfg-options`` (last).
"""
import argparse

from mmengine.config import Config
from mmengine.logging import print_log

from mmvp.utils import (check_checkpoint_compatibility, config_error_hints,
                        finish_distributed)
from mmvp.utils.cli import (add_cfg_options_arg, add_launcher_args,
                            apply_cfg_options, build_runner, latest_checkpoint,
                            load_tool_config, merge_common_args,
                            parse_tool_args)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a video predictor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='the dir to save logs and models '
        '(default: work_dirs/<config name>)')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint; without a path, resume from '
        'the latest checkpoint in the work dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='enable automatic mixed precision training (fp16 on GPU, '
        'bf16 on CPU)')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the total batch size '
        '(auto_scale_lr.base_batch_size in the config)')
    add_cfg_options_arg(
        parser, 'override settings of the config, given as key=value pairs; '
        'they are applied last and win over the other flags, e.g. '
        'train_cfg.max_iters=1000 "model.neck.momentum=0.5"')
    add_launcher_args(parser)
    args = parse_tool_args(parser)
    return args


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Apply the command-line flags to the config."""
    # work_dir: --work-dir > cfg.work_dir > work_dirs/<config stem>
    merge_common_args(cfg, args)

    if args.amp:
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper in ('DeviceAmpOptimWrapper',
                             'NonFiniteSkipAmpOptimWrapper'):
            print_log(
                'AMP training is already enabled in the config.',
                logger='current')
        elif optim_wrapper == 'NonFiniteSkipOptimWrapper':
            # the same skipping of non-finite updates, with AMP
            cfg.optim_wrapper.type = 'NonFiniteSkipAmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        elif optim_wrapper in ('OptimWrapper', 'AmpOptimWrapper'):
            # MMEngine's AmpOptimWrapper is GPU-only; this one also runs
            # on CPU (bf16) and behaves the same on GPU.
            cfg.optim_wrapper.type = 'DeviceAmpOptimWrapper'
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
        else:
            raise ValueError(
                f'--amp switches optim_wrapper.type from OptimWrapper to '
                f'DeviceAmpOptimWrapper, but the config uses '
                f'{optim_wrapper!r}; enable AMP in that wrapper instead.')

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
        if latest_checkpoint(cfg.work_dir) is None:
            # MMEngine would log "Did not find last_checkpoint" and
            # "Auto resumed from the latest checkpoint None"
            print_log(
                f'--resume: no last_checkpoint in {cfg.work_dir}; training '
                'from scratch.',
                logger='current')
            cfg.resume = False
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    if args.auto_scale_lr:
        if 'auto_scale_lr' in cfg and \
                'base_batch_size' in cfg.auto_scale_lr:
            cfg.auto_scale_lr.enable = True
        else:
            raise RuntimeError(
                '--auto-scale-lr needs "auto_scale_lr" with '
                '"base_batch_size" in the config, e.g. '
                'auto_scale_lr = dict(enable=False, base_batch_size=8)')

    return apply_cfg_options(cfg, args.cfg_options, args.config)


def checkpoint_to_load(cfg: Config) -> str:
    """The checkpoint the Runner will load, or '' when training from
    scratch (mirrors ``Runner.load_or_resume``)."""
    if cfg.get('resume', False) and cfg.get('load_from') is None:
        return latest_checkpoint(cfg.work_dir) or ''
    return cfg.get('load_from') or ''


def main():
    args = parse_args()
    # registers mmvp's modules (default scope 'mmvp'), merges the flags,
    # checks the config and sets up the launcher
    cfg = load_tool_config(args, merge_args)

    with config_error_hints(cfg, args.config):
        runner = build_runner(cfg)

        # MMEngine's Runner loads with strict=False and only warns about
        # checkpoints of another config; refuse them before training
        # (mmvp's SafeCheckpointRunner runs this check itself, on the
        # loaded file).
        checkpoint = checkpoint_to_load(cfg)
        if checkpoint and not getattr(runner, 'check_checkpoint_fit', False):
            check_checkpoint_compatibility(
                runner.model, checkpoint, config=args.config)

        runner.train()
    del runner  # frees the DDP wrapper, which holds the process group
    finish_distributed()


if __name__ == '__main__':
    main()
