# Copyright (c) mmvp contributors. All rights reserved.
"""Write the clip list of a config's dataset once, so that training reads
it instead of scanning the data (counting the frames of thousands of
videos takes minutes).

The list (JSON) holds the dataset's protocol facts, its sources (paths
relative to ``data_root``, storage format, frame step, frame names) and
one ``[source, start]`` per clip. Give it to the dataset as ``clip_list``
(relative to ``data_root``); the dataset checks that the list was made for
the same protocol, split and clip length.

Example::

    python tools/dataset_converters/write_clip_list.py \\
        configs/motionrnn_predrnn_h36m.py data/h36m/clips_train.json \\
        --dataloader train
    # then: train_dataloader.dataset.clip_list=clips_train.json
"""
import argparse
import json
import os
import os.path as osp
import sys

from mmengine.config import Config

from mmvp.registry import DATASETS
from mmvp.utils.cli import add_cfg_options_arg


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Write the clip list of a config's dataset")
    parser.add_argument('config', help='config file')
    parser.add_argument('out', help='output .json file')
    parser.add_argument(
        '--dataloader',
        choices=('train', 'val', 'test'),
        default='train',
        help='which dataloader of the config (default: train)')
    add_cfg_options_arg(
        parser, 'override config keys, e.g. train_dataloader.dataset.'
        'data_root=data/h36m')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmvp.utils import register_all_modules
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    ds_cfg = cfg[f'{args.dataloader}_dataloader'].dataset.copy()
    ds_cfg.pop('clip_list', None)
    ds_cfg.update(pipeline=[], lazy_init=False)
    dataset = DATASETS.build(ds_cfg)
    if not hasattr(dataset, 'clip_list_dict'):
        print(
            f'error: {args.config}: {type(dataset).__name__} is not a clip '
            'dataset (ClipDataset, H36MDataset, VideoFolderDataset, '
            'RadarDataset, MeteoNetDataset)',
            file=sys.stderr)
        return 1
    record = dataset.clip_list_dict()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    tmp = f'{args.out}.tmp{os.getpid()}'
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(record, f)
    os.replace(tmp, args.out)
    print(f"wrote {len(record['clips'])} clips of "
          f"{len(record['sources'])} sources to {args.out}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
