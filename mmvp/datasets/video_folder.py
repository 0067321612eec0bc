# Copyright (c) mmvp contributors. All rights reserved.
"""Custom data: clips from a folder of videos, frame folders or arrays.

Layout without a list file (every entry of ``data_root``, sorted)::

    data_root/
        walk_01.mp4               # a video (decord, OpenCV fallback)
        seq_0002/                 # a frame folder: 000001.png, 000002.png
        clip_3.npy                # uint8 [N, H, W] or [N, H, W, C]

With ``ann_file``, one clip per line ``path start split`` (``start`` and
``split`` optional; a line without ``start`` gives every clip of the
file)::

    walk_01.mp4 0 train
    walk_01.mp4 40 test
    seq_0002 12 train
"""
from typing import Optional, Sequence

from mmvp.registry import DATASETS
from .protocol_dataset import ProtocolClipDataset
from .protocols.video_folder import VideoFolderProtocol
from .video_io import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

__all__ = ['VideoFolderDataset']


@DATASETS.register_module()
class VideoFolderDataset(ProtocolClipDataset):
    """Fixed-length clips cut from videos, frame folders or frame arrays:
    a :class:`ClipDataset` with a :class:`VideoFolderProtocol`.

    The index is built from metadata only: decord's frame count (or an
    OpenCV count for files decord cannot read), frame file names, array
    headers. Each storage has its decode transform (``DecordDecode``,
    ``FrameFolderDecode``, ``ArrayDecode``); ``LoadVideoFrames`` picks it
    per clip when one folder mixes them::

        [dict(type='LoadVideoFrames'),
         dict(type='ResizeFrames', scale=64),
         dict(type='PackVideoPredInputs')]

    Args:
        data_root (str): Folder of the videos / frame folders / arrays.
        ann_file (str): Optional list file (``path [start [split]]`` per
            line, paths relative to ``data_root``).
        split (str, optional): Keep only list lines of this split (lines
            without a split are kept for every split).
        in_frames (int): Defaults to 10.
        out_frames (int): Defaults to 10.
        frame_interval (int): Step between the frames of a clip, in the
            file's frames. Defaults to 1.
        clip_stride (int, optional): Step between clip starts when a file
            is cut into all its clips. Defaults to the clip span
            (non-overlapping clips).
        video_extensions (Sequence[str]): File endings read as videos.
        image_extensions (Sequence[str]): Files of a frame folder.
        array_key (str, optional): Array of an .npz file (default: its
            only array).
        check_gaps (bool): Treat a frame folder whose numbering has a
            gap as invalid. Defaults to True.
        backend (str): Frame counting at index time, ``'decord'`` or
            ``'opencv'``.
        fps (float, optional): Frame rate ``frame_interval`` is given in;
            videos of an integer multiple are read by time. Defaults to
            None (no check).
        skip_invalid (bool): Skip unusable entries (corrupt or truncated
            videos, too short files, gaps, unknown files) instead of
            raising; they are counted and logged once. Defaults to False.
        protocol (str): Name recorded in the metainfo and the samples.
            Defaults to ``'video_folder'``.
        **kwargs: ``pipeline``, ``clip_list``, ``test_mode``, ``indices``,
            ``metainfo``, ``serialize_data``, ``lazy_init``,
            ``max_refetch``.
    """

    PROTOCOL_ARGS = ('frame_interval', 'clip_stride', 'video_extensions',
                     'image_extensions', 'array_key', 'check_gaps', 'backend',
                     'fps')
    PROTOCOL_ATTRIBUTES = ('frame_interval', 'clip_stride', 'video_extensions',
                           'image_extensions', 'array_key', 'check_gaps',
                           'backend')

    def __init__(self,
                 data_root: str = '',
                 ann_file: str = '',
                 split: Optional[str] = None,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 frame_interval: int = 1,
                 clip_stride: Optional[int] = None,
                 video_extensions: Sequence[str] = VIDEO_EXTENSIONS,
                 image_extensions: Sequence[str] = IMAGE_EXTENSIONS,
                 array_key: Optional[str] = None,
                 check_gaps: bool = True,
                 backend: str = 'decord',
                 fps: Optional[float] = None,
                 skip_invalid: bool = False,
                 protocol: str = 'video_folder',
                 **kwargs):
        self._init_with_protocol(
            VideoFolderProtocol,
            locals(),
            name=protocol,
            extra=self.extra_keys())

    def extra_keys(self) -> dict:
        """Keys added to every sample (e.g. a radar encoding)."""
        return {}
