# Copyright (c) mmvp contributors. All rights reserved.
"""Decode Human3.6M videos once into a compact uint8 frame cache.

For every kept video ``S*/Videos/<Action>.<camera>.mp4`` this decodes only
the stored-image frames ``0, 5, 10, ...``
(``docs/en/advanced_guides/dataset_protocols.md#frame-numbering``), applies
the protocol's geometry and writes

* ``OUT/<key>.npy``: uint8 ``[N, size, size, 3]`` RGB, N = ceil(frames / 5)
* ``OUT/<key>.json``: the record (source video, frame counts and the
  applied geometry, ``cache_params``) that ``H36MDataset(source='cache',
  cache_dir=OUT)`` reads. A cache config's pipeline has no crop / resize
  step; its ``cache_params`` must equal the record's.

Both files are written to a temporary name and renamed, so an interrupted
run leaves no half-written cache; a rerun skips finished videos.

Examples::

    # MIM / MotionRNN protocol: Walking, S1 S5 S6 S7 S8 S9 S11, centre
    # half crop, 128 x 128 (INTER_LINEAR)
    python tools/dataset_converters/h36m_frame_cache.py \\
        data/h36m data/h36m_cache_mim128 --workers 8

    # OpenSTL protocol: all actions, full frame, 256 x 256
    python tools/dataset_converters/h36m_frame_cache.py \\
        data/h36m data/h36m_cache_openstl256 --protocol openstl
"""
import argparse
import json
import math
import os
import os.path as osp
import sys
from functools import partial

import numpy as np
from mmengine.utils import track_parallel_progress, track_progress

from mmvp.datasets.h36m import (ALL_SUBJECTS, H36M_CACHE_VERSION, H36M_FPS,
                                H36M_PROTOCOLS, cache_params_of,
                                h36m_cache_files, list_h36m_videos,
                                read_cache_record)
from mmvp.datasets.protocols import BaseClipProtocol
from mmvp.datasets.transforms.processing import (CenterCropFrames, crop_frames,
                                                 resize_frames)
from mmvp.datasets.video_io import (VideoReadError, iter_video_frames,
                                    video_info)

DEFAULT_SIZE = {'mim': 128, 'openstl': 256}


def protocol_params(protocol: str, size: int) -> dict:
    """The geometry of a protocol's cache (recorded as ``cache_params``):
    ``mim`` crops the centre half (``dataset_protocols.md#protocol-mim``),
    ``openstl`` keeps the full frame; both resize with INTER_LINEAR."""
    return cache_params_of(0.25 if protocol == 'mim' else None, size, 'linear')


def apply_params(frames: np.ndarray, params: dict) -> np.ndarray:
    """Crop and resize ``frames`` [T, H, W, C] as ``params`` say, with the
    pipeline's own functions (so the pixels equal a video pipeline's)."""
    ratio = params['crop_border_ratio']
    if ratio is not None:
        window = CenterCropFrames(border_ratio=ratio).window(
            *frames.shape[1:3])
        frames = crop_frames(frames, *window)
    w, h = params['scale']
    return resize_frames(frames, (h, w), params['interpolation'])


def _atomic_json(path: str, record: dict) -> None:
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(record, f, indent=1)
    os.replace(tmp, path)


def is_cached(out_dir: str, key: str, params: dict) -> bool:
    npy, rec_path = h36m_cache_files(out_dir, key)
    if not (osp.isfile(npy) and osp.isfile(rec_path)):
        return False
    try:
        rec = read_cache_record(rec_path)
    except (ValueError, KeyError, TypeError):
        return False
    return rec['cache_params'] == params


