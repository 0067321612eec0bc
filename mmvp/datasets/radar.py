# Copyright (c) mmvp contributors. All rights reserved.
"""Precipitation radar nowcasting (see
``docs/en/advanced_guides/dataset_protocols.md#precipitation-radar``).

The paper's Shanghai radar data are not public
(``dataset_protocols.md#shanghai-radar``). mmvp offers:

* :class:`RadarDataset`: sequences of radar frames that are already
  dBZ-encoded pixels (folders of PNG frames, uint8 .npy / .npz arrays),
  with the encoding named by ``dbz_encoding`` (``'motionrnn'``: ``dBZ =
  p / 2 + 15``, the official code's; ``'hko'``: ``x = (dBZ + 10) / 70``).
  The paper's task: 5 -> 10 frames at 64 x 64 (INTER_AREA).
* :class:`MeteoNetDataset`: the recommended open substitute
  (``dataset_protocols.md#meteonet``),
  Météo-France MeteoNet reflectivity read from its own files: one ``.npz``
  per ~10-day period with arrays ``data`` (maps), ``dates`` (one datetime
  per map) and ``miss_dates``; windows of 15 frames with a step of 2 scans
  (10 min), normalised by ``x = clip((dBZ + 10) / 70, 0, 1)`` (HKO
  convention); missing pixels become no echo. Numbers on it are a
  substitute, never comparable to the paper's Table 4.

Both record ``dbz_encoding`` in the metainfo (and in every sample), so
CSI-type metrics convert thresholds with
:func:`mmvp.datasets.dbz_encoding.dbz_to_pixel`.
"""

from typing import Optional, Sequence

from mmvp.registry import DATASETS
from .clip_index import clip_span
from .dbz_encoding import check_encoding
from .protocol_dataset import ProtocolClipDataset
from .protocols.meteonet import (METEONET_PRODUCTS, MeteoNetProtocol,
                                 load_meteonet_dates)
from .video_folder import VideoFolderDataset

__all__ = [
    'RadarDataset', 'MeteoNetDataset', 'load_meteonet_dates',
    'METEONET_PRODUCTS'
]


@DATASETS.register_module()
class RadarDataset(VideoFolderDataset):
    """dBZ-encoded radar frame sequences (PNG folders or uint8 arrays).

    Every entry of ``data_root`` (or of ``ann_file``) is one sequence; see
    :class:`VideoFolderDataset` for the layout, list file and bad-input
    handling. Frames are grey uint8 pixels ``p`` whose dBZ is given by the
    encoding (``dataset_protocols.md#dbz-encodings``); load them with
    ``FrameFolderDecode`` / ``ArrayDecode`` (or ``LoadVideoFrames``) with
    ``color_type='grayscale'``.

    Args:
        dbz_encoding (str): ``'motionrnn'`` (default) or ``'hko'``.
        in_frames (int): Defaults to 5.
        out_frames (int): Defaults to 10.
        check_gaps (bool): Check the numbering of PNG frames for gaps.
            Defaults to False: radar frames are often named by time stamps
            (``201801011148.png`` -> ``201801011200.png``), whose numbers
            jump at every hour; enable it for sequentially numbered frames.
        **kwargs: :class:`VideoFolderDataset` arguments.
    """

    def __init__(self,
                 data_root: str = 'data/radar',
                 dbz_encoding: str = 'motionrnn',
                 in_frames: int = 5,
                 out_frames: int = 10,
                 check_gaps: bool = False,
                 protocol: str = 'radar',
                 **kwargs):
        self.dbz_encoding = check_encoding(dbz_encoding)
        super().__init__(
            data_root=data_root,
            in_frames=in_frames,
            out_frames=out_frames,
            check_gaps=check_gaps,
            protocol=protocol,
            **kwargs)

    def _protocol_metainfo(self) -> dict:
        meta = super()._protocol_metainfo()
        meta.update(dbz_encoding=self.dbz_encoding, channels=1)
        return meta

    def extra_keys(self) -> dict:
        return dict(dbz_encoding=self.dbz_encoding)


@DATASETS.register_module()
class MeteoNetDataset(ProtocolClipDataset):
    """MeteoNet radar reflectivity windows (substitute data).

    Files: every ``.npz`` period matching ``file_patterns`` under
    ``data_root`` (or a folder with ``data.npy`` and ``dates.npy``, i.e. an
    unzipped archive, which reads faster). A window is ``clip_len`` maps
    ``frame_step`` scans apart (default 15 maps 10 min apart, spanning
    140 min) whose span has no missing scan; consecutive windows start
    ``clip_stride`` scans apart. The clip index reads only the array
    headers and the dates.

    Samples carry the raw values under ``radar_values`` plus
    ``value_scale`` / ``missing_values`` / ``no_echo_values`` /
    ``dbz_encoding``; the pipeline's :class:`EncodeRadarFrames` turns them
    into uint8 frames ``round(255 * clip((dBZ + 10) / 70, 0, 1))``
    (missing and no-echo pixels -> 0), then ``ResizeFrames(scale=64,
    interpolation='area')``.

    Args:
        data_root (str): MeteoNet reflectivity folder.
        file_patterns (Sequence[str]): Glob patterns relative to
            ``data_root`` selecting the periods of this split, e.g.
            ``['**/reflectivity_old_NW_2016_*.npz']``.
        split (str): Name recorded in the metainfo.
        product (str): ``'old'``, ``'new'`` or ``'auto'`` (by dtype:
            uint8 -> old).
        in_frames (int): Defaults to 5.
        out_frames (int): Defaults to 10.
        frame_step (int): Scans between frames. Defaults to 2 (10 min).
        clip_stride (int, optional): Scans between window starts.
            Defaults to the window span (non-overlapping).
        scan_minutes (int): Minutes between scans. Defaults to 5.
        dbz_encoding (str): Encoding of the output frames. Defaults to
            ``'hko'`` (the normalisation above).
        allow_pickle (bool): Read ``dates`` with full unpickling (only for
            trusted files whose dates the safe reader refuses).
        skip_invalid (bool): Skip unreadable periods (counted, logged
            once). Defaults to False.
        **kwargs: ``pipeline``, ``test_mode``, ``indices``, ``metainfo``,
            ``serialize_data``, ``lazy_init``, ``max_refetch``.
    """

    PROTOCOL_ARGS = ('file_patterns', 'product', 'frame_step', 'clip_stride',
                     'scan_minutes', 'dbz_encoding', 'allow_pickle')
    PROTOCOL_ATTRIBUTES = ('file_patterns', 'product', 'frame_step',
                           'clip_stride', 'scan_seconds', 'dbz_encoding',
                           'allow_pickle')

    def __init__(self,
                 data_root: str = 'data/meteonet',
                 file_patterns: Sequence[str] = ('**/*.npz', ),
                 split: str = 'train',
                 product: str = 'auto',
                 in_frames: int = 5,
                 out_frames: int = 10,
                 frame_step: int = 2,
                 clip_stride: Optional[int] = None,
                 scan_minutes: int = 5,
                 dbz_encoding: str = 'hko',
                 allow_pickle: bool = False,
                 skip_invalid: bool = False,
                 **kwargs):
        self._init_with_protocol(MeteoNetProtocol, locals())

    @property
    def span(self) -> int:
        """Scans covered by one window."""
        return clip_span(self.num_frames, self.frame_step)
