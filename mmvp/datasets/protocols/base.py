# Copyright (c) mmvp contributors. All rights reserved.
"""Clip protocols: what a benchmark's clips are.

A protocol turns a dataset root (and its list files) into the clip list
of a :class:`~mmvp.datasets.ClipDataset`: it registers every source file
once with :meth:`ClipDataset.add_source` (path, storage format, frame
step) and returns one ``dict(source_idx, start)`` per clip. Protocols are
registered in :data:`CLIP_PROTOCOLS` and selected from a config with
``protocol=dict(type=...)``. See
``docs/en/advanced_guides/customize_dataset.md``.
"""
import logging
from typing import TYPE_CHECKING, List, Optional

from mmengine.logging import print_log

from mmvp.registry import CLIP_PROTOCOLS

if TYPE_CHECKING:  # pragma: no cover
    from ..clip_dataset import ClipDataset

__all__ = ['CLIP_PROTOCOLS', 'BaseClipProtocol']


_FPS_WARNED = set()


class BaseClipProtocol:
    """Base class of the clip protocols.

    Subclasses set :attr:`name` and implement :meth:`load_data_list`.

    Args:
        fps (float, optional): Frame rate the protocol's frame steps are
            given in. A video of an integer multiple of it is sampled by
            time (its frame step is scaled, with a warning naming the
            file); another rate is warned about. None: no check.
    """

    name = 'custom'

    def __init__(self, fps: Optional[float] = None):
        self.fps = float(fps) if fps else None

    def metainfo(self, dataset: 'ClipDataset') -> dict:
        """Protocol facts recorded in the dataset's metainfo."""
        return dict(protocol=self.name)

    def load_data_list(self, dataset: 'ClipDataset') -> List[dict]:
        """Register the sources with ``dataset.add_source`` and return one
        ``dict(source_idx, start)`` per clip; report unusable files with
        ``dataset.invalid``."""
        raise NotImplementedError(
            f'{self.__class__.__name__} lists no clips: give the dataset a '
            "protocol (e.g. protocol=dict(type='VideoFolderProtocol')) or "
            'override load_data_list')

    def time_scale(self, path: str, fps: Optional[float]) -> int:
        """Factor to scale the frame step of a video of ``fps`` by so that
        clips span the protocol's time (1 if unknown or not an integer
        ratio; both cases other than 1 are logged once per file)."""
        if not self.fps or not fps or abs(fps / self.fps - 1) < 0.01:
            return 1
        ratio = fps / self.fps
        scale = int(round(ratio))
        exact = scale >= 1 and abs(ratio - scale) < 0.01 * scale
        if path not in _FPS_WARNED:
            _FPS_WARNED.add(path)
            how = (f'taking one frame in {scale} so that clips span the '
                   "protocol's time" if exact else
                   f"not an integer multiple: its clips span {1 / ratio:.3g}"
                   " times the protocol's time")
            print_log(
                f'{path}: {fps:g} fps, the {self.name} protocol expects '
                f'{self.fps:g} fps; {how}',
                logger='current',
                level=logging.WARNING)
        return scale if exact else 1

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(name={self.name!r})'
