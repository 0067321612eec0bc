# Copyright (c) mmvp contributors. All rights reserved.
"""mmvp: MotionRNN and recurrent video-prediction backbones for MMEngine."""
from .utils.checkpoint import register_checkpoint_loaders
from .version import __version__, version_info

# Route MMEngine's checkpoint loading (load_from, resume, init_cfg, URLs)
# through mmvp's weights-only loader in every process that imports mmvp
# (see mmvp/utils/checkpoint.py). torch's own allow-list is not changed.
register_checkpoint_loaders()

__all__ = ['__version__', 'version_info']
