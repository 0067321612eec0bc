# Copyright (c) mmvp contributors. All rights reserved.
"""Parameter and multiply-accumulate counts of one predicted sequence.

The counter of ``get_flops.py`` and ``benchmark.py`` beside this file (a
tool, not part of the ``mmvp`` package). The counting rules are those of
model_equations.md#counting-parameters-and-macs (the numbers of the
MotionRNN paper's Table 2):

* Forward hooks on every executed ``Conv{1,2,3}d`` and
  ``ConvTranspose{1,2,3}d``. A conv called ``n`` times (once per recurrent
  step) adds its MACs ``n`` times; its parameters are counted once.
* The MotionGRU warp (a modulated deformable convolution,
  model_equations.md#warp) is counted as the ``C/4 -> C/4``,
  ``k_m x k_m`` convolution it is in the official code:
  ``output elements x C_in x k_m^2`` per call and the ``warp_weight``
  parameters. Bilinear sampling is not counted.
* Elementwise ops, normalisation layers, attention matmuls and bare
  ``nn.Parameter`` peepholes are not counted (thop does not count them).
  The all-parameter total is reported separately.

Two conventions differ only for transposed convolutions:

* ``'thop'``: ``output elements x C_in / groups x kernel volume`` (what thop
  reports; 4x the real MACs of a stride-2 2-D deconvolution);
* ``'true'``: ``input elements x C_out / groups x kernel volume`` (the
  multiplications a transposed convolution really performs).

The model can be counted on the ``meta`` device: shapes propagate, no
arithmetic runs, so even the 300 GMAC E3D-LSTM sequence counts in a moment.

Forward hooks rather than ``mmengine.analysis.FlopAnalyzer``: the analyzer
traces the model with ``torch.jit``, and the trace fails on the ``meta``
device (the convolution's shape check is handed traced sizes), so it needs
real arithmetic. For the Human3.6M PredRNN + MotionRNN sequence on a CPU
it took 34 s (these hooks: 20 s on the CPU, about 1 s on ``meta``) and
gave the same ``'true'`` count, 50,708,532,224 MACs, once bilinear
sampling is not counted (its 1x1 contraction is the warp's convolution);
``tests/test_tools/test_get_flops.py`` checks the two agree on a small
sequence.
"""
import copy
import math
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

__all__ = [
    'describe_model', 'LayerCount', 'ComplexityResult', 'count_complexity',
    'resolve_sequence', 'build_model_for_counting', 'sequence_settings',
    'match_paper_row', 'format_count', 'PAPER_TABLE2', 'H36M_SETTINGS'
]

CONV_TYPES = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
CONV_TRANSPOSE_TYPES = (nn.ConvTranspose1d, nn.ConvTranspose2d,
                        nn.ConvTranspose3d)

#: The MotionRNN paper's Table 2 (reproduction_notes.md#model-sizes): name,
#: params, MACs of one Human3.6M sequence, as printed (3 significant digits).
PAPER_TABLE2: Tuple[Tuple[str, float, float], ...] = (
    ('ConvLSTM', 4.41e6, 31.6e9),
    ('ConvLSTM + MotionRNN', 5.21e6, 36.6e9),
    ('PredRNN', 6.41e6, 46.0e9),
    ('PredRNN + MotionRNN', 7.01e6, 49.5e9),
    ('MIM', 9.79e6, 70.2e9),
    ('MIM + MotionRNN', 10.4e6, 73.7e9),
    ('E3D-LSTM', 20.4e6, 292e9),
    ('E3D-LSTM + MotionRNN', 21.3e6, 303e9),
)

#: The sequence of the paper's Table 2: 4 -> 4 frames of
#: 128 x 128 RGB, i.e. 7 recurrent steps.
H36M_SETTINGS = dict(
    in_frames=4, out_frames=4, height=128, width=128, img_channels=3)


