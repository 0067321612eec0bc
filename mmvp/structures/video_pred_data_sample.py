# Copyright (c) mmvp contributors. All rights reserved.
"""The data element that travels with one video sequence.

Metainfo (set by ``PackVideoPredInputs``): ``in_frames`` and ``out_frames``
(lengths), ``sample_idx`` and whatever the dataset records (source, start
frame, split, ``pixel_to_dbz`` ...). ``num_future``, when set, is the
number of frames the predictor rolls out for this sample (the inferencer's
``num_frames``; default ``test_cfg.num_future`` or ``out_frames``).

Data fields (set by the predictor in ``predict`` mode), float tensors of
shape ``[T_out, C, H, W]`` on the [0, 1] scale:

- ``pred_frames``: the model's predictions, *not* clipped (metrics clip as
  their convention says; see docs "metric conventions");
- ``gt_frames``: the ground-truth future frames.
"""
from mmengine.structures import BaseDataElement


class VideoPredDataSample(BaseDataElement):
    """Data sample of one video-prediction sequence."""

    @property
    def pred_frames(self):
        return self._pred_frames

    @pred_frames.setter
    def pred_frames(self, value):
        self.set_field(value, '_pred_frames', dtype=type(value))

    @pred_frames.deleter
    def pred_frames(self):
        del self._pred_frames

    @property
    def gt_frames(self):
        return self._gt_frames

    @gt_frames.setter
    def gt_frames(self, value):
        self.set_field(value, '_gt_frames', dtype=type(value))

    @gt_frames.deleter
    def gt_frames(self):
        del self._gt_frames
