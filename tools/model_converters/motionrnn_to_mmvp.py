# Copyright (c) mmvp contributors. All rights reserved.
"""Convert a thuml/MotionRNN checkpoint into an mmvp checkpoint.

The official code saves ``{'net_param': state_dict}`` (``model.ckpt-<itr>``).
The result, ``{'state_dict': ..., 'meta': ...}``, loads with
``tools/test.py`` for the MotionRNN-PredRNN config it was converted for::

    python tools/model_converters/motionrnn_to_mmvp.py \\
        model.ckpt-80000 work_dirs/motionrnn_predrnn_h36m.pth \\
        --config configs/motionrnn_predrnn_vmnist.py \\
        --cfg-options model.img_channels=3

The source is read with ``torch.load(weights_only=True)`` and mmvp's
allow-list. A checkpoint that does not fit the model of the config (a
missing or extra tensor, or another shape) is refused with a message
naming the first mismatching key. thuml/predrnn-pytorch PredRNN (and
PredRNN-v2) checkpoints convert the same way into configs without a neck.
"""
import argparse

from mmvp.models.converters import convert_motionrnn_checkpoint
from mmvp.utils.cli import add_converter_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert a thuml/MotionRNN checkpoint to mmvp')
    add_converter_args(
        parser,
        src_help='official checkpoint (net_param)',
        config_help='mmvp config the checkpoint must fit, e.g. '
        'configs/motionrnn_predrnn_vmnist.py',
        cfg_options_example='model.img_channels=3 for Human3.6M checkpoints')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    convert_motionrnn_checkpoint(args.src, args.dst, args.config,
                                 args.cfg_options)


if __name__ == '__main__':
    main()
