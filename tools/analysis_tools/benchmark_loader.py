# Copyright (c) mmvp contributors. All rights reserved.
"""Measure the clip throughput of the Human3.6M loader per reading path.

Reads clips of a config's training dataset (default: the paper's MIM
protocol, 4 -> 4 frames, centre-half crop, 128 x 128) three ways:

* ``decord``: decode the .mp4 with decord (``get_batch`` of 8 frames);
* ``opencv``: decode with OpenCV, sequentially from the first frame (the
  fallback; its cost grows with the clip's position in the video);
* ``cache``: memory-mapped uint8 frames from
  ``tools/dataset_converters/h36m_frame_cache.py``.

Without ``--data-root`` a synthetic Human3.6M tree (``S*/Videos/*.mp4``,
mp4v, 1000 x 1000 by default) is generated in a temporary folder first.

Examples::

    python tools/analysis_tools/benchmark_loader.py
    python tools/analysis_tools/benchmark_loader.py \\
        configs/motionrnn_predrnn_h36m.py --data-root data/h36m \\
        --cache-dir data/h36m_cache_mim128 --num-clips 200 --num-workers 4
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, Subset

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py')
PATHS = ('decord', 'opencv', 'cache')


def write_synthetic_h36m(root: str,
                         subjects=('S1', 'S5'),
                         cameras=('54138969', '55011271', '58860488',
                                  '60457274'),
                         num_frames: int = 300,
                         size=(1000, 1000),
                         seed: int = 0) -> list:
    """Write ``S*/Videos/Walking.<camera>.mp4`` (mp4v) with a textured
    background and a moving blob; returns the video paths."""
    rng = np.random.RandomState(seed)
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    paths = []
    for subject in subjects:
        folder = osp.join(root, subject, 'Videos')
        os.makedirs(folder, exist_ok=True)
        for camera in cameras:
            path = osp.join(folder, f'Walking.{camera}.mp4')
            texture = rng.randint(0, 40, (h, w, 3)).astype(np.uint8)
            base = ((xx / w * 120 + yy / h * 60)[..., None] +
                    texture).clip(0, 255).astype(np.uint8)
            writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 50,
                                     (w, h))
            for t in range(num_frames):
                frame = base.copy()
                cx = int(w * (0.3 + 0.4 * t / max(num_frames - 1, 1)))
                cy = int(h * (0.5 + 0.1 * np.sin(t / 10)))
                cv2.circle(frame, (cx, cy), h // 8, (200, 80, 40), -1)
                writer.write(frame)
            writer.release()
            paths.append(path)
    return paths


DECODE_STEPS = ('LoadVideoFrames', 'DecordDecode', 'OpenCVDecode',
                'FrameFolderDecode', 'FrameCacheDecode', 'ArrayDecode')


def build_dataset(cfg: Config, path: str, data_root: str, cache_dir: str):
    """The config's training dataset set up for one reading path."""
    from mmvp.registry import DATASETS
    ds_cfg = cfg.train_dataloader.dataset.copy()
    ds_cfg.update(
        data_root=data_root,
        source='cache' if path == 'cache' else 'video',
        cache_dir=cache_dir,
        serialize_data=True)
    # the decode step of the storage; a cache already holds cropped and
    # resized frames, so its pipeline has no geometric step
    decode = dict(
        cache='FrameCacheDecode', decord='DecordDecode',
        opencv='OpenCVDecode')[path]
    pipeline = [dict(type=decode)]
    for step in ds_cfg.pipeline:
        kind = step['type']
        if kind in DECODE_STEPS or (path == 'cache' and kind
                                    in ('CenterCropFrames', 'ResizeFrames')):
            continue
        pipeline.append(dict(step))
    ds_cfg.pipeline = pipeline
    return DATASETS.build(ds_cfg)


