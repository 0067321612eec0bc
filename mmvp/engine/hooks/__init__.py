# Copyright (c) mmvp contributors. All rights reserved.
"""Runner hooks registered in ``mmvp.registry.HOOKS``."""

from .dataloader_check_hook import DataloaderCheckHook, empty_loader_message
from .nonfinite_loss_hook import NonFiniteLossHook
from .rng_state_hook import RNGStateHook, capture_rng_state, restore_rng_state
from .visualization_hook import VideoPredVisualizationHook

__all__ = [
    'VideoPredVisualizationHook', 'NonFiniteLossHook', 'RNGStateHook',
    'capture_rng_state', 'restore_rng_state', 'DataloaderCheckHook',
    'empty_loader_message'
]
