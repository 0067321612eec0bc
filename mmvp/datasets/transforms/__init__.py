# Copyright (c) mmvp contributors. All rights reserved.
from .formatting import PackVideoPredInputs

__all__ = ['PackVideoPredInputs']