def cache_video(video: dict,
                root: str,
                out_dir: str,
                protocol: str,
                size: int,
                backend: str = 'decord',
                chunk_size: int = 32,
                overwrite: bool = False) -> dict:
    """Write the cache of one video; returns ``dict(key, status, ...)``
    with status ``'done'``, ``'skipped'`` (already cached) or
    ``'invalid'`` (with ``error``)."""
    params = protocol_params(protocol, size)
    key = video['key']
    if not overwrite and is_cached(out_dir, key, params):
        return dict(key=key, status='skipped')
    npy, rec_path = h36m_cache_files(out_dir, key)
    tmp = f'{npy}.tmp{os.getpid()}.npy'
    try:
        num_raw, fps = video_info(video['path'], backend)
        # a video at k times 50 fps keeps every (k * 5)th frame, the same
        # instants as the dataset reads from it
        timing = BaseClipProtocol(fps=H36M_FPS)
        timing.name = H36M_PROTOCOLS[protocol]['name']
        raw_step = H36M_PROTOCOLS[protocol]['raw_step'] * timing.time_scale(
            video['path'], fps)
        num_img = math.ceil(num_raw / raw_step)
        arr = None
        written = 0
        indices = range(0, num_raw, raw_step)
        for i, frame in iter_video_frames(video['path'], indices, backend,
                                          chunk_size):
            out = apply_params(frame[None], params)[0]
            if arr is None:
                arr = np.lib.format.open_memmap(
                    tmp,
                    mode='w+',
                    dtype=np.uint8,
                    shape=(num_img, ) + out.shape)
            arr[i // raw_step] = out
            written += 1
        if arr is None or written != num_img:
            raise VideoReadError(f"{video['path']}: decoded {written} of "
                                 f'{num_img} stored images')
        shape = list(arr.shape)
        arr.flush()
        del arr
        os.replace(tmp, npy)
    except VideoReadError as e:
        if osp.exists(tmp):
            os.remove(tmp)
        return dict(key=key, status='invalid', error=str(e))
    record = dict(
        version=H36M_CACHE_VERSION,
        key=key,
        file=osp.basename(npy),
        protocol=protocol,
        subject=video['subject'],
        action=video['action'],
        camera=video['camera'],
        video=osp.relpath(video['path'], root),
        num_raw_frames=num_raw,
        fps=fps,
        raw_step=raw_step,
        num_images=num_img,
        shape=shape,
        channel_order='RGB',
        cache_params=params)
    _atomic_json(rec_path, record)
    return dict(key=key, status='done')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Decode Human3.6M videos into a uint8 frame cache '
        '(one .npy + .json per video)')
    parser.add_argument('root', help='Human3.6M root with S*/Videos/*.mp4')
    parser.add_argument('out', help='output folder of the cache')
    parser.add_argument(
        '--protocol',
        choices=tuple(H36M_PROTOCOLS),
        default='mim',
        help='mim: Walking, centre-half crop, 128; openstl: all actions, '
        'full frame, 256')
    parser.add_argument(
        '--subjects',
        nargs='+',
        default=list(ALL_SUBJECTS),
        help='subjects to cache (default: all seven)')
    parser.add_argument(
        '--size',
        type=int,
        default=None,
        help='output side (default: 128 for mim, 256 for openstl)')
    parser.add_argument(
        '--backend', choices=('decord', 'opencv'), default='decord')
    parser.add_argument(
        '--workers', type=int, default=1, help='parallel processes')
    parser.add_argument(
        '--chunk-size',
        type=int,
        default=32,
        help='frames decoded at once (bounds the memory)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='rewrite videos that are already cached')
    parser.add_argument(
        '--skip-invalid',
        action='store_true',
        help='report unreadable videos and go on (default: stop with an '
        'error naming the file)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    size = args.size or DEFAULT_SIZE[args.protocol]
    invalid_names = []

    def on_invalid(path, reason):
        if not args.skip_invalid:
            raise SystemExit(f'error: {path}: {reason}')
        invalid_names.append(f'{path}: {reason}')

    actions = H36M_PROTOCOLS[args.protocol]['actions']
    videos = list_h36m_videos(args.root, args.subjects, actions, on_invalid)
    if not videos:
        print(
            f'error: no video to cache under {args.root} '
            f'(subjects {args.subjects}, actions {actions})',
            file=sys.stderr)
        return 1
    os.makedirs(args.out, exist_ok=True)
    func = partial(
        cache_video,
        root=args.root,
        out_dir=args.out,
        protocol=args.protocol,
        size=size,
        backend=args.backend,
        chunk_size=args.chunk_size,
        overwrite=args.overwrite)
    print(f'caching {len(videos)} videos ({args.protocol}, {size}x{size}) '
          f'into {args.out}')
    if args.workers > 1:
        results = track_parallel_progress(func, videos, args.workers)
    else:
        results = track_progress(func, videos)
    done = sum(r['status'] == 'done' for r in results)
    skipped = sum(r['status'] == 'skipped' for r in results)
    bad = [r['error'] for r in results if r['status'] == 'invalid']
    bad = invalid_names + bad
    print(f'\n{done} written, {skipped} already cached, {len(bad)} invalid')
    for msg in bad:
        print(f'  invalid: {msg}')
    if bad and not args.skip_invalid:
        print(
            'error: some videos could not be cached (see above); rerun '
            'with --skip-invalid to leave them out',
            file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
