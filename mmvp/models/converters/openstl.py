# Copyright (c) mmvp contributors. All rights reserved.
"""OpenSTL checkpoints of the recurrent baselines to mmvp.

Handles ``ConvLSTM_Model``, ``PredRNN_Model``, ``PredRNNpp_Model``,
``PredRNNv2_Model``, ``MIM_Model`` and ``E3DLSTM_Model`` (key layouts in
checkpoint_keys.md#openstl-checkpoints), stored by OpenSTL-Lightning
under ``state_dict`` with a ``model.`` prefix or by OpenSTL 0.3 as a bare
state dict.

What changes on the way (checkpoint_keys.md#openstl-checkpoints):

* PredRNN++: OpenSTL splits the fused gate convs ``W_x`` as
  ``i,f,g,i',f',g',o``, ``W_h`` as ``i,f,g,o`` and ``W_c`` as ``i,f,g``;
  mmvp keeps the original order ``i,g,f,o,i',g',f'`` / ``i,g,f,o`` /
  ``i,g,f``, so their output-channel blocks are permuted. ``conv_c2m`` and
  ``conv_om`` become ``conv_cm`` and ``conv_mo``; the GHU's ``x_concat`` /
  ``z_concat`` become ``ghu.conv_x`` / ``ghu.conv_z``.
* MIM: ``stlstm_layer.0`` is the ST-LSTM ``cells.0``; for the MIM blocks
  ``conv_t_cc, conv_s_cc, conv_x_cc`` become ``conv_t, conv_s, conv_x`` and
  the embedded MIM-S (``conv_h_concat, conv_x_concat``) becomes
  ``mim_s.conv_h, mim_s.conv_x``; ``stlstm_layer_diff.j`` becomes
  ``mim_n.j``. The Hadamard peepholes ``ct_weight [2C, H', W']`` split into
  ``weight_ci`` and ``weight_cf`` and ``oc_weight`` becomes ``weight_co``.
* E3D-LSTM: ``conv_gm, conv_new_cell, conv_new_gm`` become ``conv_m,
  conv_co, conv_mo`` and ``_norm_c_t`` becomes ``norm_c`` (the target needs
  ``norm_type='full'`` and ``temporal_kernel=2``).
* Modules OpenSTL allocates but never calls are dropped with a log line:
  ConvLSTM ``conv_o`` and the cells' ``conv_last``, PredRNN++ ``conv_o``,
  the MIM-N modules' ``conv_last``.
"""
from typing import Dict, List, Optional

from mmengine.logging import print_log

from mmvp.utils import CheckpointMismatchError
from .base import (ConversionResult, Rule, build_target_model, config_name,
                   convert_state_dict, load_source_state_dict, reorder_blocks,
                   split_blocks, write_converted)

__all__ = [
    'openstl_rules', 'detect_openstl_backbone', 'OPENSTL_BACKBONES',
    'convert_openstl_checkpoint'
]

#: ``--backbone`` name -> the mmvp backbone type it converts to.
OPENSTL_BACKBONES: Dict[str, str] = {
    'convlstm': 'ConvLSTM',
    'predrnn': 'PredRNN',
    'predrnnpp': 'PredRNNpp',
    'predrnnv2': 'PredRNNv2',
    'mim': 'MIM',
    'e3dlstm': 'E3DLSTM',
}

_CONV = r'(?:weight|bias)'
_NEVER_CALLED = 'that OpenSTL allocates but never calls'


def _head() -> Rule:
    return Rule(r'conv_last\.weight', 'backbone.head.weight')


def _st_lstm(prefix: str, index: str = r'(\d+)') -> List[Rule]:
    """ST-LSTM cells (PredRNN, PredRNN-v2, MIM layer 0): same names and
    split orders as mmvp."""
    return [
        Rule(rf'{prefix}\.{index}\.(conv_[xhmo]\.\d+\.{_CONV})',
             r'backbone.cells.\1.\2'),
        Rule(rf'{prefix}\.{index}\.conv_last\.weight',
             r'backbone.cells.\1.conv_last.weight'),
    ]


def _convlstm() -> List[Rule]:
    return [
        Rule(rf'cell_list\.(\d+)\.(conv_[xh]\.\d+\.{_CONV})',
             r'backbone.cells.\1.\2'),
        Rule(
            rf'cell_list\.\d+\.conv_o\.\d+\.{_CONV}',
            None,
            reason=_NEVER_CALLED + ' (ConvLSTM conv_o)'),
        Rule(
            r'cell_list\.\d+\.conv_last\.weight',
            None,
            reason=_NEVER_CALLED + ' (ConvLSTM conv_last)'),
        _head(),
    ]


