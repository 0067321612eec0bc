# Copyright (c) mmvp contributors. All rights reserved.
from .base_recurrent_stack import BaseRecurrentStack, new_state
from .convlstm import ConvLSTM
from .e3dlstm import E3DLSTM
from .mim import MIM
from .predrnn import PredRNN
from .predrnnpp import PredRNNpp
from .predrnnv2 import PredRNNv2

__all__ = [
    'BaseRecurrentStack', 'new_state', 'PredRNN', 'ConvLSTM', 'PredRNNpp',
    'MIM', 'PredRNNv2', 'E3DLSTM'
]
