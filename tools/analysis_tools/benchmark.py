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

import torch
from mmengine.config import Config, DictAction

from mmvp.analysis import (H36M_SETTINGS, build_model_for_counting,
                           count_complexity, sequence_settings)
from mmvp.analysis.benchmark import (benchmark_infer, benchmark_train,
                                     build_optim_wrapper,
                                     channels_last_inputs, format_table,
                                     loadavg, machine_info, random_batch,
                                     step_flops, to_channels_last)
from mmvp.utils import atomic_write_text, register_all_modules


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time training steps and inference of a video '
        'prediction model on random frames')
    parser.add_argument('config', help='config file path')
    parser.add_argument(
        '--batch-size', type=int, default=2, help='clips per step (2)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs=3,
        metavar=('H', 'W', 'C'),
        help='frame height, width and channels (default: the config\'s '
        'test dataset size and img_channels, or 128 128 3 with --h36m)')
    parser.add_argument(
        '--frames',
        type=int,
        nargs=2,
        metavar=('IN', 'OUT'),
        help='input and output frames (default: the model\'s, or 4 4 with '
        '--h36m)')
    parser.add_argument(
        '--h36m',
        action='store_true',
        help='the paper\'s Human3.6M sequence: 4 -> 4 frames of 128 x 128 '
        'x 3 (explicit --shape/--frames win)')
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
        '--channels-last',
        action='store_true',
        help='store conv weights and frames channels_last')
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
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, given as key=value pairs')
    return parser.parse_args(argv)


def _pipeline_size(dataset: dict):
    """``(H, W)`` of the last ``ResizeFrames`` step (``scale=(w, h)``)."""
    size = None
    for step in dataset.get('pipeline') or []:
        if isinstance(step, dict) and step.get('type') == 'ResizeFrames':
            scale = step.get('scale')
            if isinstance(scale, int):
                size = (scale, scale)
            elif scale is not None:
                size = (int(scale[1]), int(scale[0]))
    return size


def _dataset_image_size(cfg: Config):
    """The frame size the config's datasets declare (``image_size``, a
    ``ResizeFrames`` step, or the dataset class default); None if none
    does."""
    import inspect

    from mmvp.registry import DATASETS
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        size = dataset.get('image_size', dataset.get('img_size'))
        if size is None:
            size = _pipeline_size(dataset)
        if size is None and dataset.get('type'):
            cls = DATASETS.get(dataset['type'])
            if cls is not None:
                param = inspect.signature(cls).parameters.get('image_size')
                if param is not None and \
                        param.default is not inspect.Parameter.empty:
                    size = param.default
        if size is not None:
            if isinstance(size, int):
                return size, size
            return tuple(int(s) for s in size)[:2]
    return None


def resolve_settings(cfg: Config, args) -> dict:
    """The benchmarked sequence: frames, channels and size."""
    preset = H36M_SETTINGS if args.h36m else {}
    channels = None
    if args.shape:
        height, width, channels = args.shape
    elif preset:
        height, width = preset['height'], preset['width']
    else:
        size = _dataset_image_size(cfg)
        if size is None:
            raise SystemExit(
                f'{args.config}: the config declares no frame size; give '
                '--shape H W C (or --h36m for 128 x 128 x 3, 4 -> 4)')
        height, width = size
    channels = channels or preset.get('img_channels')
    in_frames, out_frames = args.frames or (preset.get('in_frames'),
                                            preset.get('out_frames'))
    try:
        return sequence_settings(cfg.model, height, width, in_frames,
                                 out_frames, channels)
    except ValueError as err:
        raise SystemExit(f'{args.config}: {err}')


def check_device(device: str) -> torch.device:
    dev = torch.device(device)
    if dev.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device is available to '
                         'this PyTorch build; use --device cpu')
    if dev.type not in ('cpu', 'cuda'):
        raise SystemExit(f'--device must be cpu or cuda, got {device!r}')
    return dev


def _describe_model(model_cfg) -> str:
    parts = [model_cfg['backbone']['type']]
    if model_cfg.get('neck'):
        parts.append(model_cfg['neck']['type'])
    return ' + '.join(parts)


def build(cfg: Config, settings: dict, args, device: torch.device):
    """The model on ``device`` and its MACs per sequence (batch 1)."""
    model_cfg = dict(cfg.model)
    if not args.reverse_input:
        model_cfg['reverse_input'] = False
    counting = build_model_for_counting(model_cfg, settings, 'meta')
    macs = count_complexity(
        counting, torch.empty(settings['input_shape'], device='meta'))
    torch.manual_seed(args.seed)
    model = build_model_for_counting(model_cfg, settings, 'cpu').to(device)
    if args.channels_last:
        to_channels_last(model)
        preprocess = model.data_preprocessor.forward

        def forward(data, training=False):
            out = preprocess(data, training)
            out['inputs'] = channels_last_inputs(out['inputs'])
            return out

        model.data_preprocessor.forward = forward
    if args.compile:
        # what the MMEngine Runner does with cfg.compile=True
        model.train_step = torch.compile(model.train_step)
        model.test_step = torch.compile(model.test_step)
    return model, macs


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
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    settings = resolve_settings(cfg, args)
    model, macs = build(cfg, settings, args, device)
    updates = 2 if getattr(model, 'reverse_input', False) else 1
    flops = step_flops(macs.macs_true, args.batch_size, updates)
    data = random_batch(args.batch_size,
                        settings['in_frames'] + settings['out_frames'],
                        settings['img_channels'], settings['height'],
                        settings['width'], args.seed)
    rows = []
    if args.mode in ('train', 'both'):
        optim_wrapper = build_optim_wrapper(
            model, args.amp, device, cfg=cfg.get('optim_wrapper'))
        load = loadavg()
        res = benchmark_train(model, data, optim_wrapper, args.iters,
                              args.warmup, device)
        res.update(
            mode='train',
            flops=flops['train'],
            gflops_per_s=flops['train'] / res['wall']['median'] / 1e9,
            sequences_per_s=args.batch_size / res['wall']['median'],
            load=_mean_load(load, loadavg()))
        rows.append(res)
    if args.mode in ('infer', 'both'):
        load = loadavg()
        res = benchmark_infer(model, data, args.iters, args.warmup, device,
                              args.amp)
        res.update(
            mode='infer',
            flops=flops['infer'],
            gflops_per_s=flops['infer'] / res['wall']['median'] / 1e9,
            load=_mean_load(load, loadavg()))
        rows.append(res)
    return dict(
        config=args.config,
        model=_describe_model(cfg.model),
        sequence={k: v
                  for k, v in settings.items() if k != 'input_shape'},
        batch_size=args.batch_size,
        amp=args.amp,
        compile=args.compile,
        channels_last=args.channels_last,
        updates_per_step=updates,
        iters=args.iters,
        warmup=args.warmup,
        macs_per_sequence=macs.macs_true,
        params=sum(p.numel() for p in model.parameters()),
        flop_convention=flops['convention'],
        machine=machine_info(device),
        results=rows)


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
        f'Options:  amp={out["amp"] or "off"}, compile={out["compile"]}, '
        f'channels_last={out["channels_last"]}, {out["iters"]} iterations '
        f'after {out["warmup"]} warm-up',
        f'Machine:  torch {mach["torch"]}, {mach["device"]}, '
        f'{mach["threads"]} threads',
        f'FLOPs:    {out["macs_per_sequence"] / 1e9:.2f} GMAC per sequence; '
        f'{out["flop_convention"]}',
        '',
        format_table(out['results']),
    ]
    return '\n'.join(lines)


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
