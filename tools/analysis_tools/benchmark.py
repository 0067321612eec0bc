# Copyright (c) mmvp contributors. All rights reserved.
"""Time training steps and inference of a config's model.

A training step is the model's own ``train_step`` with an Adam
``OptimWrapper`` (data preprocessing, scheduled-sampling mask, the
``T - 1`` step rollout, backward and the optimiser update), exactly what
the training loop runs per iteration. Inference is ``test_step`` (the
predict-mode rollout) under ``torch.no_grad``. Frames are random uint8
clips; nothing is read from disk.

Reported per mode: median wall time over ``--iters`` iterations after
``--warmup`` untimed ones, the quartiles, the process CPU time, the peak
memory (CUDA ``max_memory_allocated``; CPU peak RSS), the achieved
GFLOP/s and, for inference, sequences per second.

FLOP convention: 2 FLOPs per multiply-accumulate of the MAC count of
``get_flops.py`` (``true`` convention: convolutions and the MotionGRU
warp); a training step counts 3x the forward pass per optimiser update.
By default ``reverse_input`` is switched off so a step is one update;
``--reverse-input`` keeps the config's value (two updates per step).

Examples::

    # MotionRNN-PredRNN at the Human3.6M paper settings, batch 2
    python tools/analysis_tools/benchmark.py \\
        configs/motionrnn_predrnn_h36m.py --batch-size 2
    # the same from a V-MNIST config, bf16 autocast, JSON output
    python tools/analysis_tools/benchmark.py \\
        configs/motionrnn_predrnn_vmnist.py --h36m --batch-size 2 \\
        --amp bf16 --json work_dirs/bench_bf16.json
"""
import argparse
import json
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

