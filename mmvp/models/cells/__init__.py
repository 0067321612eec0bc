# Copyright (c) mmvp contributors. All rights reserved.
from .st_lstm_cell import STLSTMCell

__all__ = ['STLSTMCell']
