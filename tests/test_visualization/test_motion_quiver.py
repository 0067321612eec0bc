# Copyright (c) mmvp contributors. All rights reserved.
"""MotionGRU filter capture (forward hooks) and quiver drawing."""
import numpy as np
import pytest
import torch

from mmvp.registry import MODELS
from mmvp.utils import register_all_modules
from mmvp.visualization import (MotionRecorder, auto_arrow_scale,
                                plot_motion_fields, reduce_taps, step_scales)


def _model(neck=True, num_layers=3):
    register_all_modules()
    torch.manual_seed(0)
    cfg = dict(
        type='VideoPredictor',
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2),
        backbone=dict(
            type='PredRNN',
            num_layers=num_layers,
            hidden_channels=8,
            kernel_size=3),
        img_channels=1,
        in_frames=3,
        out_frames=2,
        sampling=None)
    if neck:
        cfg['neck'] = dict(type='MotionRNNNeck', kernel_size=3)
    model = MODELS.build(cfg).eval()
    if neck:
        # non-zero ConvGRU weights so that the filters move
        for block in model.neck.blocks:
            for conv in (block.update, block.reset, block.output):
                torch.nn.init.normal_(conv.weight, std=0.3)
    return model


def test_reduce_taps_mean_and_center():
    # 9 taps: dy channels 0..8, dx channels 9..17, on a 1x2 grid
    offsets = np.zeros((18, 1, 2))
    offsets[:9, 0, 0] = np.arange(9)  # dy = 0..8 -> mean 4, centre 4
    offsets[9:, 0, 0] = 1.0
    offsets[4, 0, 1] = 9.0  # only the centre tap of position 1 moves
    dy, dx = reduce_taps(offsets)
    assert dy.tolist() == [[4.0, 1.0]] and dx.tolist() == [[1.0, 0.0]]
    dy, dx = reduce_taps(torch.from_numpy(offsets), 'center')
    assert dy.tolist() == [[4.0, 9.0]] and dx.tolist() == [[1.0, 0.0]]
    batched = reduce_taps(np.stack([offsets, -offsets]))[0]
    assert batched.shape == (2, 1, 2) and batched[1, 0, 0] == -4
    with pytest.raises(ValueError, match='mode'):
        reduce_taps(offsets, 'max')
    with pytest.raises(ValueError, match='2N, h, w'):
        reduce_taps(np.zeros((17, 2, 2)))


def test_recorder_captures_every_block_and_step():
    model = _model()
    clip = torch.randint(0, 256, (3, 1, 16, 16), dtype=torch.uint8)
    data = dict(inputs=[clip, clip.flip(-1)])
    with MotionRecorder(model) as rec:
        with torch.no_grad():
            model.test_step(data)
    fields = rec.fields()
    # num_layers - 1 = 2 blocks; T - 1 = 4 steps; half of the 8x8 hidden
    assert list(fields) == ['neck.blocks.0', 'neck.blocks.1']
    for field in fields.values():
        assert field['filter'].shape == (4, 2, 18, 4, 4)
        assert field['trend'].shape == (4, 2, 18, 4, 4)
        f, d = field['filter'].double(), field['trend'].double()
        assert torch.allclose(field['transient'],
                              field['filter'] - field['trend'])
        # Eq. 3: D_t = D_{t-1} + 0.5 (F_{t-1} - D_{t-1})
        assert torch.allclose(
            d[1:], d[:-1] + 0.5 * (f[:-1] - d[:-1]), atol=1e-6)
        assert f.abs().max() > 0
    # hooks are removed on exit: another pass records nothing new
    with torch.no_grad():
        model.test_step(data)
    assert len(rec.records['neck.blocks.0']['filter']) == 4
    with pytest.raises(ValueError, match='no MotionGRU block'):
        MotionRecorder(_model(neck=False))
    empty = MotionRecorder(model)
    with pytest.raises(RuntimeError, match='no step'):
        empty.fields()


def _red_centroid_x(image):
    r, g, b = (image[..., i].astype(int) for i in range(3))
    red = (r > 180) & (g < 100) & (b < 100)
    assert red.any()
    return np.nonzero(red)[1].mean()


def test_plot_arrows_point_along_dx_and_flip_as_motion(tmp_path):
    frames = np.zeros((1, 32, 32, 1), np.uint8)
    dy = np.zeros((1, 1, 1))
    right = dict(filter=(dy, np.full((1, 1, 1), 0.4)))
    left = dict(filter=(dy, np.full((1, 1, 1), -0.4)))
    out = tmp_path / 'q.png'
    img_right = plot_motion_fields(frames, right, out_file=str(out))
    img_left = plot_motion_fields(frames, left)
    img_motion = plot_motion_fields(frames, right, as_motion=True)
    assert img_right.dtype == np.uint8 and img_right.shape[-1] == 3
    assert _red_centroid_x(img_right) > _red_centroid_x(img_left) + 5
    assert abs(_red_centroid_x(img_motion) - _red_centroid_x(img_left)) < 2
    import cv2
    assert cv2.imread(str(out)).shape == img_right.shape
    assert not [p for p in tmp_path.iterdir() if p.name != 'q.png']
    with pytest.raises(ValueError, match='must be \\[1, h, w\\]'):
        plot_motion_fields(frames, dict(filter=(np.zeros((2, 1, 1)), ) * 2))


def test_arrow_scales():
    small = (np.full((2, 2, 2), 0.01), np.zeros((2, 2, 2)))
    assert auto_arrow_scale([small]) == pytest.approx(80.0)
    assert auto_arrow_scale([(np.zeros((1, 2)), np.zeros((1, 2)))]) == 1.0
    growing = (np.stack([np.full((2, 2), 0.1),
                         np.full((2, 2), 10.0)]), np.zeros((2, 2, 2)))
    per_step = step_scales(dict(filter=growing), 'auto-step', 2)
    assert per_step == pytest.approx([8.0, 0.08])
    assert step_scales(dict(filter=growing), 2.0, 2) == [2.0, 2.0]
    with pytest.raises(ValueError, match='arrow_scale'):
        step_scales(dict(filter=growing), 'big', 2)
    with pytest.raises(ValueError, match='arrow_scale'):
        step_scales(dict(filter=growing), [1.0], 2)
