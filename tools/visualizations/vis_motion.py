# Copyright (c) mmvp contributors. All rights reserved.
"""Draw the motion filters of every MotionGRU layer over a clip (paper
Figure 9).

For each MotionGRU block (layer ``l``) and each recurrent step ``t``, the
trending momentum ``D`` and the final filter ``F = F~ + D`` (optionally the
transient variation ``F~ = F - D``) are drawn as arrows over the frame the
model consumed at that step (observed frames first, then its own
predictions). Offsets live on the half-resolution grid of the hidden state
(``H / (2 * patch_size)`` positions per side, channels ``[all dy | all
dx]`` over the 9 taps of the 3x3 warp); each arrow is the mean ``(dy, dx)``
over the taps (``--reduce center``: the middle tap), drawn at the centre of
its grid cell. By default the arrow lengths are normalised per step (the
filters grow over the steps: ``--arrow-scale auto-step``, the factor is in
each panel's title), the colour gives the true length on one scale for all
steps (colour bar in grid pixels; each title also prints the step's
largest offset) and the steps wrap after ``--max-cols`` panels. Arrows
point to where the warp samples features from; ``--as-motion`` flips them
to show the apparent motion.

Examples::

    python tools/visualizations/vis_motion.py \
        configs/motionrnn_predrnn_vmnist.py iter_100000.pth \
        --clip-index 3 --out-dir vis_motion/
    python tools/visualizations/vis_motion.py CONFIG CKPT \
        --video clip.mp4 --start 0 --transient --out-dir vis_motion/

Outputs in ``--out-dir``: ``layer<l>_motion.png`` per MotionGRU block and
``motion_fields.npz`` (raw ``F`` and ``D`` per block, ``[steps, 2N, h, w]``,
and the drawn frames).
"""
import argparse
import os
import os.path as osp

import numpy as np
import torch

