# Copyright (c) mmvp contributors. All rights reserved.
"""Runner hooks registered in ``mmvp.registry.HOOKS``."""

from .visualization_hook import VideoPredVisualizationHook

__all__ = ['VideoPredVisualizationHook']
