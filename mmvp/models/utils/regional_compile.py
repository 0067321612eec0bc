# Copyright (c) mmvp contributors. All rights reserved.
"""Regional compilation: ``torch.compile`` each per-step module on its own.

The time loop calls the same few modules (a cell, a MotionGRU block) once
per layer and step. Compiled one by one, every instance of a class shares
the generated code, so compiling takes a fraction of the time that
compiling the whole unrolled training step takes.
"""
import inspect
from typing import Iterable, Optional, Union

import torch
import torch.nn as nn

_COMPILE_ARGS = frozenset(inspect.signature(
    torch.compile).parameters) - {'model'}
# A region is traced once per distinct call: layer 0's input has other
# channels, a state may or may not need grad (the zero state at step 0),
# training and inference differ in grad mode. Static shapes keep each graph
# specialised, and the limit leaves room for these variants (8 by default).
_REGION_DEFAULTS = {
    k: v
    for k, v in dict(dynamic=False, recompile_limit=64).items()
    if k in _COMPILE_ARGS
}


def region_compile_kwargs(value: Union[bool, dict, None]) -> Optional[dict]:
    """The ``torch.compile`` keyword arguments a ``compile_regions`` value
    stands for (None: off; True: the defaults; a dict: those arguments over
    the defaults ``dynamic=False, recompile_limit=64``)."""
    if value is False or value is None:
        return None
    if value is True:
        return dict(_REGION_DEFAULTS)
    if not isinstance(value, dict):
        raise TypeError('compile_regions must be a bool or a dict of '
                        'torch.compile arguments, got '
                        f'{type(value).__name__} {value!r}')
    unknown = sorted(set(value) - _COMPILE_ARGS)
    if unknown:
        raise ValueError(
            f'compile_regions: unknown torch.compile argument(s) '
            f'{unknown}; expected some of {sorted(_COMPILE_ARGS)}')
    return {**_REGION_DEFAULTS, **value}


def compile_modules(modules: Iterable[nn.Module],
                    value: Union[bool, dict, None]) -> Optional[dict]:
    """Compile each of ``modules`` in place (``nn.Module.compile``: the
    parameters and ``state_dict`` keys stay as they are) as ``value`` says;
    returns the keyword arguments used, or None when ``value`` is off."""
    kwargs = region_compile_kwargs(value)
    if kwargs is not None:
        for module in modules:
            try:
                module.compile(**kwargs)
            except Exception as err:  # torch says what is wrong
                raise ValueError(f'compile_regions={value!r}: torch.compile '
                                 f'refused it: {err}') from err
    return kwargs