def _predrnnpp() -> List[Rule]:
    # OpenSTL's split order -> the original PredRNN++ order (mmvp's)
    x_order = reorder_blocks(['i', 'f', 'g', "i'", "f'", "g'", 'o'],
                             ['i', 'g', 'f', 'o', "i'", "g'", "f'"])
    h_order = reorder_blocks(['i', 'f', 'g', 'o'], ['i', 'g', 'f', 'o'])
    c_order = reorder_blocks(['i', 'f', 'g'], ['i', 'g', 'f'])
    cell = r'cell_list\.(\d+)'
    return [
        Rule(rf'{cell}\.conv_x\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_x.\2', x_order),
        Rule(rf'{cell}\.conv_h\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_h.\2', h_order),
        Rule(rf'{cell}\.conv_c\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_c.\2', c_order),
        # W_m: i, f, m in both; W_cm: i, g, f, o in both
        Rule(rf'{cell}\.conv_m\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_m.\2'),
        Rule(rf'{cell}\.conv_c2m\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_cm.\2'),
        Rule(rf'{cell}\.conv_om\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_mo.\2'),
        Rule(rf'{cell}\.conv_last\.weight',
             r'backbone.cells.\1.conv_last.weight'),
        Rule(
            rf'{cell}\.conv_o\.\d+\.{_CONV}',
            None,
            reason=_NEVER_CALLED + ' (PredRNN++ conv_o)'),
        Rule(rf'gradient_highway\.x_concat\.(\d+\.{_CONV})',
             r'backbone.ghu.conv_x.\1'),
        Rule(rf'gradient_highway\.z_concat\.(\d+\.{_CONV})',
             r'backbone.ghu.conv_z.\1'),
        _head(),
    ]


def _mim() -> List[Rule]:
    block = r'stlstm_layer\.([1-9]\d*)'
    diff = r'stlstm_layer_diff\.(\d+)'
    peep = split_blocks(['i', 'f'])
    return _st_lstm('stlstm_layer', r'(0)') + [
        Rule(rf'{block}\.conv_t_cc\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_t.\2'),
        Rule(rf'{block}\.conv_s_cc\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_s.\2'),
        Rule(rf'{block}\.conv_x_cc\.(\d+\.{_CONV})',
             r'backbone.cells.\1.conv_x.\2'),
        Rule(rf'{block}\.conv_h_concat\.(\d+\.{_CONV})',
             r'backbone.cells.\1.mim_s.conv_h.\2'),
        Rule(rf'{block}\.conv_x_concat\.(\d+\.{_CONV})',
             r'backbone.cells.\1.mim_s.conv_x.\2'),
        Rule(rf'{block}\.ct_weight', r'backbone.cells.\1.mim_s.weight_c',
             peep),
        Rule(rf'{block}\.oc_weight', r'backbone.cells.\1.mim_s.weight_co'),
        Rule(rf'{block}\.conv_last\.weight',
             r'backbone.cells.\1.conv_last.weight'),
        Rule(rf'{diff}\.conv_h_concat\.(\d+\.{_CONV})',
             r'backbone.mim_n.\1.conv_h.\2'),
        Rule(rf'{diff}\.conv_x_concat\.(\d+\.{_CONV})',
             r'backbone.mim_n.\1.conv_x.\2'),
        Rule(rf'{diff}\.ct_weight', r'backbone.mim_n.\1.weight_c', peep),
        Rule(rf'{diff}\.oc_weight', r'backbone.mim_n.\1.weight_co'),
        Rule(
            rf'{diff}\.conv_last\.weight',
            None,
            reason=_NEVER_CALLED + ' (MIM-N 1x1 conv_last)'),
        _head(),
    ]


def _e3dlstm() -> List[Rule]:
    cell = r'cell_list\.(\d+)'
    names = dict(
        x='conv_x',
        h='conv_h',
        gm='conv_m',
        new_cell='conv_co',
        new_gm='conv_mo')
    rules = [
        Rule(rf'{cell}\._norm_c_t\.({_CONV})', r'backbone.cells.\1.norm_c.\2'),
        Rule(rf'{cell}\.conv_last\.conv3d\.weight',
             r'backbone.cells.\1.conv_last.weight'),
    ]
    for src, dst in names.items():
        rules.append(
            Rule(rf'{cell}\.conv_{src}\.0\.conv3d\.({_CONV})',
                 rf'backbone.cells.\1.{dst}.\2'))
    # layer_norm=True variants: LayerNorm after conv_x / conv_h / conv_gm
    for src, dst in (('x', 'norm_x'), ('h', 'norm_h'), ('gm', 'norm_m')):
        rules.append(
            Rule(rf'{cell}\.conv_{src}\.1\.({_CONV})',
                 rf'backbone.cells.\1.{dst}.\2'))
    rules.append(_head())
    return rules


_RULES = dict(
    convlstm=_convlstm,
    predrnn=lambda: _st_lstm('cell_list') + [_head()],
    predrnnv2=lambda: _st_lstm('cell_list') +
    [_head(), Rule(r'adapter\.weight', 'backbone.adapter.weight')],
    predrnnpp=_predrnnpp,
    mim=_mim,
    e3dlstm=_e3dlstm)


