# Copyright (c) mmvp contributors. All rights reserved.
"""Former module of the clip dataset base; see
:mod:`mmvp.datasets.clip_dataset`."""
from .clip_dataset import BaseClipDataset, ClipDataset, InvalidSourceError

__all__ = ['BaseClipDataset', 'ClipDataset', 'InvalidSourceError']
