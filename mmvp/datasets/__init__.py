# Copyright (c) mmvp contributors. All rights reserved.
from .base_digit_video import BaseDigitVideoDataset
from .clip_dataset import BaseClipDataset, ClipDataset, InvalidSourceError
from .clip_index import clip_starts, mim_flat_clip_index, read_clip_list
from .digit_sources import (GlyphDigitSource, MNISTDigitSource,
                            SegmentDigitSource, build_digit_source, read_idx)
from .h36m import H36MDataset
from .moving_mnist import (MovingMNISTDataset, generate_moving_mnist_sequence,
                           moving_mnist_trajectory)
from .protocol_dataset import ProtocolClipDataset
from .protocols import (CLIP_PROTOCOLS, BaseClipProtocol, H36MMimProtocol,
                        H36MOpenSTLProtocol, H36MProtocol, MeteoNetProtocol,
                        VideoFolderProtocol)
from .radar import MeteoNetDataset, RadarDataset, load_meteonet_dates
from .transforms import *  # noqa: F401,F403
from .transforms import PackVideoPredInputs
from .video_folder import VideoFolderDataset
from .video_io import (VideoReadError, count_video_frames, read_video_frames,
                       video_info)
from .vmnist import VMNISTDataset
from .vmnist_protocol import (VMNIST_PROTOCOL, generate_vmnist_sequence,
                              render_vmnist, sample_vmnist_params, vmnist_rng,
                              vmnist_trajectory)

__all__ = [
    'BaseDigitVideoDataset', 'GlyphDigitSource', 'MNISTDigitSource',
    'SegmentDigitSource', 'build_digit_source', 'read_idx',
    'MovingMNISTDataset', 'generate_moving_mnist_sequence',
    'moving_mnist_trajectory', 'VMNISTDataset', 'VMNIST_PROTOCOL',
    'generate_vmnist_sequence', 'render_vmnist', 'sample_vmnist_params',
    'vmnist_rng', 'vmnist_trajectory', 'PackVideoPredInputs',
    'BaseClipDataset', 'ClipDataset', 'ProtocolClipDataset',
    'InvalidSourceError', 'CLIP_PROTOCOLS', 'BaseClipProtocol', 'H36MProtocol',
    'H36MMimProtocol', 'H36MOpenSTLProtocol', 'MeteoNetProtocol',
    'VideoFolderProtocol', 'video_info', 'clip_starts', 'mim_flat_clip_index',
    'read_clip_list', 'H36MDataset', 'VideoReadError', 'count_video_frames',
    'read_video_frames', 'VideoFolderDataset', 'RadarDataset',
    'MeteoNetDataset', 'load_meteonet_dates'
]
