# Copyright (c) mmvp contributors. All rights reserved.
"""Shared machinery of the checkpoint converters.

A converter turns the state dict of a reference implementation into mmvp's
parameter names (checkpoint_keys.md) for a model built from an mmvp
config, and refuses anything that does not fit that model exactly:

1. :func:`load_source_state_dict` reads the file with
   ``torch.load(weights_only=True)`` and mmvp's allow-list
   (:func:`mmvp.utils.safe_load`), unwraps ``net_param`` / ``state_dict``
   and strips the ``model.`` (Lightning) and ``module.`` (DDP) prefixes.
2. A list of :class:`Rule` s maps every source key to one or more mmvp keys,
   reordering or splitting fused tensors on the way; keys of modules the
   source allocates but never calls are dropped (and logged).
3. :func:`convert_state_dict` checks the result against the target model:
   every source tensor must land on a model parameter of the same shape,
   and every model parameter must be filled. The first problem raises
   :class:`~mmvp.utils.CheckpointMismatchError` naming the source key, the
   mmvp key, the expected and the found shape.
4. :func:`save_checkpoint` writes ``{'state_dict', 'meta'}`` atomically.
"""
import os
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmvp.utils import CheckpointMismatchError, atomic_torch_save, safe_load
from mmvp.version import __version__

__all__ = [
    'Rule', 'ConversionResult', 'load_source_state_dict', 'convert_state_dict',
    'reorder_blocks', 'split_blocks', 'build_target_model', 'save_checkpoint',
    'strip_prefixes'
]

Tensor = torch.Tensor
#: A transform maps ``(mmvp key, source tensor)`` to ``[(key, tensor)]``.
Transform = Callable[[str, Tensor], List[Tuple[str, Tensor]]]

_WRAPPER_KEYS = ('net_param', 'state_dict', 'model', 'model_state_dict')


def strip_prefixes(
    state_dict: Dict[str, Tensor],
    prefixes: Sequence[str] = ('model.', 'module.')
) -> 'OrderedDict[str, Tensor]':
    """Remove wrapper prefixes (Lightning's ``model.``, DDP's ``module.``)
    that every key carries."""
    out = OrderedDict(state_dict)
    changed = True
    while changed and out:
        changed = False
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in out):
                out = OrderedDict((k[len(prefix):], v) for k, v in out.items())
                changed = True
    return out