def measure(dataset, num_clips: int, batch_size: int, num_workers: int,
            warmup: int) -> dict:
    """Clips per second through a DataLoader (after ``warmup`` clips)."""
    n = min(num_clips + warmup, len(dataset))
    # clips spread over the whole index (not only the start of videos)
    idx = np.linspace(0, len(dataset) - 1, n).round().astype(int).tolist()
    loader = DataLoader(
        Subset(dataset, idx),
        batch_size=batch_size,
        num_workers=num_workers,
        collate_fn=pseudo_collate,
        shuffle=False)
    done, seen, start = 0, 0, None
    for batch in loader:
        seen += len(batch['inputs'])
        if start is None and seen >= warmup:
            start = time.perf_counter()
            done = 0
            continue
        done += len(batch['inputs'])
    elapsed = time.perf_counter() - start if start else float('nan')
    return dict(
        clips=done,
        seconds=elapsed,
        clips_per_s=done / elapsed if done and elapsed > 0 else float('nan'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Human3.6M loader throughput: decord vs OpenCV vs cache')
    parser.add_argument(
        'config', nargs='?', default=DEFAULT_CONFIG, help='config file')
    parser.add_argument(
        '--data-root',
        help='Human3.6M root (S*/Videos); default: generate synthetic data')
    parser.add_argument(
        '--cache-dir',
        help='frame cache (default: build one in a temporary folder)')
    parser.add_argument(
        '--paths', nargs='+', choices=PATHS, default=list(PATHS))
    parser.add_argument('--num-clips', type=int, default=32)
    parser.add_argument('--warmup', type=int, default=8)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--num-workers', type=int, default=0)
    parser.add_argument(
        '--synthetic-frames',
        type=int,
        default=300,
        help='frames per synthetic video')
    parser.add_argument(
        '--synthetic-size',
        type=int,
        nargs=2,
        default=(1000, 1000),
        metavar=('W', 'H'))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    from mmvp.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if cfg.train_dataloader.dataset.get('type') != 'H36MDataset':
        print(
            f'error: {args.config}: the training dataset is not an '
            'H36MDataset',
            file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            data_root = osp.join(tmp, 'h36m')
            t0 = time.perf_counter()
            paths = write_synthetic_h36m(
                data_root,
                num_frames=args.synthetic_frames,
                size=tuple(args.synthetic_size))
            print(f'generated {len(paths)} synthetic videos of '
                  f'{args.synthetic_frames} frames at '
                  f'{args.synthetic_size[0]}x{args.synthetic_size[1]} in '
                  f'{time.perf_counter() - t0:.1f} s')
        cache_dir = args.cache_dir
        if 'cache' in args.paths and cache_dir is None:
            sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
            import h36m_frame_cache
            cache_dir = osp.join(tmp, 'cache')
            t0 = time.perf_counter()
            code = h36m_frame_cache.main([data_root, cache_dir])
            if code:
                return code
            print(f'built the frame cache in {time.perf_counter() - t0:.1f}'
                  ' s')
        rows = []
        for path in args.paths:
            dataset = build_dataset(cfg, path, data_root, cache_dir)
            res = measure(dataset, args.num_clips, args.batch_size,
                          args.num_workers, args.warmup)
            rows.append((path, len(dataset), res))
    protocol = cfg.train_dataloader.dataset.get('protocol', 'mim')
    print(f'\nHuman3.6M ({protocol}) loader throughput, split=train, '
          f'batch {args.batch_size}, {args.num_workers} worker(s), '
          f'torch threads 1')
    header = f"{'path':<8} {'clips in index':>14} {'clips timed':>11} " \
             f"{'seconds':>8} {'clips/s':>8} {'ms/clip':>8}"
    print(header)
    print('-' * len(header))
    for path, total, res in rows:
        ms = 1000 / res['clips_per_s'] if res['clips_per_s'] > 0 else 0
        print(f"{path:<8} {total:>14} {res['clips']:>11} "
              f"{res['seconds']:>8.2f} {res['clips_per_s']:>8.1f} "
              f'{ms:>8.1f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
