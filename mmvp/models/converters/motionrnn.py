# Copyright (c) mmvp contributors. All rights reserved.
"""thuml/MotionRNN (and thuml/predrnn-pytorch) checkpoints to mmvp.

The official ``MotionRNN_PredRNN.RNN`` saves
``{'net_param': state_dict}`` with the keys of
checkpoint_keys.md#official-motionrnn-checkpoints. Its modules map
one-to-one onto mmvp's
``VideoPredictor(backbone=PredRNN, neck=MotionRNNNeck)``; no split order
changes (the ST-LSTM order ``i,f,g,i',f',g',o`` is the same):

Official name -> mmvp name (N: layer or block index)::

    cell_list.N.conv_x.0.weight       -> backbone.cells.N.conv_x.weight
        (also conv_h, conv_m, conv_o; a LayerNorm ``.1`` is kept)
    cell_list.N.conv_last.weight      -> backbone.cells.N.conv_last.weight
    conv_last.weight                  -> backbone.head.weight
    conv_first_v.weight               -> neck.highway.conv_first_v.weight
    enc_list.N.*                      -> neck.blocks.N.enc.*
    dec_list.N.*                      -> neck.blocks.N.dec.*
    gate_list.N.*                     -> neck.blocks.N.gate.*
    motion_list.N.update.*            -> neck.blocks.N.update.*
        (also reset, output)
    motion_list.N.warp.conv.weight    -> neck.blocks.N.warp_weight
    motion_list.N.warp.warp_gate.*    -> neck.blocks.N.warp_mask.*
    adapter.weight (PredRNN-v2)       -> backbone.adapter.weight

The warp weight needs no reshaping: the official warp convolves the
``k_m h x k_m w`` map of samples with stride ``k_m``, so ``W[o, c, a, b]``
multiplies tap ``(a, b)`` exactly as in mmvp's deformable form
(model_equations.md#warp).
The same rules convert thuml/predrnn-pytorch PredRNN and PredRNN-v2
checkpoints (no MotionRNN keys) for configs without a neck.
"""
from typing import List

from mmengine.logging import print_log

from .base import (ConversionResult, Rule, build_target_model, config_name,
                   convert_state_dict, load_source_state_dict, write_converted)

__all__ = ['motionrnn_rules', 'convert_motionrnn_checkpoint']


def motionrnn_rules() -> List[Rule]:
    """Key rules for thuml/MotionRNN and thuml/predrnn-pytorch."""
    return [
        Rule(r'cell_list\.(\d+)\.(conv_[xhmo]\.\d+\.(?:weight|bias))',
             r'backbone.cells.\1.\2'),
        Rule(r'cell_list\.(\d+)\.conv_last\.weight',
             r'backbone.cells.\1.conv_last.weight'),
        Rule(r'conv_last\.weight', 'backbone.head.weight'),
        Rule(r'adapter\.weight', 'backbone.adapter.weight'),
        Rule(r'conv_first_v\.weight', 'neck.highway.conv_first_v.weight'),
        Rule(r'enc_list\.(\d+)\.(weight|bias)', r'neck.blocks.\1.enc.\2'),
        Rule(r'dec_list\.(\d+)\.(weight|bias)', r'neck.blocks.\1.dec.\2'),
        Rule(r'gate_list\.(\d+)\.(weight|bias)', r'neck.blocks.\1.gate.\2'),
        Rule(r'motion_list\.(\d+)\.(update|reset|output)\.(weight|bias)',
             r'neck.blocks.\1.\2.\3'),
        Rule(r'motion_list\.(\d+)\.warp\.conv\.weight',
             r'neck.blocks.\1.warp_weight'),
        Rule(r'motion_list\.(\d+)\.warp\.warp_gate\.(weight|bias)',
             r'neck.blocks.\1.warp_mask.\2'),
    ]


def check_motionrnn_config(cfg) -> None:
    """Log settings of the target config that change the function computed
    relative to the official code (warnings only)."""
    model = cfg.model
    neck = model.get('neck') or {}
    if neck and not neck.get('highway_first_layer', True):
        print_log(
            'the config sets highway_first_layer=False: the official code '
            'seeds layer 0\'s highway from conv_first_v '
            '(model_equations.md#motionrnn-on-predrnn-step-by-step)',
            logger='current')
    if model.get('init_state', 'zeros') != 'xavier_normal':
        print_log(
            'note: thuml/MotionRNN draws fresh xavier-normal initial '
            f'states every forward; the config uses init_state='
            f'{model.get("init_state", "zeros")!r} '
            '(model_equations.md#initial-states)',
            logger='current')


def convert_motionrnn_checkpoint(src,
                                 dst,
                                 config,
                                 cfg_options=None) -> ConversionResult:
    """Convert a thuml/MotionRNN (or predrnn-pytorch) checkpoint.

    Args:
        src (str): The official checkpoint (``{'net_param': ...}``).
        dst (str): Output mmvp checkpoint, written atomically.
        config (str | Config): The mmvp config the result must fit.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        ConversionResult: The converted state dict and what was dropped.
    """
    source = load_source_state_dict(src)
    model, cfg = build_target_model(config, cfg_options)
    check_motionrnn_config(cfg)
    target_name = f'the model of {config_name(config)}'
    result = convert_state_dict(
        source,
        motionrnn_rules(),
        model.state_dict(),
        source_name=f'Checkpoint "{src}"',
        target_name=target_name,
        hint=_HINT)
    return write_converted(
        result,
        src,
        len(source),
        dst,
        source_layout='thuml/MotionRNN',
        config=config_name(config))


_HINT = ('Check that the config matches the checkpoint (hidden_channels, '
         'num_layers, kernel_size, the data preprocessor\'s patch_size, '
         'img_channels, and the MotionRNNNeck).')
