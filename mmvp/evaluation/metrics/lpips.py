# Copyright (c) mmvp contributors. All rights reserved.
import importlib
from typing import Dict

import torch

from mmvp.registry import METRICS
from .base_video_metric import BaseVideoMetric
from .per_sample import PerSampleResultsMixin

LPIPS_NETS = ('alex', 'vgg', 'squeeze')


def import_lpips():
    """Import the optional ``lpips`` package, with install advice."""
    try:
        return importlib.import_module('lpips')
    except ImportError as err:
        raise ImportError(
            'LPIPSMetric needs the optional package "lpips", which is not '
            'installed: pip install lpips (or pip install -r '
            'requirements/optional.txt). It uses torchvision, and its '
            'backbone weights (e.g. AlexNet) are fetched by torchvision at '
            'first use: on an offline machine place the file in the torch '
            'hub cache ($TORCH_HOME/hub/checkpoints) first.') from err


@METRICS.register_module()
class LPIPSMetric(PerSampleResultsMixin, BaseVideoMetric):
    """LPIPS per output frame (optional extra).

    Not used by the MotionRNN paper (PredRNN-v2 and OpenSTL report it).
    Frames are clipped to [0, 1], mapped to **[-1, 1]** (``2x - 1``, the
    input range LPIPS expects) and grey frames repeated to RGB; the value
    of frame ``t`` is ``lpips.LPIPS(net=net)(pred_t, gt_t)``, averaged over
    sequences; the table value is the mean over frames. (PredRNN's code fed
    [0, 1] values without ``normalize=True``; its numbers are not standard
    LPIPS.)

    Needs the ``lpips`` package (``requirements/optional.txt``); building
    the metric without it raises an ImportError that says how to install
    it.

    Output keys (with ``prefix/``): ``lpips``, ``lpips_t1 .. _t{T}``.

    Args:
        net (str): LPIPS backbone, ``'alex'`` (default), ``'vgg'`` or
            ``'squeeze'``.
        **kwargs: ``baselines``, ``keep_per_sample``, ``per_frame_keys``,
            ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    def __init__(self, net: str = 'alex', **kwargs) -> None:
        if net not in LPIPS_NETS:
            raise ValueError(f'LPIPSMetric: net must be one of {LPIPS_NETS}, '
                             f'got {net!r}')
        self._lpips_module = import_lpips()
        super().__init__(**kwargs)
        self.net = net
        self._model = None
        self._model_device = None

    def lpips_model(self, device: torch.device):
        """The LPIPS network on ``device`` (built on first use)."""
        if self._model is None:
            self._model = self._lpips_module.LPIPS(
                net=self.net, verbose=False).eval()
        if self._model_device != device:
            self._model = self._model.to(device)
            self._model_device = device
        return self._model

    @staticmethod
    def to_lpips_input(frames: torch.Tensor) -> torch.Tensor:
        """``[T, C, H, W]`` on [0, 1] -> RGB on [-1, 1] (float32)."""
        x = frames.float().clamp(0, 1) * 2 - 1
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] != 3:
            raise ValueError('LPIPSMetric needs grey (C=1) or RGB (C=3) '
                             f'frames, got C={x.shape[1]}')
        return x.contiguous()

    def compare(self, pred: torch.Tensor,
                gt: torch.Tensor) -> Dict[str, Dict[str, torch.Tensor]]:
        model = self.lpips_model(pred.device)
        dist = model(self.to_lpips_input(pred), self.to_lpips_input(gt))
        return dict(frames=dict(lpips=dist.reshape(pred.shape[0])))
