# Copyright (c) mmvp contributors. All rights reserved.
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.visualization import Visualizer

from mmvp.registry import HOOKS

VIDEO_FORMATS = ('gif', 'mp4', 'avi')


@HOOKS.register_module()
class VideoPredVisualizationHook(Hook):
    """Draw prediction strips and videos during validation and testing.

    Every ``interval``-th batch, the first ``max_samples`` samples are drawn
    by the runner's visualizer: a labelled strip (input | ground truth |
    prediction | error, with time indices and the error colour bar) and a
    side-by-side video (input | truth | prediction). In testing with
    ``out_dir`` set (``tools/test.py --show-dir DIR``), they are written to
    ``<work_dir>/<timestamp>/DIR/sample_<sample_idx>.png`` and
    ``.../sample_<sample_idx>.<video_format>``; otherwise the strips go to
    the visualizer's backends (e.g. TensorBoard images) and, with
    ``backend_video=True``, the videos to its TensorBoard backends (which
    needs ``moviepy``; without it only the strips are sent).

    Args:
        enable (bool): Draw at all. Off by default; ``--show-dir`` turns it
            on.
        interval (int): Draw every ``interval`` batches.
        max_samples (int): Samples drawn per drawn batch.
        out_dir (str, optional): Sub-folder of the run's log dir for test
            strips.
        video_format (str, optional): ``'gif'`` (default), ``'mp4'`` or
            ``'avi'``: the video written next to each strip in ``out_dir``;
            None writes strips only.
        backend_video (bool): Also send the videos to the TensorBoard
            backends. Defaults to False.
    """

    priority = 'NORMAL'

    def __init__(self,
                 enable: bool = False,
                 interval: int = 1,
                 max_samples: int = 1,
                 out_dir: Optional[str] = None,
                 video_format: Optional[str] = 'gif',
                 backend_video: bool = False):
        if interval < 1 or max_samples < 1:
            raise ValueError('interval and max_samples must be >= 1')
        if video_format is not None and video_format not in VIDEO_FORMATS:
            raise ValueError('VideoPredVisualizationHook: video_format must '
                             f'be one of {VIDEO_FORMATS} or None, got '
                             f'{video_format!r}')
        self.video_format = video_format
        self.backend_video = backend_video
        self.enable = enable
        self.interval = interval
        self.max_samples = max_samples
        self.out_dir = out_dir
        self._visualizer = None

    def _draw(self, runner, batch_idx: int, data_batch: dict,
              outputs: Sequence, step: int, out_dir: Optional[str]):
        if not self.enable or batch_idx % self.interval:
            return
        if self._visualizer is None:
            self._visualizer = Visualizer.get_current_instance()
        if not hasattr(self._visualizer, 'add_datasample'):
            raise TypeError('VideoPredVisualizationHook needs a visualizer '
                            "with add_datasample, e.g. visualizer = dict("
                            "type='VideoPredVisualizer', ...) in the config")
        inputs = data_batch['inputs']
        for i, sample in enumerate(outputs[:self.max_samples]):
            idx = sample.metainfo.get('sample_idx', batch_idx * 1000 + i)
            name = f'sample_{idx}'
            out_file = video_file = None
            if out_dir is not None:
                out_file = osp.join(out_dir, f'{name}.png')
                if self.video_format is not None:
                    video_file = osp.join(out_dir,
                                          f'{name}.{self.video_format}')
            self._visualizer.add_datasample(
                name,
                inputs[i],
                sample,
                step=step,
                out_file=out_file,
                video_file=video_file,
                video=self.backend_video and out_dir is None)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._draw(runner, batch_idx, data_batch, outputs, runner.iter, None)

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None):
        out_dir = None
        if self.out_dir is not None:
            out_dir = osp.join(runner.log_dir, self.out_dir)
        self._draw(runner, batch_idx, data_batch, outputs, 0, out_dir)
