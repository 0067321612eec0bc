# Copyright (c) mmvp contributors. All rights reserved.
from .patch import patchify, unpatchify

__all__ = ['patchify', 'unpatchify']