from mmvp.utils import atomic_write_text, register_all_modules
from mmvp.utils.cli import add_cfg_options_arg

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
# the helper modules beside this file
import benchmark_utils as bm  # noqa: E402
import complexity as cx  # noqa: E402


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description='Time training steps and inference of a video '
        'prediction model on random frames')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--baseline',
        metavar='CONFIG',
        help='also time this config (e.g. the backbone without MotionRNN), '
        'alternating steps with CONFIG, and report CONFIG\'s time as a '
        'ratio of it; the same sequence and options (and --cfg-options) '
        'apply to both')
    parser.add_argument(
        '--batch-size', type=int, default=2, help='clips per step (2)')
    cx.add_sequence_args(parser, channels_in_shape=True)
    parser.add_argument(
        '--iters', type=int, default=10, help='timed iterations (10)')
    parser.add_argument(
        '--warmup', type=int, default=2, help='untimed iterations first (2)')
    parser.add_argument(
        '--amp',
        choices=['bf16', 'fp16'],
        help='autocast dtype (CPU supports bf16 only)')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the model\'s train_step and test_step, as the '
        'MMEngine Runner does with cfg.compile=True')
    parser.add_argument(
        '--compile-regions',
        action='store_true',
        help='torch.compile each per-step module (cells, MotionGRU blocks) '
        'on its own: the model\'s compile_regions option')
    parser.add_argument(
        '--compile-mode',
        metavar='MODE',
        help='torch.compile mode for --compile or --compile-regions, e.g. '
        'reduce-overhead (CUDA graphs) or max-autotune')
    parser.add_argument(
        '--channels-last',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='store conv weights, frames and states channels_last (NHWC), '
        'i.e. the model\'s channels_last option (default: the config\'s '
        'value)')
    parser.add_argument(
        '--cudnn-benchmark',
        action=argparse.BooleanOptionalAction,
        default=None,
        help='let cuDNN time its convolution algorithms for each shape and '
        'keep the fastest (torch.backends.cudnn.benchmark; default: the '
        'config\'s env_cfg.cudnn_benchmark, as in training); CUDA only')
    parser.add_argument(
        '--profile',
        action='store_true',
        help='after timing, profile one more step of each model: the ATen '
        'operators it dispatches and, on CUDA, its kernels and their '
        'summed device time (a device time far below the step time means '
        'the host is the bottleneck)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='cpu or cuda (default: cuda when available)')
    parser.add_argument(
        '--mode',
        choices=['train', 'infer', 'both'],
        default='both',
        help='what to time (both)')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch intra-op threads (default: torch\'s, i.e. '
        'OMP_NUM_THREADS or the core count)')
    parser.add_argument(
        '--reverse-input',
        action='store_true',
        help='keep the config\'s reverse_input (two optimiser updates per '
        'step when it is on); by default a step is one update')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of weights and frames')
    parser.add_argument('--json', help='write the results to this JSON file')
    add_cfg_options_arg(parser)
    parser.add_argument(
        '--baseline-cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the baseline only (after '
        '--cfg-options), e.g. to time one config against itself with '
        'model.channels_last=False')
    return parser


def parse_args(argv=None):
    return build_parser().parse_args(argv)


def resolve_settings(cfg: Config, args) -> dict:
    """The benchmarked sequence: frames, channels and size."""
    return cx.sequence_from_args(cfg, args)


def check_device(device: str) -> torch.device:
    dev = torch.device(device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available to '
                         'this PyTorch build; use --device cpu')
    if dev.type not in ('cpu', 'cuda'):
        raise SystemExit(f'--device must be cpu or cuda, got {device!r}')
    return dev


def build(cfg: Config, settings: dict, args, device: torch.device):
    """The model on ``device`` and its MACs per sequence (batch 1)."""
    model_cfg = dict(cfg.model)
    if not args.reverse_input:
        model_cfg['reverse_input'] = False
    counting = cx.build_model_for_counting(model_cfg, settings, 'meta')
    macs = cx.count_complexity(
        counting, torch.empty(settings['input_shape'], device='meta'))
    torch.manual_seed(args.seed)
    if args.channels_last is not None:
        model_cfg['channels_last'] = args.channels_last
    mode = dict(mode=args.compile_mode) if args.compile_mode else {}
    if args.compile_regions:
        # keeps torch.compile arguments the config (or --cfg-options) gives
        regions = model_cfg.get('compile_regions')
        regions = dict(regions) if isinstance(regions, dict) else {}
        model_cfg['compile_regions'] = {**regions, **mode} or True
    model = cx.build_model_for_counting(model_cfg, settings, 'cpu').to(device)
    if args.compile:
        # what the MMEngine Runner does with cfg.compile=True
        try:
            model.train_step = torch.compile(model.train_step, **mode)
            model.test_step = torch.compile(model.test_step, **mode)
        except RuntimeError as err:  # an unknown mode
            raise SystemExit(f'--compile-mode {args.compile_mode}: {err}')
    return model, macs


def _load_config(path: str, args, baseline: bool = False) -> Config:
    cfg = Config.fromfile(path)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if baseline and args.baseline_cfg_options:
        cfg.merge_from_dict(args.baseline_cfg_options)
    return cfg


def _model_info(path, cfg, model, macs, args) -> dict:
    return dict(
        config=path,
        model=cx.describe_model(cfg.model),
        params=sum(p.numel() for p in model.parameters()),
        macs_per_sequence=macs.macs_true,
        channels_last=bool(getattr(model, 'channels_last', False)),
        # from the model: a config may set compile_regions itself
        compile_regions=getattr(model, 'compile_regions', None) is not None,
        updates_per_step=2 if getattr(model, 'reverse_input', False) else 1)


def _finish_row(res, mode, info, flops, batch_size, load):
    fl = flops['train'] if mode == 'train' else flops['infer']
    res.update(
        mode=mode,
        config=info['config'],
        flops=fl,
        gflops_per_s=fl / res['wall']['median'] / 1e9,
        sequences_per_s=batch_size / res['wall']['median'],
        load=load)
    return res


def run(args) -> dict:
    register_all_modules()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = check_device(args.device)
    if device.type == 'cpu' and args.amp == 'fp16':
        raise SystemExit('--amp fp16 on CPU: PyTorch autocasts only to '
                         'bfloat16 on CPU (and emulated fp16 is about 200x '
                         'slower); use --amp bf16')
    if args.batch_size < 1:
        raise SystemExit(f'--batch-size must be >= 1, got {args.batch_size}')
    if args.compile and args.compile_regions:
        raise SystemExit('--compile and --compile-regions exclude each other: '
                         'the whole step or its per-step modules')
    if args.compile_mode and not (args.compile or args.compile_regions):
        raise SystemExit('--compile-mode needs --compile or --compile-regions')
    if args.baseline_cfg_options and not args.baseline:
        raise SystemExit('--baseline-cfg-options needs --baseline CONFIG')
    if args.baseline and args.warmup < 1:
        raise SystemExit('--baseline needs --warmup >= 1 (the warm-up steps '
                         'measure each model\'s peak memory)')
    cfg = _load_config(args.config, args)
    settings = resolve_settings(cfg, args)
    cudnn_benchmark = _cudnn_benchmark(cfg, args, device)
    entries = []  # (info, cfg, model, flops)
    paths = [args.config] + ([args.baseline] if args.baseline else [])
    for k, path in enumerate(paths):
        this_cfg = cfg if k == 0 else _load_config(path, args, True)
        try:
            model, macs = build(this_cfg, settings, args, device)
        except (KeyError, TypeError, ValueError) as err:
            raise SystemExit(f'{path}: cannot build its model for this '
                             f'sequence: {err}')
        info = _model_info(path, this_cfg, model, macs, args)
        flops = bm.step_flops(macs.macs_true, args.batch_size,
                              info['updates_per_step'])
        entries.append((info, this_cfg, model, flops))
    data = bm.random_batch(args.batch_size,
                           settings['in_frames'] + settings['out_frames'],
                           settings['img_channels'], settings['height'],
                           settings['width'], args.seed)
    rows, baseline_rows = [], []
    modes = ['train', 'infer'] if args.mode == 'both' else [args.mode]
    for mode in modes:
        fns, losses = [], [[] for _ in entries]
        for (info, this_cfg, model, _), loss in zip(entries, losses):
            if mode == 'train':
                optim_wrapper = bm.build_optim_wrapper(
                    model, args.amp, device, cfg=this_cfg.get('optim_wrapper'))
                fns.append(bm.train_step_fn(model, data, optim_wrapper, loss))
            else:
                fns.append(bm.infer_step_fn(model, data, device, args.amp))
        load = bm.loadavg()
        if len(fns) == 1:
            with bm.PeakMemory(device) as peak:
                res = bm.time_iterations(fns[0], args.iters, args.warmup,
                                         device)
            res.update(
                peak_memory_bytes=peak.bytes,
                peak_memory_kind=peak.kind,
                peak_memory_scope=peak.scope)
            paired = None
        else:
            paired = bm.time_paired(fns[0], fns[1], args.iters, args.warmup,
                                    device)
            res = paired['main']
            res['ratio_to_baseline'] = paired['ratio']
        load = _mean_load(load, bm.loadavg())
        if args.profile:
            step = args.warmup + args.iters
            profiles = [bm.profile_step(f, step, device) for f in fns]
            res['profile'] = profiles[0]
            if paired is not None:
                paired['baseline']['profile'] = profiles[1]
        if mode == 'train':  # mean logged loss, a sanity figure
            res['loss'] = _mean(losses[0])
            if paired is not None:
                paired['baseline']['loss'] = _mean(losses[1])
        rows.append(
            _finish_row(res, mode, entries[0][0], entries[0][3],
                        args.batch_size, load))
        if paired is not None:
            baseline_rows.append(
                _finish_row(paired['baseline'], mode, entries[1][0],
                            entries[1][3], args.batch_size, load))
    info = entries[0][0]
    out = dict(
        config=args.config,
        model=info['model'],
        sequence={
            k: v
            for k, v in settings.items() if k != 'input_shape'
        },
        batch_size=args.batch_size,
        amp=args.amp,
        compile=args.compile,
        compile_regions=info['compile_regions'],
        compile_mode=args.compile_mode,
        cudnn_benchmark=cudnn_benchmark,
        channels_last=info['channels_last'],
        updates_per_step=info['updates_per_step'],
        iters=args.iters,
        warmup=args.warmup,
        macs_per_sequence=info['macs_per_sequence'],
        params=info['params'],
        flop_convention=entries[0][3]['convention'],
        machine=bm.machine_info(device),
        results=rows)
    if args.baseline:
        out['baseline'] = dict(
            entries[1][0],
            cfg_options=dict(args.baseline_cfg_options or {}),
            results=baseline_rows)
    return out


def _cudnn_benchmark(cfg: Config, args, device: torch.device):
    """Set ``torch.backends.cudnn.benchmark`` from ``--cudnn-benchmark``
    or the config's ``env_cfg``; None (untouched) on CPU."""
    if device.type != 'cuda':
        if args.cudnn_benchmark:
            raise SystemExit('--cudnn-benchmark needs --device cuda')
        return None
    value = args.cudnn_benchmark
    if value is None:
        value = bool(cfg.get('env_cfg', {}).get('cudnn_benchmark', False))
    torch.backends.cudnn.benchmark = value
    return value


def _mean(values) -> float:
    return float(torch.stack([v.float().cpu() for v in values]).mean())


def _mean_load(before, after):
    if before is None or after is None:
        return None
    return (before + after) / 2


def format_report(out: dict) -> str:
    seq = out['sequence']
    mach = out['machine']
    lines = [
        f'Config:   {out["config"]}',
        f'Model:    {out["model"]}, {out["params"]:,} parameters',
        f'Sequence: {seq["in_frames"]} -> {seq["out_frames"]} frames of '
        f'{seq["height"]}x{seq["width"]}x{seq["img_channels"]}, patch '
        f'{seq["patch_size"]}, batch {out["batch_size"]}, '
        f'{out["updates_per_step"]} update(s) per training step',
        f'Options:  amp={out["amp"] or "off"}, {_compile_text(out)}, '
        f'channels_last={out["channels_last"]}, '
        f'cudnn_benchmark={out["cudnn_benchmark"]}, {out["iters"]} iterations '
        f'after {out["warmup"]} warm-up',
        f'Machine:  torch {mach["torch"]}, {mach["device"]}, '
        f'{mach["threads"]} threads',
        f'FLOPs:    {out["macs_per_sequence"] / 1e9:.2f} GMAC per sequence; '
        f'{out["flop_convention"]}',
    ]
    base = out.get('baseline')
    if base:
        lines.append(f'Baseline: {base["config"]} ({base["model"]}, '
                     f'{base["params"]:,} parameters, '
                     f'{base["macs_per_sequence"] / 1e9:.2f} GMAC per '
                     'sequence), steps alternated with the model\'s')
        if base.get('cfg_options'):
            options = ' '.join(f'{k}={v}'
                               for k, v in base['cfg_options'].items())
            lines.append(f'          baseline options: {options}')
    rows = [dict(r, mode=r['mode']) for r in out['results']]
    if base:
        rows += [
            dict(r, mode=r['mode'] + ' (baseline)') for r in base['results']
        ]
    lines += ['', bm.format_table(rows)]
    if out['compile'] or out['compile_regions']:
        for r in rows:
            if r.get('warmup_wall'):
                lines.append(f'{r["mode"]}: first step '
                             f'{bm.format_seconds(r["warmup_wall"][0])}, '
                             'compilation included')
    for r in out['results']:
        lines += _profile_lines(r, r['mode'])
    for r in (base or {}).get('results', []):
        lines += _profile_lines(r, r['mode'] + ' (baseline)')
    for r in out['results']:
        ratio = r.get('ratio_to_baseline')
        if ratio:
            base_wall = _baseline_row(base, r['mode'])['wall']
            lines.append(f'{r["mode"]}: {ratio["median"]:.3f} x the baseline '
                         f'(median of {ratio["n"]} per-round ratios, q1..q3 '
                         f'{ratio["q1"]:.3f}..{ratio["q3"]:.3f}; time '
                         f'{bm.format_seconds(r["wall"]["median"])} against '
                         f'{bm.format_seconds(base_wall["median"])})')
    return '\n'.join(lines)


def _compile_text(out: dict) -> str:
    what = 'step' if out['compile'] else (
        'regions' if out.get('compile_regions') else None)
    if what is None:
        return 'compile=False'
    mode = out.get('compile_mode') or 'default'
    return f'compile={what} ({mode} mode)'


def _profile_lines(row: dict, label: str) -> list:
    prof = row.get('profile')
    if not prof:
        return []
    line = f'{label}: one profiled step dispatched {prof["host_ops"]:,} ' \
        'ATen operators'
    if prof['device_time_s'] is not None:
        busy = prof['device_time_s'] / row['wall']['median']
        line += (f', ran {prof["device_events"]:,} device kernels/copies '
                 f'for {bm.format_seconds(prof["device_time_s"])} ({busy:.0%} '
                 'of the median step)')
    return [line]


def _baseline_row(base: dict, mode: str) -> dict:
    return next(r for r in base['results'] if r['mode'] == mode)


def write_json(out: dict, path: str):
    """Write ``out`` to ``path`` atomically (temporary file + rename)."""
    atomic_write_text(path, json.dumps(out, indent=2))


def main(argv=None):
    args = parse_args(argv)
    out = run(args)
    print(format_report(out))
    if args.json:
        write_json(out, args.json)
        print(f'Wrote {args.json}')
    return out


if __name__ == '__main__':
    main()
