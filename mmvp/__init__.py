# Copyright (c) mmvp contributors. All rights reserved.
"""mmvp: MotionRNN and recurrent video-prediction backbones for MMEngine."""
from .utils.checkpoint import register_safe_globals
from .version import __version__, version_info

# Allow-list MMEngine's checkpoint objects for torch.load(weights_only=True)
# in every process that imports mmvp (see mmvp/utils/checkpoint.py).
register_safe_globals()

__all__ = ['__version__', 'version_info']