@dataclass
class LayerCount:
    """Counts of one executed layer.

    Attributes:
        name (str): Module name in the model (the warp: the MotionGRU's name
            plus ``.warp_weight``).
        type (str): Class name (``'DeformWarp'`` for the warp).
        params (int): Parameters of the layer (weight and bias).
        calls (int): How often it ran during the sequence.
        macs_thop (int): MACs summed over the calls, thop convention.
        macs_true (int): MACs summed over the calls, true convention.
    """
    name: str
    type: str
    params: int
    calls: int = 0
    macs_thop: int = 0
    macs_true: int = 0


@dataclass
class ComplexityResult:
    """Result of :func:`count_complexity`.

    Attributes:
        params (int): Parameters of the executed conv layers and warps
            (the thop-style count of
            model_equations.md#counting-parameters-and-macs).
        params_all (int): Every parameter of the model.
        macs_thop (int): MACs of the sequence, thop convention.
        macs_true (int): MACs of the sequence, true convention.
        layers (list[LayerCount]): Per-layer counts in execution order.
        input_shape (tuple): Shape of the (patchified) model input.
        steps (int): Recurrent steps (``in_frames + out_frames - 1``).
    """
    params: int
    params_all: int
    macs_thop: int
    macs_true: int
    layers: List[LayerCount] = field(default_factory=list)
    input_shape: Tuple[int, ...] = ()
    steps: int = 0

    def macs(self, convention: str = 'thop') -> int:
        """MACs in ``convention`` (``'thop'`` or ``'true'``)."""
        if convention not in ('thop', 'true'):
            raise ValueError("convention must be 'thop' or 'true', got "
                             f'{convention!r}')
        return self.macs_thop if convention == 'thop' else self.macs_true

    def by_group(self, depth: int = 1) -> 'OrderedDict[str, Dict]':
        """Sum the layers by the first ``depth`` parts of their names."""
        groups: 'OrderedDict[str, Dict]' = OrderedDict()
        for layer in self.layers:
            key = '.'.join(layer.name.split('.')[:depth])
            g = groups.setdefault(key,
                                  dict(params=0, macs_thop=0, macs_true=0))
            g['params'] += layer.params
            g['macs_thop'] += layer.macs_thop
            g['macs_true'] += layer.macs_true
        return groups

    def to_dict(self) -> dict:
        out = asdict(self)
        out['input_shape'] = list(self.input_shape)
        return out


def _numel(shape: Sequence[int]) -> int:
    return int(math.prod(int(s) for s in shape))


def _first_tensor(value):
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return _first_tensor(value[0])
    raise TypeError(f'expected a tensor, got {type(value).__name__}')


