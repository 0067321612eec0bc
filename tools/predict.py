# Copyright (c) mmvp contributors. All rights reserved.
"""Predict the future frames of a video and write them as MP4 or GIF.

Examples::

    # the 10 frames after the end of clip.mp4
    python tools/predict.py clip.mp4 configs/motionrnn_predrnn_vmnist.py \
        iter_100000.pth --num-frames 10 --out pred.mp4

    # 30 frames (beyond the trained horizon) from the window at frame 0,
    # observed frames first, enlarged 4x, as an animated GIF
    python tools/predict.py clip.mp4 CONFIG CKPT --num-frames 30 \
        --start 0 --with-input --scale 4 --out pred.gif

    # every window of T_in frames, stride 5: one file per window,
    # pred_w00000.mp4, pred_w00005.mp4, ...
    python tools/predict.py long.mp4 CONFIG CKPT --stride 5 --out pred.mp4

    # a model of the model index by name (its listed weights, or CKPT)
    python tools/predict.py clip.mp4 motionrnn_predrnn_h36m CKPT --out p.mp4

VIDEO may also be a folder of frame images or a .npy/.npz frame array.
Each window goes through the config's test pipeline (the datasets'
decoding, the protocol's crop and resize) and takes every
``--frame-interval``-th frame (default: the test dataset's interval, e.g.
10 for Human3.6M at 50 fps); only one window's frames are decoded at a
time. The output has the model's frame size (times ``--scale``). Files
are written atomically.
"""
import argparse
import os.path as osp

import numpy as np

from mmvp.apis import VideoPredInferencer
from mmvp.utils import register_all_modules
from mmvp.utils.cli import run_tool_main
from mmvp.visualization import write_video

OUT_FORMATS = ('.mp4', '.gif', '.avi')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Predict future frames of a video with an mmvp model')
    parser.add_argument('video', help='video file or folder of frames')
    parser.add_argument(
        'config',
        help='config file of the model, or a model name of the '
        'model index (see mmvp.apis.list_models())')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        default=None,
        help='checkpoint file (default: the weights the model index lists '
        'for a model name)')
    parser.add_argument(
        '--out',
        required=True,
        help='output file (.mp4, .gif or .avi); with several windows, one '
        'file per window named <stem>_w<start><ext>')
    parser.add_argument(
        '--num-frames',
        type=int,
        default=None,
        help='frames to predict (default: the trained out_frames; may be '
        'larger)')
    parser.add_argument(
        '--start',
        type=int,
        default=None,
        help='first frame of the observed window (default: the last '
        'in_frames frames; negative counts from the end)')
    parser.add_argument(
        '--stride',
        type=int,
        default=None,
        help='predict from every window start, start+stride, ...')
    parser.add_argument(
        '--with-input',
        action='store_true',
        help='put the observed frames before the predictions')
    parser.add_argument(
        '--fps', type=float, default=4.0, help='output frame rate')
    parser.add_argument(
        '--scale',
        type=int,
        default=1,
        help='enlarge the output frames by this factor (nearest)')
    parser.add_argument(
        '--frame-size',
        type=int,
        nargs=2,
        metavar=('H', 'W'),
        help='resize the frames to H x W instead of the test pipeline\'s '
        'resize')
    parser.add_argument(
        '--frame-interval',
        type=int,
        default=None,
        help='input frames between two observed frames (default: the test '
        'dataset\'s interval, e.g. 10 for Human3.6M at 50 fps)')
    parser.add_argument(
        '--batch-size', type=int, default=1, help='windows per forward')
    parser.add_argument(
        '--device', default=None, help='cpu, cuda, cuda:1 (default: auto)')
    args = parser.parse_args(argv)
    if osp.splitext(args.out)[1].lower() not in OUT_FORMATS:
        parser.error(f'--out {args.out}: the file must end with '
                     f'{", ".join(OUT_FORMATS)}')
    if args.scale < 1:
        parser.error('--scale must be >= 1')
    if args.num_frames is not None and args.num_frames < 1:
        parser.error('--num-frames must be >= 1')
    if args.frame_interval is not None and args.frame_interval < 1:
        parser.error('--frame-interval must be >= 1')
    return args


def window_path(out: str, start: int) -> str:
    """``<stem>_w<start><ext>``: the file of one of several windows."""
    stem, ext = osp.splitext(out)
    return f'{stem}_w{start:05d}{ext}'


def write_prediction(pred: dict, path: str, args) -> str:
    frames = pred['pred_frames']
    if args.with_input:
        frames = np.concatenate([pred['input_frames'], frames])
    if args.scale > 1:
        frames = frames.repeat(args.scale, axis=1).repeat(args.scale, axis=2)
    write_video(frames, path, fps=args.fps)
    print(f'window at frame {pred["window_start"]}: '
          f'{len(pred["pred_frames"])} predicted frames -> {path}')
    return path


def main(argv=None):
    args = parse_args(argv)
    register_all_modules()
    if args.checkpoint is None and osp.isfile(args.config):
        raise ValueError(f'{args.config}: give a checkpoint file (only '
                         'model names of the model index bring weights)')
    inferencer = VideoPredInferencer(
        model=args.config,
        weights=args.checkpoint,
        device=args.device,
        frame_size=args.frame_size,
        frame_interval=args.frame_interval)
    if args.checkpoint is None and not inferencer.weights:
        raise ValueError(f'{args.config}: the model index lists no weights '
                         'for this model; give a checkpoint file')
    print(f'frame interval: {inferencer.frame_interval}')
    # windows are decoded, predicted and written one batch at a time; the
    # true future is not written, so only the observed frames are decoded
    preds = inferencer.iter_predictions(
        args.video,
        num_frames=args.num_frames,
        start=args.start,
        stride=args.stride,
        batch_size=args.batch_size,
        with_gt=False)
    # a single window is written to --out itself: hold the first one
    # until the second shows whether there are several
    first = next(preds)
    paths = []
    for pred in preds:
        if not paths:
            paths.append(
                write_prediction(first,
                                 window_path(args.out, first['window_start']),
                                 args))
        paths.append(
            write_prediction(pred, window_path(args.out, pred['window_start']),
                             args))
    if not paths:
        paths.append(write_prediction(first, args.out, args))
    return paths


if __name__ == '__main__':
    run_tool_main(main)
