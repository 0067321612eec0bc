# Copyright (c) mmvp contributors. All rights reserved.
"""MotionGRU filter capture (forward hooks) and quiver drawing."""
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from mmvp.registry import MODELS
from mmvp.utils import register_all_modules
from mmvp.visualization import (MotionRecorder, arrow_layout, auto_arrow_scale,
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


def _duck_block(steps_out):
    """A module that is no model class but returns (X, F', D')."""

    class MotionGRU(torch.nn.Module):  # matched by class name

        def forward(self, x):
            f = torch.full((1, 18, 2, 2), float(len(steps_out)))
            steps_out.append(1)
            return x, f, f / 2

    return MotionGRU()


def test_plot_arrows_point_along_dx_and_flip_as_motion(tmp_path):
    frames = np.zeros((1, 32, 32, 1), np.uint8)
    dy = np.zeros((1, 1, 1))
    right = dict(filter=(dy, np.full((1, 1, 1), 0.4)))
    left = dict(filter=(dy, np.full((1, 1, 1), -0.4)))
    out = tmp_path / 'q.png'
    kw = dict(colour='field', arrow_scale=1.0)
    img_right = plot_motion_fields(frames, right, out_file=str(out), **kw)
    img_left = plot_motion_fields(frames, left, **kw)
    img_motion = plot_motion_fields(frames, right, as_motion=True, **kw)
    assert img_right.dtype == np.uint8 and img_right.shape[-1] == 3
    assert _red_centroid_x(img_right) > _red_centroid_x(img_left) + 5
    assert abs(_red_centroid_x(img_motion) - _red_centroid_x(img_left)) < 2
    import cv2
    assert cv2.imread(str(out)).shape == img_right.shape
    assert not [p for p in tmp_path.iterdir() if p.name != 'q.png']
    with pytest.raises(ValueError, match='2 steps, the frames 1'):
        plot_motion_fields(frames, dict(filter=(np.zeros((2, 1, 1)), ) * 2))
    with pytest.raises(ValueError, match='must be \\[2, h, w\\]'):
        plot_motion_fields(
            frames,
            dict(
                filter=(np.zeros((2, 1, 1)), ) * 2,
                trend=(np.zeros((1, 1, 1)), ) * 2))
    with pytest.raises(ValueError, match='colour'):
        plot_motion_fields(frames, right, colour='red')


def _growing_field(steps=8, grid=8, growth=1.7):
    """A rotating field whose offsets grow x1.7 per step (as the MotionGRU
    filters of a trained model do)."""
    yy, xx = np.meshgrid(np.arange(grid), np.arange(grid), indexing='ij')
    dy = np.stack([0.05 * growth**s * np.sin(xx / 3.0) for s in range(steps)])
    dx = np.stack([0.05 * growth**s * np.cos(yy / 3.0) for s in range(steps)])
    return dy, dx


def test_defaults_draw_readable_arrows_at_every_step():
    dy, dx = _growing_field()
    assert np.hypot(dy, dx)[-1].max() / np.hypot(dy, dx)[0].max() > 40
    layout = arrow_layout(dict(filter=(dy, dx)), (64, 64))
    arrows = layout['filter']
    cell = min(arrows['cell'])
    assert cell == 8.0
    drawn = np.hypot(arrows['u'], arrows['v']).max(1) / cell  # per step
    assert drawn.shape == (8, )
    # every step: the longest arrow is between half a cell and 1.5 cells
    assert np.all(drawn >= 0.5) and np.all(drawn <= 1.5), drawn
    # the true lengths (the colours) keep the growth
    peak = arrows['magnitude'].max(1)
    assert peak[1:] / peak[:-1] == pytest.approx(np.full(7, 1.7))
    # one fixed scale for all steps would make the first steps unreadable
    fixed = arrow_layout(dict(filter=(dy, dx)), (64, 64), arrow_scale='auto')
    fixed_drawn = np.hypot(fixed['filter']['u'],
                           fixed['filter']['v']).max(1) / cell
    assert fixed_drawn[0] < 0.05
    # arrows are capped at max_length cells, direction kept
    capped = arrow_layout(
        dict(filter=(dy, dx)), (64, 64), arrow_scale=100.0, max_length=1.0)
    assert np.hypot(capped['filter']['u'], capped['filter']['v']).max() == \
        pytest.approx(cell)


def test_plot_wraps_rows_and_draws_a_colour_bar(tmp_path):
    dy, dx = _growing_field(steps=8)
    frames = np.zeros((8, 64, 64, 1), np.uint8)
    frames[:, 20:40, 20:40] = 255
    one_row = plot_motion_fields(frames, dict(filter=(dy, dx)), max_cols=8)
    wrapped = plot_motion_fields(frames, dict(filter=(dy, dx)), max_cols=4)
    # 2 rows of 4 panels: taller and narrower than 1 row of 8
    assert wrapped.shape[0] > 1.5 * one_row.shape[0]
    assert wrapped.shape[1] < 0.7 * one_row.shape[1]
    # the magnitude colours (cool: cyan -> magenta) are in the picture,
    # arrows and colour bar
    r, g, b = (wrapped[..., i].astype(int) for i in range(3))
    cyan = (r < 80) & (g > 180) & (b > 180)
    magenta = (r > 180) & (g < 80) & (b > 180)
    assert cyan.sum() > 50 and magenta.sum() > 50
    # the colour bar is a tall thin ramp at the right edge
    right = wrapped[:, -wrapped.shape[1] // 8:]
    rr, gg, bb = (right[..., i].astype(int) for i in range(3))
    assert ((rr > 180) & (gg < 80) & (bb > 180)).sum() > 20
    out = tmp_path / 'wrapped.png'
    plot_motion_fields(
        frames, dict(filter=(dy, dx)), out_file=str(out), max_cols=4)
    assert os.listdir(tmp_path) == ['wrapped.png']


def test_recorder_takes_duck_typed_blocks():
    calls = []
    model = torch.nn.Sequential(_duck_block(calls), torch.nn.Identity())
    with MotionRecorder(model) as rec:
        model(torch.zeros(1))
        model(torch.zeros(1))
    fields = rec.fields()
    assert list(fields) == ['0']
    assert fields['0']['filter'][:, 0, 0, 0, 0].tolist() == [0.0, 1.0]
    assert fields['0']['trend'][:, 0, 0, 0, 0].tolist() == [0.0, 0.5]
    # a predicate or a class selects other modules
    assert [
        n for n, _ in MotionRecorder(
            model, blocks=lambda m: isinstance(m, torch.nn.Identity)).blocks
    ] == ['1']
    assert [
        n for n, _ in MotionRecorder(model, blocks=torch.nn.Identity).blocks
    ] == ['1']
    with pytest.raises(TypeError, match='blocks'):
        MotionRecorder(model, blocks=3)


def test_motion_quiver_does_not_import_the_models():
    code = ('import sys, torch\n'
            'from mmvp.visualization import MotionRecorder\n'
            'm = torch.nn.Sequential(torch.nn.Identity())\n'
            'try:\n'
            '    MotionRecorder(m)\n'
            'except ValueError:\n'
            '    pass\n'
            "print(any(k.startswith('mmvp.models') for k in sys.modules))\n")
    out = subprocess.run([sys.executable, '-c', code],
                         check=True,
                         capture_output=True,
                         text=True)
    assert out.stdout.strip().splitlines()[-1] == 'False'


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
