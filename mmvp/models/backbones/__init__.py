# Copyright (c) mmvp contributors. All rights reserved.
from .base_recurrent_stack import BaseRecurrentStack, new_state
from .predrnn import PredRNN

__all__ = ['BaseRecurrentStack', 'new_state', 'PredRNN']
