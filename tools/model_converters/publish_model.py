# Copyright (c) mmvp contributors. All rights reserved.
"""Reduce a training checkpoint to its weights and ``meta`` for a model zoo
entry, named after its SHA-256::

    python tools/model_converters/publish_model.py \\
        work_dirs/motionrnn_predrnn_vmnist_demo/iter_1200.pth \\
        checkpoints/demo/motionrnn_predrnn_vmnist_demo.pth

writes ``checkpoints/demo/motionrnn_predrnn_vmnist_demo-<sha8>.pth``
atomically and prints its path and full SHA-256 (the metafile's
``Weights`` and checksum). Optimizer, scheduler, message-hub and RNG
states are dropped: the result tests and fine-tunes, it does not resume.
"""
import argparse

from mmvp.utils.cli import run_tool_main
from mmvp.utils.publish import publish_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Keep the weights and meta of a training checkpoint, '
        'named after their SHA-256')
    parser.add_argument('src', help='training checkpoint (iter_<N>.pth)')
    parser.add_argument(
        'dst',
        help='output name, e.g. checkpoints/model.pth; written as '
        'checkpoints/model-<first 8 hex digits of the SHA-256>.pth')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path, sha256 = publish_checkpoint(args.src, args.dst)
    print(f'{path}\nsha256 {sha256}')


if __name__ == '__main__':
    run_tool_main(main)