def openstl_rules(backbone: str) -> List[Rule]:
    """Key rules for an OpenSTL model (a key of :data:`OPENSTL_BACKBONES`)."""
    if backbone not in _RULES:
        raise ValueError(f'unknown OpenSTL backbone {backbone!r}; choose '
                         f'from {", ".join(OPENSTL_BACKBONES)}')
    return _RULES[backbone]()


def detect_openstl_backbone(state_dict) -> str:
    """Guess the OpenSTL model from its (prefix-free) keys."""
    keys = list(state_dict)

    def has(pattern):
        return any(pattern in k for k in keys)

    if has('gradient_highway.'):
        return 'predrnnpp'
    if has('stlstm_layer'):
        return 'mim'
    if has('conv3d.') or has('_norm_c_t'):
        return 'e3dlstm'
    if has('adapter.'):
        return 'predrnnv2'
    if has('.conv_m.'):
        return 'predrnn'
    if has('cell_list.'):
        return 'convlstm'
    raise ValueError('cannot tell which OpenSTL model the keys belong to '
                     f'(first keys: {keys[:3]}); pass --backbone')


def check_openstl_config(backbone: str, cfg) -> None:
    """Log target settings whose function differs from OpenSTL's."""
    bb = cfg.model.backbone
    if backbone == 'convlstm' and bb.get('forget_bias', 0.0) != 0.0:
        print_log(
            f'note: OpenSTL\'s ConvLSTM has no forget bias; the config '
            f'sets forget_bias={bb.get("forget_bias")} '
            '(model_equations.md#convlstm)',
            logger='current')
    if backbone == 'e3dlstm':
        print_log(
            'note: the weights are ported, but OpenSTL\'s E3D-LSTM forward '
            'differs from mmvp\'s (model_equations.md#e3d-lstm): no temporal '
            'padding plus '
            'nearest upsampling, C_hist concatenated along channels with a '
            'scrambling reshape, and the old global memory returned '
            '(legacy_memory_bug). Predictions will not match OpenSTL\'s; '
            'fine-tune the converted model.',
            logger='current')
    if backbone == 'mim':
        print_log(
            'note: OpenSTL never resets the MIM-S cells between batches '
            '(model_equations.md#mim); mmvp resets them per sequence.',
            logger='current')


_HINTS = dict(
    convlstm='OpenSTL\'s ConvLSTM has no peepholes: convert into a config '
    'with model.backbone.peephole=None.',
    mim='MIM\'s Hadamard peepholes are tied to the hidden resolution: set '
    'model.backbone.input_size=(H / patch, W / patch) of the checkpoint.',
    e3dlstm='OpenSTL\'s E3D-LSTM needs model.backbone.temporal_kernel=2, '
    'norm_type=\'full\' and input_size=(H / patch, W / patch).',
)
_COMMON_HINT = ('Check that the config matches the checkpoint '
                '(hidden_channels, num_layers, kernel_size, the data '
                'preprocessor\'s patch_size, img_channels; no neck).')


def convert_openstl_checkpoint(src,
                               dst,
                               config,
                               backbone: Optional[str] = None,
                               cfg_options=None) -> ConversionResult:
    """Convert an OpenSTL checkpoint into an mmvp checkpoint.

    Args:
        src (str): OpenSTL checkpoint (Lightning ``.ckpt`` or ``.pth``).
        dst (str): Output mmvp checkpoint, written atomically.
        config (str | Config): The mmvp config the result must fit.
        backbone (str, optional): A key of :data:`OPENSTL_BACKBONES`;
            detected from the keys when None.
        cfg_options (dict, optional): Overrides merged into the config.

    Returns:
        ConversionResult: The converted state dict and what was dropped.
    """
    source = load_source_state_dict(src)
    if backbone is None:
        backbone = detect_openstl_backbone(source)
        print_log(f'detected OpenSTL model: {backbone}', logger='current')
    rules = openstl_rules(backbone)
    model, cfg = build_target_model(config, cfg_options)
    name = config_name(config)
    expected = OPENSTL_BACKBONES[backbone]
    found = cfg.model.backbone.get('type')
    if found != expected:
        raise CheckpointMismatchError(
            f'Checkpoint "{src}" is an OpenSTL {backbone} model, which '
            f'converts to backbone type {expected!r}, but {name} builds '
            f'{found!r}')
    check_openstl_config(backbone, cfg)
    hint = ' '.join(h for h in (_HINTS.get(backbone), _COMMON_HINT) if h)
    result = convert_state_dict(
        source,
        rules,
        model.state_dict(),
        source_name=f'Checkpoint "{src}"',
        target_name=f'the model of {name}',
        hint=hint)
    return write_converted(
        result,
        src,
        len(source),
        dst,
        source_layout=f'OpenSTL {backbone}',
        config=name,
        dropped=sorted(result.dropped))
