# Copyright (c) mmvp contributors. All rights reserved.
"""Train a model eagerly and with a fast path side by side and compare the
losses, iteration by iteration.

A fast path (``--compile-regions``, ``--compile``, either with
``--compile-mode reduce-overhead`` for CUDA graphs, or ``--channels-last``)
must train like the eager model.
This tool builds the model twice from the same seed, gives the fast copy the
eager copy's weights, and runs both on the same random clips (a new batch
every iteration) for ``--iters`` training steps. It prints the two losses
per iteration, their largest relative difference and the largest difference
of the weights at the end, and exits with status 1 when the losses differ
by more than ``--rtol`` (or a loss is not finite), so it can gate a GPU
check script.

Every option of ``benchmark.py`` that describes the model and the sequence
is accepted (``--h36m``, ``--shape``, ``--frames``, ``--batch-size``,
``--amp``, ``--device``, ``--cfg-options``...) and applies to both copies;
the fast-path options (``--compile-regions``, ``--compile``,
``--compile-mode``, ``--channels-last``) apply to the fast copy only, and the
eager copy is built with the config's ``compile_regions`` off.

Tolerances: the default ``--rtol 1e-4`` suits fp32 on the CPU and the
``eager`` compile backend; inductor kernels, TF32 and bf16 reorder sums,
and their losses drift apart slowly over the iterations, so give a looser
``--rtol`` there (e.g. ``2e-2`` for bf16).

Examples::

    # regional compilation against eager, 50 iterations, H36M setting
    python tools/analysis_tools/compare_fast_path.py \\
        configs/motionrnn_predrnn_h36m.py --h36m --batch-size 8 \\
        --compile-regions --iters 50 --rtol 1e-3
    # the same with CUDA graphs and bf16
    python tools/analysis_tools/compare_fast_path.py \\
        configs/motionrnn_predrnn_h36m.py --h36m --batch-size 8 --amp bf16 \\
        --compile-regions --compile-mode reduce-overhead --iters 50 \\
        --rtol 2e-2
"""
import argparse
import copy
import json
import math
import os.path as osp
import sys
import textwrap

import torch

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import benchmark  # noqa: E402 (the benchmark tool beside this file)
import benchmark_utils as bm  # noqa: E402

from mmvp.utils import atomic_write_text, register_all_modules  # noqa: E402

#: Options of ``benchmark.py`` that make the fast path; the eager copy is
#: built without them.
FAST_OPTIONS = dict(compile=False, compile_regions=False, compile_mode=None)

#: benchmark.py options that time rather than train; refused here.
NOT_TAKEN = ('--baseline', '--baseline-cfg-options', '--profile', '--mode',
             '--warmup')


def benchmark_flags() -> list:
    """The benchmark.py options this tool passes on."""
    flags = []
    for action in benchmark.build_parser()._actions:
        flags += [
            f for f in action.option_strings
            if f.startswith('--') and f not in NOT_TAKEN +
            ('--help', '--iters', '--json')
        ]
    return flags


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Train a model eagerly and with a fast path (compiled '
        'regions, CUDA graphs, ...) on the same clips and compare losses',
        usage='%(prog)s CONFIG [options]',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.fill(
            'The other options are those of benchmark.py that describe the '
            'model, the sequence and the fast path: ' +
            ', '.join(benchmark_flags()) + '.',
            break_on_hyphens=False))
    parser.add_argument(
        '--iters', type=int, default=50, help='training iterations (50)')
    parser.add_argument(
        '--rtol',
        type=float,
        default=1e-4,
        help='largest accepted relative loss difference (1e-4)')
    parser.add_argument('--json', help='write the per-iteration losses here')
    return parser


def parse_args(argv=None):
    own, rest = build_parser().parse_known_args(argv)
    if own.iters < 1:
        raise SystemExit(f'--iters must be >= 1, got {own.iters}')
    if own.rtol < 0:
        raise SystemExit(f'--rtol must be >= 0, got {own.rtol}')
    for flag in NOT_TAKEN:
        if flag in rest:
            raise SystemExit(f'{flag} is a benchmark.py option this tool '
                             'does not take')
    fast = benchmark.parse_args(rest)
    if fast.compile_mode and not (fast.compile or fast.compile_regions):
        raise SystemExit('--compile-mode needs --compile or --compile-regions')
    if not (fast.compile or fast.compile_regions
            or fast.channels_last is not None):
        raise SystemExit('name a fast path to compare with eager: '
                         '--compile-regions, --compile or --channels-last')
    if fast.compile and fast.compile_regions:
        raise SystemExit('--compile and --compile-regions exclude each other')
    eager = copy.copy(fast)
    for key, value in FAST_OPTIONS.items():
        setattr(eager, key, value)
    # the eager copy keeps the config's own memory format
    eager.channels_last = None
    return own, eager, fast


