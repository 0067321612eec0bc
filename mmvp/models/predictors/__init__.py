# Copyright (c) mmvp contributors. All rights reserved.
from .sampling import (linear_sampling_prob, reverse_sampling_probs,
                       sampling_mask)
from .video_predictor import VideoPredictor

__all__ = [
    'VideoPredictor', 'linear_sampling_prob', 'reverse_sampling_probs',
    'sampling_mask'
]
