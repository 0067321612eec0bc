# Copyright (c) mmvp contributors. All rights reserved.
from .base import CLIP_PROTOCOLS, BaseClipProtocol
from .h36m import H36MMimProtocol, H36MOpenSTLProtocol, H36MProtocol
from .meteonet import MeteoNetProtocol
from .video_folder import VideoFolderProtocol

__all__ = [
    'CLIP_PROTOCOLS', 'BaseClipProtocol', 'H36MProtocol', 'H36MMimProtocol',
    'H36MOpenSTLProtocol', 'MeteoNetProtocol', 'VideoFolderProtocol'
]
