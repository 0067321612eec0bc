# Copyright (c) mmvp contributors. All rights reserved.
"""Checkpoint converters from reference implementations to mmvp."""
from .base import (ConversionResult, Rule, build_target_model,
                   convert_state_dict, load_source_state_dict, reorder_blocks,
                   save_checkpoint, split_blocks, strip_prefixes)
from .motionrnn import convert_motionrnn_checkpoint, motionrnn_rules
from .openstl import (OPENSTL_BACKBONES, convert_openstl_checkpoint,
                      detect_openstl_backbone, openstl_rules)

__all__ = [
    'ConversionResult', 'Rule', 'build_target_model', 'convert_state_dict',
    'load_source_state_dict', 'reorder_blocks', 'save_checkpoint',
    'split_blocks', 'strip_prefixes', 'convert_motionrnn_checkpoint',
    'motionrnn_rules', 'OPENSTL_BACKBONES', 'convert_openstl_checkpoint',
    'detect_openstl_backbone', 'openstl_rules'
]