from mmvp.apis import VideoPredInferencer
from mmvp.registry import DATASETS
from mmvp.structures import VideoPredDataSample
from mmvp.utils import atomic_write, register_all_modules
from mmvp.utils.cli import add_model_args, run_tool_main
from mmvp.visualization import MotionRecorder, plot_motion_fields, reduce_taps


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Quiver plots of the MotionGRU filters (trend D, '
        'filter F, transient F~) over a clip')
    add_model_args(parser, config_help='config file of a MotionRNN model')
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        '--clip-index',
        type=int,
        default=None,
        help='index of a clip of the config\'s test set (default 0)')
    source.add_argument('--video', help='a video file or frame folder instead')
    parser.add_argument(
        '--start',
        type=int,
        default=0,
        help='with --video: first frame of the observed window')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=None,
        help='frames to predict (default: the trained out_frames)')
    parser.add_argument(
        '--transient',
        action='store_true',
        help='also draw the transient variation F~ = F - D')
    parser.add_argument(
        '--reduce',
        choices=['mean', 'center'],
        default='mean',
        help='one vector per position from the 9 taps: their mean offset '
        '(default) or the middle tap')
    parser.add_argument(
        '--arrow-scale',
        default='auto-step',
        help='arrow length factor: a number (1 = true length in image '
        'pixels), "auto" (the 95th percentile of the lengths of a layer '
        'drawn as 0.8 grid cells) or "auto-step" (default: the same per '
        'step, for filters that grow over time); factors are in the titles')
    parser.add_argument(
        '--colour',
        choices=['magnitude', 'field'],
        default='magnitude',
        help='arrow colour: the true offset length with a colour bar '
        '(default) or one colour per field')
    parser.add_argument(
        '--max-cols',
        type=int,
        default=10,
        help='steps per row before wrapping (default 10)')
    parser.add_argument(
        '--grid-step', type=int, default=1, help='draw every k-th position')
    parser.add_argument(
        '--every', type=int, default=1, help='draw every k-th step')
    parser.add_argument(
        '--as-motion',
        action='store_true',
        help='flip arrows: apparent motion instead of sampling offsets')
    parser.add_argument(
        '--frame-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='with --video: override the frame size of the config')
    args = parser.parse_args(argv)
    if args.arrow_scale not in ('auto', 'auto-step'):
        try:
            args.arrow_scale = float(args.arrow_scale)
        except ValueError:
            args.arrow_scale = -1.0
        if not args.arrow_scale > 0:
            parser.error('--arrow-scale must be a number > 0, "auto" or '
                         '"auto-step"')
    for name in ('grid_step', 'every', 'max_cols'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1')
    if args.num_frames is not None and args.num_frames < 1:
        parser.error('--num-frames must be >= 1')
    return args


def test_clip(cfg, index: int) -> np.ndarray:
    """uint8 ``[T, C, H, W]`` of clip ``index`` of the test set."""
    dataset_cfg = cfg.get('test_dataloader', {}).get('dataset')
    if not dataset_cfg:
        raise ValueError('the config has no test_dataloader.dataset; use '
                         '--video instead')
    dataset = DATASETS.build(dataset_cfg)
    if not 0 <= index < len(dataset):
        raise ValueError(f'--clip-index {index} is out of range: the test '
                         f'set has {len(dataset)} clips')
    item = dataset[index]
    inputs = item['inputs'] if isinstance(item, dict) else None
    if not isinstance(inputs, torch.Tensor) or inputs.dim() != 4:
        raise ValueError('the test pipeline must end with '
                         'PackVideoPredInputs (inputs uint8 [T, C, H, W])')
    return inputs


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    inferencer = VideoPredInferencer(
        model=args.config,
        weights=args.checkpoint,
        device=args.device,
        frame_size=args.frame_size)
    model = inferencer.model
    t_in = int(model.in_frames)
    if args.video is not None:
        # the window as the inferencer prepares it (the test pipeline)
        batch = next(
            inferencer.preprocess([args.video],
                                  start=args.start,
                                  with_gt=False))
        clip = batch['inputs'][0]
        start = batch['data_samples'][0].metainfo['window_start']
        source = f'{osp.basename(args.video)} from frame {start}'
    else:
        index = args.clip_index or 0
        clip = test_clip(inferencer.cfg, index)[:t_in]
        source = f'test clip {index}'

    recorder = MotionRecorder(model)
    test_cfg = model.test_cfg
    saved = dict(test_cfg)
    if args.num_frames is not None:
        test_cfg['num_future'] = args.num_frames
    try:
        with recorder, torch.no_grad():
            sample = model.test_step(
                dict(inputs=[clip], data_samples=[VideoPredDataSample()]))[0]
    finally:
        test_cfg.clear()
        test_cfg.update(saved)
    pred = (sample.pred_frames.detach().float().clamp(0, 1) * 255).round()
    pred = pred.to(torch.uint8).cpu()
    # step t consumes frame t: observed for t < T_in, else the prediction
    consumed = torch.cat([clip, pred]).numpy().transpose(0, 2, 3, 1)
    fields = recorder.fields()

    os.makedirs(args.out_dir, exist_ok=True)
    arrays = dict(frames=consumed)
    written = []
    for layer, (name, field) in enumerate(fields.items()):
        num_steps = field['filter'].shape[0]
        steps = list(range(0, num_steps, args.every))
        wanted = ['trend', 'filter'
                  ] + (['transient'] if args.transient else [])
        drawn = {}
        for key in wanted:
            dy, dx = reduce_taps(field[key][steps, 0], args.reduce)
            drawn[key] = (dy, dx)
        for key in ('filter', 'trend'):
            arrays[f'layer{layer}_{key}'] = field[key][:, 0].numpy()
        titles = [f't={t} ({"obs" if t < t_in else "pred"})' for t in steps]
        if args.arrow_scale == 'auto-step':
            scale_text = 'lengths normalised per step'
        elif args.arrow_scale == 'auto':
            scale_text = 'lengths normalised per layer'
        else:
            scale_text = f'lengths x{args.arrow_scale:g}'
        out_file = osp.join(args.out_dir, f'layer{layer}_motion.png')
        plot_motion_fields(
            consumed[steps],
            drawn,
            out_file=out_file,
            titles=titles,
            suptitle=(f'MotionGRU layer {layer} ({name}), {source}; '
                      f'{args.reduce} over taps, {scale_text}'
                      f'{", as motion" if args.as_motion else ""}'),
            arrow_scale=args.arrow_scale,
            grid_step=args.grid_step,
            as_motion=args.as_motion,
            colour=args.colour,
            max_cols=args.max_cols)
        written.append(out_file)
        print(f'layer {layer} ({name}): {len(steps)} steps -> {out_file}')
    npz = osp.join(args.out_dir, 'motion_fields.npz')
    atomic_write(npz, lambda f: np.savez_compressed(f, **arrays))
    print(f'raw fields -> {npz}')
    return written + [npz]


if __name__ == '__main__':
    run_tool_main(main)