def load_source_state_dict(filename: Union[str, os.PathLike],
                           wrapper_keys: Sequence[str] = _WRAPPER_KEYS
                           ) -> 'OrderedDict[str, Tensor]':
    """Read a reference checkpoint safely and return its bare state dict.

    Args:
        filename (str | PathLike): The source checkpoint.
        wrapper_keys (Sequence[str]): Keys under which the state dict may
            sit (``net_param`` for thuml code, ``state_dict`` for Lightning
            and MMEngine files); the first one present is used.

    Raises:
        FileNotFoundError: The file does not exist.
        UnsafeCheckpointError: It holds objects outside mmvp's allow-list
            (e.g. a pickle that would run ``os.system``).
        CheckpointMismatchError: It is not a dict of tensors.
    """
    filename = os.fspath(filename)
    ckpt = safe_load(filename, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise CheckpointMismatchError(
            f'Checkpoint "{filename}" holds a {type(ckpt).__name__}, '
            'expected a dict (a state dict, or one under '
            f'{" / ".join(repr(k) for k in wrapper_keys)})')
    for key in wrapper_keys:
        if isinstance(ckpt.get(key), dict):
            ckpt = ckpt[key]
            break
    for key, value in ckpt.items():
        if not isinstance(value, Tensor):
            raise CheckpointMismatchError(
                f'Checkpoint "{filename}": entry "{key}" is a '
                f'{type(value).__name__}, expected a tensor; is this a '
                'model checkpoint (a state dict, or one under '
                f'{" / ".join(repr(k) for k in wrapper_keys)})?')
    if not ckpt:
        raise CheckpointMismatchError(
            f'Checkpoint "{filename}" holds no tensors')
    return strip_prefixes(ckpt)


def reorder_blocks(src_order: Sequence[str],
                   dst_order: Sequence[str]) -> Transform:
    """Permute the equal output-channel blocks of a fused gate tensor.

    Used for fused gate convolutions whose split order differs between
    code bases (checkpoint_keys.md), e.g. OpenSTL's PredRNN++ ``W_x``
    ``i,f,g,i',f',g',o`` to the original ``i,g,f,o,i',g',f'``. Any tensor
    whose dim 0 holds the fused channels (conv weights, norm affine
    weights) is handled.
    """
    if sorted(src_order) != sorted(dst_order):
        raise ValueError(f'{src_order} and {dst_order} are not the same '
                         'blocks')
    index = [list(src_order).index(name) for name in dst_order]

    def transform(key: str, tensor: Tensor) -> List[Tuple[str, Tensor]]:
        n = len(src_order)
        if tensor.shape[0] % n:
            raise ValueError(f'dim 0 ({tensor.shape[0]}) is not {n} equal '
                             f'gate blocks ({", ".join(src_order)})')
        blocks = torch.chunk(tensor, n, dim=0)
        return [(key, torch.cat([blocks[i] for i in index], dim=0))]

    return transform


def split_blocks(suffixes: Sequence[str]) -> Transform:
    """Split dim 0 into equal blocks stored under ``key`` + suffix, e.g.
    OpenSTL MIM's ``ct_weight`` ``[2C, H, W]`` into the ``i`` and ``f``
    Hadamard peepholes."""

    def transform(key: str, tensor: Tensor) -> List[Tuple[str, Tensor]]:
        n = len(suffixes)
        if tensor.shape[0] % n:
            raise ValueError(f'dim 0 ({tensor.shape[0]}) does not split into '
                             f'{n} equal blocks')
        return [(key + s, t.clone())
                for s, t in zip(suffixes, torch.chunk(tensor, n, dim=0))]

    return transform


@dataclass
class Rule:
    """Map source keys matching ``pattern`` (a full-match regex) to mmvp.

    Attributes:
        pattern (str): Regex on the bare source key.
        target (str | None): ``re.sub`` replacement giving the mmvp key;
            None drops the key (a module the source never calls).
        transform (callable, optional): Reorders or splits the tensor; see
            :func:`reorder_blocks`, :func:`split_blocks`.
        reason (str): Why a key is dropped (logged).
    """
    pattern: str
    target: Optional[str]
    transform: Optional[Transform] = None
    reason: str = ''

    def __post_init__(self):
        self.regex = re.compile(self.pattern)


@dataclass
class ConversionResult:
    """What :func:`convert_state_dict` produced.

    Attributes:
        state_dict (OrderedDict): mmvp keys in the target model's order.
        dropped (dict): Dropped source keys and why.
        mapping (dict): Source key -> list of mmvp keys.
    """
    state_dict: 'OrderedDict[str, Tensor]'
    dropped: Dict[str, str] = field(default_factory=dict)
    mapping: Dict[str, List[str]] = field(default_factory=dict)


def _fit_key(key: str, target_keys) -> str:
    """Match a plain conv to a ``Sequential(conv)`` name and vice versa:
    ``a.conv_x.0.weight`` <-> ``a.conv_x.weight``."""
    if key in target_keys:
        return key
    alt = re.sub(r'\.0\.(weight|bias)$', r'.\1', key)
    if alt in target_keys:
        return alt
    alt = re.sub(r'\.(weight|bias)$', r'.0.\1', key)
    if alt in target_keys:
        return alt
    return key


def _fmt(shape) -> str:
    return str(tuple(int(s) for s in shape))


def convert_state_dict(source: Dict[str, Tensor],
                       rules: Sequence[Rule],
                       target: Dict[str, Union[Tensor, torch.Size]],
                       source_name: str = 'source checkpoint',
                       target_name: str = 'the target model',
                       hint: str = '') -> ConversionResult:
    """Rename, reorder and check ``source`` against ``target``.

    Args:
        source (dict): Bare source state dict.
        rules (Sequence[Rule]): Tried in order; the first match wins.
        target (dict): The target model's ``state_dict()`` (tensors may be
            on the meta device) or a dict of shapes.
        source_name (str): The source file, for messages.
        target_name (str): The target (config), for messages.
        hint (str): Appended to mismatch messages (e.g. which config option
            sets the offending size).

    Raises:
        CheckpointMismatchError: On the first source key no rule knows, the
            first key without a counterpart in the model, the first shape
            mismatch, or the first model parameter left unfilled.
    """
    shapes = {
        k: tuple(v.shape if isinstance(v, Tensor) else v)
        for k, v in target.items()
    }
    suffix = f' {hint}' if hint else ''
    converted: Dict[str, Tensor] = {}
    origin: Dict[str, str] = {}
    result = ConversionResult(OrderedDict())
    for key, tensor in source.items():
        rule = next((r for r in rules if r.regex.fullmatch(key)), None)
        if rule is None:
            raise CheckpointMismatchError(
                f'{source_name}: key "{key}" with shape {_fmt(tensor.shape)}'
                f' is not part of the expected layout, so the checkpoint '
                f'does not fit {target_name}.{suffix}')
        if rule.target is None:
            result.dropped[key] = rule.reason
            continue
        new_key = _fit_key(rule.regex.sub(rule.target, key), shapes)
        items = [(new_key, tensor)]
        if rule.transform is not None:
            try:
                items = rule.transform(new_key, tensor)
            except ValueError as err:
                raise CheckpointMismatchError(
                    f'{source_name}: key "{key}" with shape '
                    f'{_fmt(tensor.shape)} cannot be converted: {err}.'
                    f'{suffix}') from err
        result.mapping[key] = []
        for dst, value in items:
            dst = _fit_key(dst, shapes)
            if dst not in shapes:
                raise CheckpointMismatchError(
                    f'{source_name}: key "{key}" (mmvp name "{dst}") has no '
                    f'counterpart in {target_name}.{suffix}')
            if tuple(value.shape) != shapes[dst]:
                raise CheckpointMismatchError(
                    f'{source_name}: shape mismatch at key "{key}" (mmvp '
                    f'name "{dst}"): expected shape {_fmt(shapes[dst])} for '
                    f'{target_name}, found {_fmt(value.shape)}.{suffix}')
            if dst in converted:
                raise CheckpointMismatchError(
                    f'{source_name}: keys "{origin[dst]}" and "{key}" both '
                    f'map to "{dst}"')
            converted[dst] = value.detach().clone().contiguous()
            origin[dst] = key
            result.mapping[key].append(dst)
    missing = [k for k in shapes if k not in converted]
    if missing:
        more = f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''
        raise CheckpointMismatchError(
            f'{source_name}: {target_name} expects "{missing[0]}" with shape '
            f'{_fmt(shapes[missing[0]])}, which the checkpoint does not '
            f'provide{more}.{suffix}')
    for key in shapes:
        result.state_dict[key] = converted[key]
    return result


def build_target_model(config,
                       cfg_options: Optional[dict] = None,
                       device: str = 'meta') -> Tuple[nn.Module, object]:
    """Build the model of an mmvp config (on the meta device by default,
    which only allocates shapes). Returns ``(model, cfg)``."""
    from mmengine.config import Config

    from mmvp.registry import MODELS
    from mmvp.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    cfg = config if isinstance(config, Config) else Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with torch.device(device):
        model = MODELS.build(cfg.model)
    return model, cfg


def save_checkpoint(state_dict: Dict[str, Tensor], meta: dict,
                    filename: Union[str, os.PathLike]) -> str:
    """Write ``{'state_dict', 'meta'}`` atomically (temporary file in the
    destination folder, then ``os.replace``)."""
    filename = os.fspath(filename)
    atomic_torch_save({
        'state_dict': OrderedDict(state_dict),
        'meta': meta
    }, filename)
    return filename


def config_name(config) -> str:
    """The file name of a config given as a path or a loaded ``Config``."""
    filename = getattr(config, 'filename', None)
    return os.fspath(config) if filename is None else filename


def write_converted(result: ConversionResult, src: Union[str, os.PathLike],
                    num_source: int, dst: Union[str, os.PathLike],
                    **meta) -> ConversionResult:
    """Finish a conversion: log the dropped modules, save ``result`` to
    ``dst`` with ``meta`` (after ``converted_from``, the source's file
    name, and before ``mmvp_version``) and log the tensor counts."""
    log_dropped(result.dropped)
    meta = dict(
        converted_from=os.path.basename(os.fspath(src)),
        **meta,
        mmvp_version=__version__)
    save_checkpoint(result.state_dict, meta, dst)
    print_log(
        f'converted {num_source} tensors to {len(result.state_dict)} '
        f'mmvp parameters: {dst}',
        logger='current')
    return result


def log_dropped(dropped: Dict[str, str], logger: str = 'current'):
    """One log line per reason, listing the dropped modules."""
    by_reason: Dict[str, List[str]] = OrderedDict()
    for key, reason in dropped.items():
        # the module, without the weight name or a Sequential index
        module = re.sub(r'(\.\d+)?\.[^.]+$', '', key)
        names = by_reason.setdefault(reason, [])
        if module not in names:
            names.append(module)
    for reason, modules in by_reason.items():
        print_log(
            f'dropped {len(modules)} module(s) {reason}: '
            f'{", ".join(modules)}',
            logger=logger)
