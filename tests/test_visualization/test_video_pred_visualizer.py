# Copyright (c) mmvp contributors. All rights reserved.
import os.path as osp
import types

import cv2
import numpy as np
import torch

from mmvp.engine.hooks import VideoPredVisualizationHook
from mmvp.structures import VideoPredDataSample
from mmvp.visualization import VideoPredVisualizer


def sample():
    torch.manual_seed(0)
    inputs = torch.randint(0, 256, (5, 1, 6, 8), dtype=torch.uint8)
    s = VideoPredDataSample(metainfo=dict(in_frames=3, sample_idx=7))
    s.gt_frames = inputs[3:].float() / 255
    s.pred_frames = s.gt_frames.clone()
    s.pred_frames[0] = 1.5  # out of range: drawn clipped
    return inputs, s


def test_strip_layout_and_content(tmp_path):
    vis = VideoPredVisualizer(name='strip_test', save_dir=str(tmp_path))
    inputs, s = sample()
    strip = vis.make_strip(inputs, s)
    # 4 rows of 6 px + 3 gaps; 3 frames of 8 px + 2 gaps
    assert strip.shape == (4 * 6 + 3 * 2, 3 * 8 + 2 * 2, 3)
    # row 0, frame 1 is input frame 1 repeated to RGB
    np.testing.assert_array_equal(strip[0:6, 10:18, 0], inputs[1, 0].numpy())
    # prediction row, frame 0 was clipped to 1.0 -> 255
    assert np.all(strip[16:22, 0:8] == 255)
    # error row: zero error at frame 1 (jet colormap of 0 is dark blue)
    err = strip[24:30, 10:18]
    assert np.all(err[..., 2] > err[..., 0])
    # padding where the ground-truth row is shorter than the input row
    assert np.all(strip[8:14, 20:28] == 128)


def test_hook_writes_strips_for_show_dir(tmp_path):
    vis = VideoPredVisualizer(name='hook_test', save_dir=str(tmp_path))
    hook = VideoPredVisualizationHook(enable=True, out_dir='show')
    inputs, s = sample()
    runner = types.SimpleNamespace(log_dir=str(tmp_path), iter=0)
    hook._visualizer = vis
    hook.after_test_iter(runner, 0, dict(inputs=[inputs]), [s])
    out = osp.join(tmp_path, 'show', 'sample_7.png')
    img = cv2.imread(out)
    assert img is not None and img.shape == (30, 28, 3)
    # disabled: nothing drawn
    hook2 = VideoPredVisualizationHook(enable=False, out_dir='show2')
    hook2.after_test_iter(runner, 0, dict(inputs=[inputs]), [s])
    assert not osp.exists(osp.join(tmp_path, 'show2'))
