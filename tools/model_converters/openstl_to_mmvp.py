# Copyright (c) mmvp contributors. All rights reserved.
"""Convert an OpenSTL checkpoint (ConvLSTM, PredRNN, PredRNN++, PredRNN-v2,
MIM, E3D-LSTM) into an mmvp checkpoint.

Reads OpenSTL-Lightning files (``state_dict`` with ``model.`` prefixes) and
OpenSTL 0.3 files (a bare state dict, possibly under ``state_dict``), with
``torch.load(weights_only=True)`` and mmvp's allow-list. Fused gate
convolutions whose split order differs from mmvp's are reordered
(PredRNN++, checkpoint_keys.md#predrnn-causal-lstm), MIM's fused peepholes
are split, and modules OpenSTL never calls are dropped with a log line::

    python tools/model_converters/openstl_to_mmvp.py \\
        openstl_predrnnpp.ckpt work_dirs/predrnnpp_from_openstl.pth \\
        --config configs/predrnnpp_vmnist.py --backbone predrnnpp

``--backbone`` is detected from the keys when omitted. A checkpoint that
does not fit the model of the config is refused with a message naming the
first mismatching key, the expected and the found shape. The output is
written atomically (temporary file + rename).
"""
import argparse

from mmvp.models.converters import (OPENSTL_BACKBONES,
                                    convert_openstl_checkpoint)
from mmvp.utils.cli import add_converter_args


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an OpenSTL checkpoint to mmvp')
    add_converter_args(
        parser,
        src_help='OpenSTL checkpoint (.ckpt / .pth)',
        config_help='mmvp config the result must fit',
        cfg_options_example='model.backbone.peephole=None for OpenSTL\'s '
        'ConvLSTM')
    parser.add_argument(
        '--backbone',
        choices=sorted(OPENSTL_BACKBONES),
        help='the OpenSTL model (default: detected from the keys)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    convert_openstl_checkpoint(args.src, args.dst, args.config, args.backbone,
                               args.cfg_options)


if __name__ == '__main__':
    main()
