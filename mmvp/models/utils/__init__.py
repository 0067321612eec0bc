# Copyright (c) mmvp contributors. All rights reserved.
from .memory_format import channels_last_inputs, to_channels_last
from .patch import patchify, unpatchify
from .regional_compile import compile_modules

__all__ = [
    'patchify', 'unpatchify', 'to_channels_last', 'channels_last_inputs',
    'compile_modules'
]
