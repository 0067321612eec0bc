# Copyright (c) mmvp contributors. All rights reserved.
from .base_digit_video import BaseDigitVideoDataset
from .digit_sources import (GlyphDigitSource, MNISTDigitSource,
                            build_digit_source, read_idx)
from .moving_mnist import (MovingMNISTDataset, generate_moving_mnist_sequence,
                           moving_mnist_trajectory)
from .transforms import *  # noqa: F401,F403
from .vmnist import VMNISTDataset
from .vmnist_protocol import (VMNIST_PROTOCOL, generate_vmnist_sequence,
                              render_vmnist, sample_vmnist_params, vmnist_rng,
                              vmnist_trajectory)

__all__ = [
    'BaseDigitVideoDataset', 'GlyphDigitSource', 'MNISTDigitSource',
    'build_digit_source', 'read_idx', 'MovingMNISTDataset',
    'generate_moving_mnist_sequence', 'moving_mnist_trajectory',
    'VMNISTDataset', 'VMNIST_PROTOCOL', 'generate_vmnist_sequence',
    'render_vmnist', 'sample_vmnist_params', 'vmnist_rng', 'vmnist_trajectory',
    'PackVideoPredInputs'
]