def conv_macs(module: nn.Module, inp: torch.Tensor,
              out: torch.Tensor) -> Tuple[int, int]:
    """``(thop, true)`` MACs of one call of a (transposed) convolution."""
    kernel = _numel(module.kernel_size)
    groups = module.groups
    if isinstance(module, CONV_TRANSPOSE_TYPES):
        thop = _numel(out.shape) * (module.in_channels // groups) * kernel
        true = _numel(inp.shape) * (module.out_channels // groups) * kernel
        return thop, true
    macs = _numel(out.shape) * (module.in_channels // groups) * kernel
    return macs, macs


def _module_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters(recurse=False))


def _find_warps(model: nn.Module) -> List[Tuple[str, nn.Module]]:
    """MotionGRU-like modules: a ``warp_weight`` parameter ``[c_out, c_in,
    k, k]`` and the ``warp_mask`` conv that runs once per warp."""
    found = []
    for name, module in model.named_modules():
        weight = getattr(module, 'warp_weight', None)
        mask = getattr(module, 'warp_mask', None)
        if isinstance(weight, nn.Parameter) and isinstance(mask, nn.Module):
            found.append((name, module))
    return found


def count_complexity(model: nn.Module,
                     inputs: torch.Tensor,
                     mode: str = 'tensor') -> ComplexityResult:
    """Run ``model(inputs, mode=mode)`` once and count what executes.

    Args:
        model (nn.Module): A :class:`VideoPredictor` (or any module whose
            forward accepts ``inputs`` and ``mode``; pass ``mode=None`` to
            call ``model(inputs)``).
        inputs (Tensor): The patchified clip ``[B, T, p^2 C, H/p, W/p]``;
            may live on the ``meta`` device together with the model.
        mode (str, optional): Forward mode (``'tensor'``: the rollout).

    Returns:
        ComplexityResult: Totals for the whole sequence and per layer.
    """
    layers: 'OrderedDict[str, LayerCount]' = OrderedDict()
    handles = []

    def conv_hook(name):

        def hook(module, args, output):
            thop, true = conv_macs(module, _first_tensor(args),
                                   _first_tensor(output))
            rec = layers.get(name)
            if rec is None:
                rec = layers[name] = LayerCount(name,
                                                type(module).__name__,
                                                _module_params(module))
            rec.calls += 1
            rec.macs_thop += thop
            rec.macs_true += true

        return hook

    def warp_hook(name, gru):
        # model_equations.md#warp: the official warp ends with
        # Conv2d(C/4 -> C/4, k_m, stride k_m) on the k_m h x k_m w map of
        # samples, i.e. out elements x C_in x k_m^2 MACs per call.
        def hook(module, args, output):
            mask = _first_tensor(output)
            weight = gru.warp_weight
            c_out, c_in = int(weight.shape[0]), int(weight.shape[1])
            kernel = _numel(weight.shape[2:])
            b, spatial = int(mask.shape[0]), _numel(mask.shape[2:])
            macs = b * c_out * spatial * c_in * kernel
            key = f'{name}.warp_weight' if name else 'warp_weight'
            rec = layers.get(key)
            if rec is None:
                rec = layers[key] = LayerCount(key, 'DeformWarp',
                                               weight.numel())
            rec.calls += 1
            rec.macs_thop += macs
            rec.macs_true += macs

        return hook

    for name, module in model.named_modules():
        if isinstance(module, CONV_TYPES + CONV_TRANSPOSE_TYPES):
            handles.append(module.register_forward_hook(conv_hook(name)))
    for name, gru in _find_warps(model):
        handles.append(
            gru.warp_mask.register_forward_hook(warp_hook(name, gru)))

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            if mode is None:
                model(inputs)
            else:
                model(inputs, mode=mode)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)

    records = list(layers.values())
    steps = 0
    if hasattr(model, 'in_frames') and hasattr(model, '_num_total'):
        steps = model._num_total() - 1
    return ComplexityResult(
        params=sum(r.params for r in records),
        params_all=sum(p.numel() for p in model.parameters()),
        macs_thop=sum(r.macs_thop for r in records),
        macs_true=sum(r.macs_true for r in records),
        layers=records,
        input_shape=tuple(int(s) for s in inputs.shape),
        steps=steps)


def sequence_settings(model_cfg: dict,
                      height: Optional[int] = None,
                      width: Optional[int] = None,
                      in_frames: Optional[int] = None,
                      out_frames: Optional[int] = None,
                      img_channels: Optional[int] = None) -> dict:
    """Resolve the counted sequence from a model config and overrides.

    Frames and channels default to the config's ``in_frames``,
    ``out_frames`` and ``img_channels``, the patch size to its data
    preprocessor's. ``height`` and ``width`` must be given (the config does
    not fix them).

    Returns:
        dict: ``in_frames, out_frames, img_channels, height, width,
        patch_size`` and ``input_shape`` (the patchified batch-1 clip).
    """
    if height is None or width is None:
        raise ValueError('the frame size (height, width) must be given')
    pre = model_cfg.get('data_preprocessor') or {}
    patch = int(pre.get('patch_size', 4))
    t_in = int(in_frames or model_cfg.get('in_frames', 10))
    t_out = int(out_frames or model_cfg.get('out_frames', 10))
    chans = int(img_channels or model_cfg.get('img_channels', 1))
    if height % patch or width % patch:
        raise ValueError(f'frame size {height}x{width} is not divisible by '
                         f'the patch size {patch}')
    return dict(
        in_frames=t_in,
        out_frames=t_out,
        img_channels=chans,
        height=int(height),
        width=int(width),
        patch_size=patch,
        input_shape=(1, t_in + t_out, patch * patch * chans, height // patch,
                     width // patch))


def resolve_sequence(cfg,
                     config: str,
                     shape: Optional[Sequence[int]] = None,
                     frames: Optional[Sequence[int]] = None,
                     img_channels: Optional[int] = None,
                     h36m: bool = False,
                     shape_flag: str = '--shape H W') -> dict:
    """:func:`sequence_settings` of a loaded config and the command-line
    choices of the analysis tools.

    Explicit ``shape`` (height, width), ``frames`` (in, out) and
    ``img_channels`` win over the ``h36m`` preset (:data:`H36M_SETTINGS`),
    which wins over the config (its test pipeline's frame size, the
    model's frames and channels). A config without a frame size, or a
    size the patch does not divide, exits with a message naming
    ``config`` and ``shape_flag``.
    """
    from mmvp.apis import config_frame_size
    preset = H36M_SETTINGS if h36m else {}
    if shape:
        height, width = shape
    elif preset:
        height, width = preset['height'], preset['width']
    else:
        size = config_frame_size(cfg)
        if size is None:
            raise SystemExit(
                f'{config}: the config declares no frame size; give '
                f"{shape_flag} (or --h36m for the paper's 128 x 128 x 3 "
                'sequence)')
        height, width = size
    in_frames, out_frames = frames or (preset.get('in_frames'),
                                       preset.get('out_frames'))
    channels = img_channels or preset.get('img_channels')
    try:
        return sequence_settings(cfg.model, height, width, in_frames,
                                 out_frames, channels)
    except ValueError as err:
        raise SystemExit(f'{config}: {err}')


def add_sequence_args(parser, channels_in_shape: bool = False) -> None:
    """The options of the analysed sequence: ``--shape H W`` and
    ``--img-channels C`` (or ``--shape H W C``), ``--frames IN OUT`` and
    ``--h36m``; :func:`sequence_from_args` reads them."""
    if channels_in_shape:
        size, flags = ('H', 'W', 'C'), '--shape and --frames'
        shape_help = ('frame height, width and channels (default: the '
                      "config's test frame size and the model's "
                      'img_channels, or 128 128 3 with --h36m)')
    else:
        size, flags = ('H', 'W'), '--shape, --frames and --img-channels'
        shape_help = ("frame height and width (default: the config's test "
                      'frame size, or 128 128 with --h36m)')
    parser.add_argument(
        '--shape', type=int, nargs=len(size), metavar=size, help=shape_help)
    parser.add_argument(
        '--frames',
        type=int,
        nargs=2,
        metavar=('IN', 'OUT'),
        help="input and output frames (default: the model's in_frames "
        'and out_frames, or 4 4 with --h36m)')
    if not channels_in_shape:
        parser.add_argument(
            '--img-channels',
            type=int,
            help="channels of a frame (default: the model's img_channels, "
            'or 3 with --h36m)')
    parser.add_argument(
        '--h36m',
        action='store_true',
        help="the sequence of the paper's Table 2: 4 -> 4 frames of 128 x "
        f'128 x 3 (explicit {flags} win)')


def sequence_from_args(cfg, args) -> dict:
    """:func:`resolve_sequence` from the options of
    :func:`add_sequence_args` (and ``args.config``)."""
    shape = args.shape
    channels = getattr(args, 'img_channels', None)
    flag = '--shape H W'
    if shape is not None and len(shape) == 3:
        shape, channels = shape[:2], shape[2]
    if not hasattr(args, 'img_channels'):
        flag = '--shape H W C'
    return resolve_sequence(cfg, args.config, shape, args.frames, channels,
                            args.h36m, flag)


def describe_model(model_cfg: dict) -> str:
    """``'PredRNN + MotionRNNNeck'``: the backbone and neck types of a
    model config, as the analysis tools print them."""
    parts = [model_cfg['backbone']['type']]
    if model_cfg.get('neck'):
        parts.append(model_cfg['neck']['type'])
    return ' + '.join(parts)


def build_model_for_counting(model_cfg: dict,
                             settings: dict,
                             device: str = 'meta') -> nn.Module:
    """Build ``model_cfg`` for the sequence ``settings`` on ``device``.

    Sets the predictor's frames and image channels, and a
    resolution-bound ``backbone.input_size`` (MIM's Hadamard peepholes,
    E3D-LSTM's full LayerNorm, PredRNN's layer norm) to the patchified
    frame size. ``test_cfg.num_future`` is dropped so the rollout covers
    exactly ``in_frames + out_frames`` frames. On the meta device the
    model runs eagerly (``compile_regions`` dropped): counting hooks every
    module, and compiled code cannot run on meta tensors.
    """
    from mmvp.registry import MODELS
    cfg = copy.deepcopy(dict(model_cfg))
    cfg['in_frames'] = settings['in_frames']
    cfg['out_frames'] = settings['out_frames']
    cfg['img_channels'] = settings['img_channels']
    if cfg.get('test_cfg'):
        cfg['test_cfg'] = {
            k: v
            for k, v in dict(cfg['test_cfg']).items() if k != 'num_future'
        }
    backbone = dict(cfg['backbone'])
    if backbone.get('input_size') is not None:
        p = settings['patch_size']
        backbone['input_size'] = (settings['height'] // p,
                                  settings['width'] // p)
    cfg['backbone'] = backbone
    if torch.device(device).type == 'meta':
        cfg.pop('compile_regions', None)
    with torch.device(device):
        model = MODELS.build(cfg)
    return model


def _round_sig(value: float, digits: int = 3) -> float:
    """Round half up to ``digits`` significant digits (decimal, so that
    45.95 becomes 46.0 as printed, not 45.9 as binary floats would)."""
    if value == 0:
        return 0.0
    d = Decimal(repr(float(value)))
    exp = d.adjusted() - digits + 1
    return float(d.quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_UP))


def _rounds_to(value: float, printed: float) -> bool:
    """Whether ``value`` prints as ``printed`` with 3 significant digits,
    directly or via 4 digits (the paper's 46.0G is 45.95G rounded again)."""
    return printed in (_round_sig(value), _round_sig(_round_sig(value, 4)))


def match_paper_row(params: int, macs_thop: int,
                    macs_true: int) -> Optional[dict]:
    """The Table 2 row that ``params`` and MACs reproduce after rounding to
    the paper's 3 significant digits, or None.

    Returns:
        dict | None: ``name, paper_params, paper_macs, convention``.
    """
    for name, p_params, p_macs in PAPER_TABLE2:
        if not _rounds_to(params, p_params):
            continue
        for convention, macs in (('thop', macs_thop), ('true', macs_true)):
            if _rounds_to(macs, p_macs):
                return dict(
                    name=name,
                    paper_params=p_params,
                    paper_macs=p_macs,
                    convention=convention)
    return None


def closest_paper_row(params: int, macs: int) -> dict:
    """The Table 2 row nearest to ``(params, macs)`` (relative distance)."""
    best = None
    for name, p_params, p_macs in PAPER_TABLE2:
        d_p = params / p_params - 1
        d_m = macs / p_macs - 1
        dist = abs(d_p) + abs(d_m)
        if best is None or dist < best['distance']:
            best = dict(
                name=name,
                paper_params=p_params,
                paper_macs=p_macs,
                rel_params=d_p,
                rel_macs=d_m,
                distance=dist)
    return best


def format_count(value: float, unit: str = 'auto') -> str:
    """``6410240 -> '6.41M'``, ``45950000000 -> '45.95G'``."""
    for suffix, scale in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if unit == suffix or (unit == 'auto' and abs(value) >= scale):
            return f'{value / scale:.2f}{suffix}'
    return str(int(value))
