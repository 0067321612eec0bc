# Copyright (c) mmvp contributors. All rights reserved.
"""Pixel <-> radar reflectivity (dBZ) encodings of the radar datasets.

The implementation is :mod:`mmvp.utils.dbz_encoding` (shared with the CSI
metrics, which must not import the datasets); this module keeps the
historical import path working.
"""
from mmvp.utils.dbz_encoding import (DBZ_ENCODINGS, check_encoding,
                                     dbz_to_pixel, pixel_to_dbz)

__all__ = ['DBZ_ENCODINGS', 'check_encoding', 'pixel_to_dbz', 'dbz_to_pixel']
