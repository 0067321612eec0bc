# Copyright (c) mmvp contributors. All rights reserved.
from .base_cell import BaseRecurrentCell
from .causal_lstm_cell import GHU, CausalLSTMCell
from .convlstm_cell import ConvLSTMCell
from .e3d_lstm_cell import E3DLSTMCell, eidetic_recall
from .mim_cells import MIMN, MIMBlock
from .st_lstm_cell import STLSTMCell

__all__ = [
    'BaseRecurrentCell', 'STLSTMCell', 'ConvLSTMCell', 'CausalLSTMCell', 'GHU',
    'MIMN', 'MIMBlock', 'E3DLSTMCell', 'eidetic_recall'
]
