# Copyright (c) mmvp contributors. All rights reserved.
from .device_amp_optim_wrapper import DeviceAmpOptimWrapper

__all__ = ['DeviceAmpOptimWrapper']
