# Copyright (c) mmvp contributors. All rights reserved.
"""Runner and checkpoint hook that keep checkpoint files consistent."""
from .checkpoint_hook import SafeCheckpointHook
from .safe_runner import NonFiniteWeightsError, SafeCheckpointRunner

__all__ = [
    'SafeCheckpointRunner', 'SafeCheckpointHook', 'NonFiniteWeightsError'
]
