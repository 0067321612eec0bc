# Copyright (c) mmvp contributors. All rights reserved.
"""Human3.6M for video prediction: the ``mim`` and ``openstl`` protocols
(:mod:`mmvp.datasets.protocols.h36m`) on videos, JPEG folders or a frame
cache (``docs/en/advanced_guides/dataset_protocols.md#human36m``)."""
from typing import Optional, Sequence, Union

from mmvp.registry import DATASETS
from .protocol_dataset import ProtocolClipDataset
from .protocols.h36m import (ALL_SUBJECTS, H36M_CACHE_VERSION, H36M_FPS,
                             H36M_PROTOCOLS, H36M_SUBJECTS, H36MMimProtocol,
                             H36MOpenSTLProtocol, cache_params_of,
                             h36m_cache_files, list_h36m_videos,
                             parse_h36m_video, read_cache_record,
                             read_openstl_list)

__all__ = [
    'H36MDataset', 'H36M_SUBJECTS', 'H36M_PROTOCOLS', 'parse_h36m_video',
    'list_h36m_videos', 'h36m_cache_files', 'read_openstl_list',
    'H36M_CACHE_VERSION', 'H36M_FPS', 'ALL_SUBJECTS', 'cache_params_of',
    'read_cache_record'
]

_PROTOCOLS = dict(mim=H36MMimProtocol, openstl=H36MOpenSTLProtocol)


@DATASETS.register_module()
class H36MDataset(ProtocolClipDataset):
    """Human3.6M clips: a :class:`ClipDataset` with a Human3.6M protocol.

    Frames reach the pipeline uncropped at native size (``source='video'``
    / ``'jpeg'``: decode with ``DecordDecode`` / ``FrameFolderDecode``,
    then ``CenterCropFrames`` / ``ResizeFrames``) or already cropped and
    resized (``'cache'``: ``FrameCacheDecode`` and no geometric step).
    Configs: ``configs/_base_/datasets/h36m_mim_walking128_4to4.py``,
    ``h36m_mim_walking128_4to4_cache.py`` and ``h36m_openstl256_4to4.py``.

    Args:
        data_root (str): Folder with ``S1/Videos/*.mp4`` ... (``'video'``),
            the flat JPEG folder (``'jpeg'``, unless ``image_dir``), or
            the root that ``ann_file`` paths are relative to.
        split (str): ``'train'`` or ``'test'``: the subjects (``mim``) and
            the default clip stride (10 / 5 stored images).
        protocol (str): ``'mim'`` (default) or ``'openstl'``.
        source (str): ``'video'`` (default), ``'jpeg'`` or ``'cache'``.
        in_frames (int): Defaults to 4.
        out_frames (int): Defaults to 4.
        subjects (Sequence[str], optional): Override the split's subjects
            (``mim``), e.g. ``['S8']`` for a monitoring split.
        actions (Sequence[str], optional): Scenario names kept (token 1 of
            the key, so ``'Walking'`` keeps ``Walking_1`` but not
            ``WalkDog``). Defaults to ``('Walking',)`` for ``mim`` and
            all for ``openstl``. ``['*']`` keeps all.
        clip_stride (int, optional): Stored images between clip starts
            (``mim``). Defaults to 10 (train) / 5 (other splits).
        frame_step (int, optional): Stored images between the frames of
            a clip. Defaults to 2 (``mim``) / 1 (``openstl``).
        ann_file (str): OpenSTL meta list (``openstl``; required), e.g.
            ``meta/human/train.txt``, relative to ``data_root``.
        image_dir (str): The JPEG folder for ``source='jpeg'`` (default:
            ``data_root``).
        cache_dir (str): The frame cache for ``source='cache'``.
        cache_params (dict, optional): The geometry the config expects
            the cache to hold, e.g. ``dict(crop_border_ratio=0.25,
            scale=128, interpolation='linear')``; a cache whose record
            differs is refused. None accepts any cache.
        backend (str): How frame counts are read at index time:
            ``'decord'`` (``len``; OpenCV fallback) or ``'opencv'``.
        frame_count_caps (dict | str, optional): ``{key: frames}`` (or a
            JSON file of it) capping a video's frame count, e.g. by the
            length of its pose annotation (``D2_Positions``), where the
            Pavlakos images stop. Defaults to None.
        fps (float): The frame rate of the protocol's frame steps (50).
            A 100 fps video is read every 2nd frame; other rates are
            warned about.
        skip_invalid (bool): Skip unusable videos / images (counted and
            logged once) instead of raising. Defaults to False.
        **kwargs: ``pipeline``, ``clip_list``, ``test_mode``, ``indices``,
            ``metainfo``, ``serialize_data``, ``lazy_init``,
            ``max_refetch``.
    """

    PROTOCOL_ARGS = ('source', 'split', 'subjects', 'actions', 'clip_stride',
                     'frame_step', 'image_dir', 'cache_dir', 'cache_params',
                     'backend', 'frame_count_caps', 'fps')
    PROTOCOL_ATTRIBUTES = ('subjects', 'actions', 'raw_step', 'frame_step',
                           'clip_stride', 'image_dir', 'cache_dir', 'backend',
                           'frame_count_caps')

    def __init__(self,
                 data_root: str = 'data/h36m',
                 split: str = 'train',
                 protocol: str = 'mim',
                 source: str = 'video',
                 in_frames: int = 4,
                 out_frames: int = 4,
                 subjects: Optional[Sequence[str]] = None,
                 actions: Optional[Sequence[str]] = None,
                 clip_stride: Optional[int] = None,
                 frame_step: Optional[int] = None,
                 ann_file: str = '',
                 image_dir: str = '',
                 cache_dir: str = '',
                 cache_params: Optional[dict] = None,
                 backend: str = 'decord',
                 frame_count_caps: Optional[Union[str, dict]] = None,
                 fps: float = H36M_FPS,
                 skip_invalid: bool = False,
                 **kwargs):
        if protocol not in _PROTOCOLS:
            raise ValueError(f'unknown Human3.6M protocol {protocol!r}; '
                             f'expected one of {tuple(_PROTOCOLS)}')
        self.source = source
        self._init_with_protocol(_PROTOCOLS[protocol], locals())
