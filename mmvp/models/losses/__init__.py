# Copyright (c) mmvp contributors. All rights reserved.
from .pixel_losses import L1L2Loss, MSELoss

__all__ = ['MSELoss', 'L1L2Loss']