def _copy_weights(src: torch.nn.Module, dst: torch.nn.Module) -> None:
    missing, unexpected = dst.load_state_dict(src.state_dict(), strict=False)
    if missing or unexpected:
        raise SystemExit('the fast model has other parameters than the eager '
                         f'one: missing {missing}, unexpected {unexpected}')


def max_weight_difference(a: torch.nn.Module, b: torch.nn.Module) -> float:
    """Largest absolute difference between the two models' floating-point
    parameters and buffers."""
    sb = b.state_dict()
    diff = 0.0
    for key, value in a.state_dict().items():
        if torch.is_floating_point(value):
            other = sb[key].to(value.device, value.dtype)
            diff = max(diff, (value - other).abs().max().item())
    return diff


def relative_difference(x: float, y: float) -> float:
    """``|x - y| / max(|x|, |y|)``; 0 for two zeros, inf for a non-finite
    value."""
    if not (math.isfinite(x) and math.isfinite(y)):
        return math.inf
    scale = max(abs(x), abs(y))
    return abs(x - y) / scale if scale > 0 else 0.0


def run(own, eager_args, fast_args) -> dict:
    register_all_modules()
    if fast_args.threads:
        torch.set_num_threads(fast_args.threads)
    device = benchmark.check_device(fast_args.device)
    if device.type == 'cpu' and fast_args.amp == 'fp16':
        raise SystemExit('--amp fp16 on CPU: PyTorch autocasts only to '
                         'bfloat16 on CPU; use --amp bf16')
    models, wrappers = [], []
    for args in (eager_args, fast_args):
        cfg = benchmark._load_config(args.config, args)
        if args is eager_args:
            # the reference is eager even where the config compiles
            cfg.model['compile_regions'] = False
        settings = benchmark.resolve_settings(cfg, args)
        model, _ = benchmark.build(cfg, settings, args, device)
        models.append(model)
        wrappers.append(cfg.get('optim_wrapper'))
    _copy_weights(models[0], models[1])
    steps = []
    losses = ([], [])
    for model, wrapper_cfg, loss in zip(models, wrappers, losses):
        optim_wrapper = bm.build_optim_wrapper(
            model, fast_args.amp, device, cfg=wrapper_cfg)
        steps.append((model, optim_wrapper, loss))
    frames = settings['in_frames'] + settings['out_frames']
    for i in range(own.iters):
        data = bm.random_batch(fast_args.batch_size, frames,
                               settings['img_channels'], settings['height'],
                               settings['width'], fast_args.seed + i)
        for model, optim_wrapper, loss in steps:
            bm.train_step_fn(model, data, optim_wrapper, loss)(i)
    eager_losses = [float(v) for v in losses[0]]
    fast_losses = [float(v) for v in losses[1]]
    rel = [
        relative_difference(a, b) for a, b in zip(eager_losses, fast_losses)
    ]
    worst = max(range(len(rel)), key=rel.__getitem__)
    return dict(
        config=fast_args.config,
        fast_path=dict(
            compile=fast_args.compile,
            compile_regions=fast_args.compile_regions,
            compile_mode=fast_args.compile_mode,
            channels_last=fast_args.channels_last),
        cfg_options=dict(fast_args.cfg_options or {}),
        amp=fast_args.amp,
        device=str(device),
        batch_size=fast_args.batch_size,
        iters=own.iters,
        rtol=own.rtol,
        eager_losses=eager_losses,
        fast_losses=fast_losses,
        max_rel_loss_diff=rel[worst],
        worst_iter=worst,
        max_abs_weight_diff=max_weight_difference(*models),
        passed=rel[worst] <= own.rtol)


def format_report(out: dict) -> str:
    lines = [
        f"{out['config']} on {out['device']}, batch {out['batch_size']}"
        f", amp {out['amp'] or 'off'}, fast path {out['fast_path']}",
        f"{'iter':>5} {'eager loss':>14} {'fast loss':>14} {'rel diff':>10}"
    ]
    for i, (a, b) in enumerate(zip(out['eager_losses'], out['fast_losses'])):
        lines.append(f'{i:>5} {a:>14.7g} {b:>14.7g} '
                     f'{relative_difference(a, b):>10.2e}')
    verdict = 'within' if out['passed'] else 'OUTSIDE'
    lines.append(
        f"largest relative loss difference {out['max_rel_loss_diff']:.3e} "
        f"(iteration {out['worst_iter']}), {verdict} rtol {out['rtol']:g}; "
        f"largest weight difference after {out['iters']} iterations "
        f"{out['max_abs_weight_diff']:.3e}")
    return '\n'.join(lines)


def main(argv=None) -> int:
    own, eager_args, fast_args = parse_args(argv)
    out = run(own, eager_args, fast_args)
    print(format_report(out))
    if own.json:
        atomic_write_text(own.json, json.dumps(out, indent=2) + '\n')
    return 0 if out['passed'] else 1


if __name__ == '__main__':
    sys.exit(main())
