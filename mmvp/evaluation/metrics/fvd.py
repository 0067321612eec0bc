# Copyright (c) mmvp contributors. All rights reserved.
import os
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch

from mmvp.registry import METRICS
from ..functional import (I3D_FILENAME, fvd_clips, fvd_from_features,
                          load_i3d_detector)
from .base_video_metric import BaseVideoMetric


@METRICS.register_module()
class FVDMetric(BaseVideoMetric):
    """Frechet video distance over the test set
    (metric_conventions.md#fvd-optional).

    Per sequence, two clips go through the I3D detector:

    - *real*: the ground-truth clip including its context, i.e. the first
      ``in_frames + out_frames`` frames of ``data_batch['inputs'][i]``;
    - *fake*: the same context frames followed by the predictions
      (``uint8(clip(pred) * 255)``, truncated like the official code).

    Clips are made RGB (grey repeated), stretched in time to at least
    ``min_frames`` by repeating every frame (8 frames -> each twice -> 16;
    I3D needs >= 9), and fed as float ``[B, 3, T, H, W]`` in [0, 255] to
    ``detector(videos, rescale=True, resize=True, return_features=True)``
    (the detector resizes to 224x224 and rescales to [-1, 1] itself). The
    distance between the Gaussians fitted to all real and all fake
    features is computed in float64. With ``include_context=False`` the
    clips are the ``T_out`` true and predicted frames only.

    FVD is one value per test set (no per-frame keys); it depends strongly
    on the number of clips and on the context protocol, so report it with
    ``fvd_num_clips``. The paper's FVD protocol is unknown: its values are
    not comparable.

    The detector is StyleGAN-V's TorchScript port of the Kinetics-400 I3D,
    ``i3d_torchscript.pt``; mmvp never downloads it. The file is loaded with
    ``torch.jit.load``: use only a file from a source you trust, and record
    its checksum (``sha256sum i3d_torchscript.pt``) with your results.

    Output keys (with ``prefix/``): ``fvd``, ``fvd_num_clips``.

    Args:
        detector_path (str): Local path of ``i3d_torchscript.pt``
            (required; checked when the metric is built).
        min_frames (int): Minimum clip length fed to I3D. Defaults to 16.
        include_context (bool): Prepend the true context frames to both
            clips (mmvp protocol). Defaults to True.
        detector_kwargs (dict, optional): Call arguments of the detector.
            Defaults to ``dict(rescale=True, resize=True,
            return_features=True)``.
        **kwargs: ``collect_device``, ``prefix``, ``collect_dir``; see
            :class:`BaseVideoMetric`.
    """

    def __init__(self,
                 detector_path: Optional[str] = None,
                 min_frames: int = 16,
                 include_context: bool = True,
                 detector_kwargs: Optional[dict] = None,
                 **kwargs) -> None:
        for key in ('baselines', 'per_frame_keys', 'keep_per_sample'):
            if key in kwargs:
                raise TypeError(f'FVDMetric: `{key}` does not apply to FVD '
                                '(one value per test set)')
        super().__init__(per_frame_keys=False, **kwargs)
        cls = self.__class__.__name__
        if not detector_path:
            raise ValueError(
                f'{cls}: detector_path is required: the local path of the '
                f'TorchScript I3D weights "{I3D_FILENAME}" (mmvp does not '
                'download them); e.g. dict(type=\'FVDMetric\', '
                f'detector_path=\'checkpoints/{I3D_FILENAME}\')')
        path = osp.expanduser(os.fspath(detector_path))
        if not osp.isfile(path):
            # the same message as at load time, raised before a long test
            load_i3d_detector(path)
        if int(min_frames) < 1:
            raise ValueError(f'{cls}: min_frames must be >= 1, got '
                             f'{min_frames}')
        self.detector_path = path
        self.min_frames = int(min_frames)
        self.include_context = include_context
        self.detector_kwargs = dict(
            rescale=True, resize=True, return_features=True)
        self.detector_kwargs.update(detector_kwargs or {})
        self._detector = None
        self._detector_device = None

    def detector(self, device: torch.device):
        """The I3D detector on ``device`` (loaded on first use)."""
        if self._detector is None:
            self._detector = load_i3d_detector(self.detector_path)
        if self._detector_device != device:
            self._detector = self._detector.to(device)
            self._detector_device = device
        return self._detector

    def process_sample(self, pred: torch.Tensor, gt: torch.Tensor,
                       sample: dict, data_batch: Any,
                       index: int) -> Dict[str, Any]:
        """The real and fake clips ``[T, C, H, W]`` (uint8) of one
        sequence."""
        cls = self.__class__.__name__
        fake_out = torch.floor(pred.float().clamp(0, 1) * 255).to(torch.uint8)
        if not self.include_context:
            real = torch.floor(gt.float().clamp(0, 1) * 255).to(torch.uint8)
            return dict(real=real, fake=fake_out)
        frames = self.input_frames(
            data_batch, index, 'include_context=True; set '
            'include_context=False to compare the output frames only')
        num_out = pred.shape[0]
        in_frames = sample.get('in_frames', None)
        in_frames = (frames.shape[0] -
                     num_out) if in_frames is None else int(in_frames)
        if in_frames < 0 or frames.shape[0] < in_frames + num_out:
            raise ValueError(
                f"{cls}: data_batch['inputs'][{index}] has "
                f'{frames.shape[0]} frames; the real clip needs in_frames + '
                f'out_frames = {in_frames} + {num_out}')
        if tuple(frames.shape[1:]) != tuple(pred.shape[1:]):
            raise ValueError(
                f"{cls}: data_batch['inputs'][{index}] frames are "
                f'{tuple(frames.shape[1:])} but predictions are '
                f'{tuple(pred.shape[1:])}')
        frames = frames.to(pred.device)
        real = frames[:in_frames + num_out]
        fake = torch.cat([frames[:in_frames], fake_out.to(frames.device)])
        return dict(real=real, fake=fake)

    def _features(self, clips: torch.Tensor) -> np.ndarray:
        detector = self.detector(clips.device)
        videos = fvd_clips(clips, self.min_frames)
        feats = detector(videos, **self.detector_kwargs)
        if not isinstance(feats, torch.Tensor) or feats.dim() != 2 or \
                feats.shape[0] != clips.shape[0]:
            shape = tuple(feats.shape) if isinstance(
                feats, torch.Tensor) else type(feats).__name__
            raise ValueError(
                f'{self.__class__.__name__}: the detector must return '
                f'features [B, D] for B = {clips.shape[0]} clips, got '
                f'{shape}')
        return feats.detach().to('cpu', torch.float64).numpy()

    def process(self, data_batch: Any, data_samples: Sequence) -> None:
        """Detector features of the real and fake clip of each sequence."""
        reals, fakes = [], []
        for _, clips in self.sample_stats(data_batch, data_samples):
            reals.append(clips['real'])
            fakes.append(clips['fake'])
        if not reals:
            return
        if len({tuple(r.shape) for r in reals}) != 1:
            raise ValueError(f'{self.__class__.__name__}: clips of one batch '
                             'differ in shape')
        with torch.no_grad():
            both = self._features(torch.stack(reals + fakes))
        num = len(reals)
        for i in range(num):
            self.results.append(dict(real=both[i], fake=both[num + i]))

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """FVD of all collected real vs fake features."""
        if len(results) < 2:
            raise ValueError(f'{self.__class__.__name__}: FVD needs at least '
                             f'2 clips for a covariance, got {len(results)}')
        real = np.stack([r['real'] for r in results])
        fake = np.stack([r['fake'] for r in results])
        metrics = OrderedDict()
        metrics['fvd'] = fvd_from_features(real, fake)
        metrics['fvd_num_clips'] = len(results)
        return dict(metrics)
