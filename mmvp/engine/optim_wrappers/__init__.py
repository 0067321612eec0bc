# Copyright (c) mmvp contributors. All rights reserved.
from .device_amp_optim_wrapper import DeviceAmpOptimWrapper
from .nonfinite_skip_optim_wrapper import (NonFiniteLossError,
                                           NonFiniteSkipAmpOptimWrapper,
                                           NonFiniteSkipMixin,
                                           NonFiniteSkipOptimWrapper)

__all__ = [
    'DeviceAmpOptimWrapper', 'NonFiniteSkipOptimWrapper',
    'NonFiniteSkipAmpOptimWrapper', 'NonFiniteSkipMixin', 'NonFiniteLossError'
]
