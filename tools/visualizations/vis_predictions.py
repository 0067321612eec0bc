# Copyright (c) mmvp contributors. All rights reserved.
"""Side-by-side prediction video (and strips) of test clips of a config.

For each chosen clip of the config's test set, the model predicts the
future frames from the observed ones; the clips are drawn one under the
other as input | truth | prediction, with the time index of every frame
(``t-4 observed`` ... ``t0 observed``, ``t+1 predicted`` ...), and written
as a looping GIF (or MP4 / AVI). ``--strip`` also writes the labelled strip
images (input, ground truth, prediction, |error| with its colour bar) of
the same clips, one under the other.

Example (the animation of the documentation's landing page)::

    python tools/visualizations/vis_predictions.py \
        configs/motionrnn_predrnn_vmnist_demo.py \
        work_dirs/motionrnn_predrnn_vmnist_demo/iter_1200.pth \
        --clip-index 0 1 2 --out demo_predictions.gif \
        --strip demo_prediction_strip.png
"""
import argparse
import os.path as osp

import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from mmvp.apis import VideoPredInferencer
from mmvp.registry import DATASETS
from mmvp.utils import atomic_write_bytes, register_all_modules
from mmvp.utils.cli import add_model_args, run_tool_main
from mmvp.visualization import VideoPredVisualizer, side_by_side, write_video

VIDEO_EXTS = ('.gif', '.mp4', '.avi')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Side-by-side video (input | truth | prediction) and '
        'strips of test clips')
    add_model_args(parser)
    parser.add_argument(
        '--clip-index',
        type=int,
        nargs='+',
        default=[0],
        help='indices of clips of the config\'s test set (default 0)')
    parser.add_argument(
        '--out', required=True, help='video file (.gif, .mp4 or .avi)')
    parser.add_argument(
        '--strip', help='also write the strips of the clips to this .png')
    parser.add_argument(
        '--fps', type=float, default=3.0, help='frames per second')
    args = parser.parse_args(argv)
    if osp.splitext(args.out)[1].lower() not in VIDEO_EXTS:
        parser.error(f'--out {args.out}: the file must end with '
                     f'{", ".join(VIDEO_EXTS)}')
    if args.strip is not None and \
            osp.splitext(args.strip)[1].lower() != '.png':
        parser.error(f'--strip {args.strip}: the file must end with .png')
    if args.fps <= 0:
        parser.error('--fps must be > 0')
    if min(args.clip_index) < 0:
        parser.error('--clip-index values must be >= 0')
    return args


def predict_clips(model, cfg, indices):
    """``(inputs, data_sample)`` pairs of the test clips ``indices``."""
    dataset_cfg = cfg.get('test_dataloader', {}).get('dataset')
    if not dataset_cfg:
        raise ValueError('the config has no test_dataloader.dataset')
    dataset = DATASETS.build(dataset_cfg)
    bad = [i for i in indices if i >= len(dataset)]
    if bad:
        raise ValueError(f'--clip-index {bad} out of range: the test set has '
                         f'{len(dataset)} clips')
    data = pseudo_collate([dataset[i] for i in indices])
    with torch.no_grad():
        outputs = model.test_step(data)
    return list(zip(data['inputs'], outputs))


def stack_strips(strips):
    """Strips one under the other, white between them."""
    width = max(s.shape[1] for s in strips)
    parts = []
    for strip in strips:
        pad = np.full((strip.shape[0], width, 3), 255, np.uint8)
        pad[:, :strip.shape[1]] = strip
        parts += [pad, np.full((8, width, 3), 255, np.uint8)]
    return np.concatenate(parts[:-1])


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    inferencer = VideoPredInferencer(
        model=args.config, weights=args.checkpoint, device=args.device)
    pairs = predict_clips(inferencer.model, inferencer.cfg, args.clip_index)
    visualizer = VideoPredVisualizer(
        name=f'vis_predictions_{id(pairs)}', video_fps=args.fps)
    written = [
        write_video(side_by_side(visualizer, pairs), args.out, fps=args.fps)
    ]
    print(f'{len(pairs)} clips -> {args.out}')
    if args.strip is not None:
        import cv2
        strip = stack_strips([visualizer.make_strip(i, s) for i, s in pairs])
        ok, png = cv2.imencode('.png', strip[..., ::-1])
        if not ok:
            raise RuntimeError(f'cannot encode {args.strip}')
        atomic_write_bytes(args.strip, png.tobytes())
        written.append(args.strip)
        print(f'strips -> {args.strip}')
    return written


if __name__ == '__main__':
    run_tool_main(main)
