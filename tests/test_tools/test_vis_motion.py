# Copyright (c) mmvp contributors. All rights reserved.
"""tools/visualizations/vis_motion.py and vis_predictions.py on a briefly
trained demo model."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
from tools_helpers import (REPO, assert_ok, run_tool, save_model_checkpoint,
                           unique_name, write_tiny_config)


def _load_tool(name='vis_motion'):
    path = osp.join(REPO, 'tools', 'visualizations', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'mmvp_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('vis_motion')
    cfg = write_tiny_config(root)
    work = root / 'work'
    proc = run_tool([
        'train.py', cfg, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=4', f'experiment_name={unique_name("vism")}'
    ], root)
    assert_ok(proc)
    return root, cfg, work / 'iter_4.pth'


def test_test_clip_quivers_and_raw_fields(trained):
    root, cfg, ckpt = trained
    out = root / 'clip'
    proc = run_tool([
        'visualizations/vis_motion.py', cfg, ckpt, '--clip-index', 1,
        '--out-dir', out, '--transient', '--num-frames', 4
    ], root)
    assert_ok(proc)
    # the tiny config has 2 layers -> one MotionGRU block
    assert sorted(p.name for p in out.iterdir()) == [
        'layer0_motion.png', 'motion_fields.npz'
    ]
    image = cv2.imread(str(out / 'layer0_motion.png'))
    assert image is not None and image.shape[1] > image.shape[0]
    fields = np.load(out / 'motion_fields.npz')
    # 3 observed + 4 predicted frames -> 6 steps; 64 / (2 * patch 4) = 8
    assert fields['layer0_filter'].shape == (6, 18, 8, 8)
    assert fields['layer0_trend'].shape == (6, 18, 8, 8)
    assert fields['frames'].shape == (7, 64, 64, 1)
    f, d = fields['layer0_filter'], fields['layer0_trend']
    # the trend is the momentum of the filter (Eq. 3, alpha = 0.5)
    assert np.allclose(d[1:], d[:-1] + 0.5 * (f[:-1] - d[:-1]), atol=1e-5)
    assert 'layer 0 (neck.blocks.0): 6 steps' in proc.stdout


def test_video_input_in_process(trained):
    root, cfg, ckpt = trained
    video = root / 'in.mp4'
    writer = cv2.VideoWriter(
        str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (64, 64))
    for t in range(5):
        frame = np.zeros((64, 64, 3), np.uint8)
        frame[20:40, 5 + 5 * t:25 + 5 * t] = 255
        writer.write(frame)
    writer.release()
    out = root / 'video'
    written = _load_tool().main([
        str(cfg),
        str(ckpt), '--video',
        str(video), '--start', '1', '--out-dir',
        str(out), '--reduce', 'center', '--arrow-scale', 'auto-step',
        '--as-motion'
    ])
    assert [osp.basename(p)
            for p in written] == ['layer0_motion.png', 'motion_fields.npz']
    assert (out / 'layer0_motion.png').stat().st_size > 0
    fields = np.load(out / 'motion_fields.npz')
    assert fields['layer0_filter'].shape == (5, 18, 8, 8)  # 3 + 3 - 1


def test_model_without_motion_gru(trained, tmp_path):
    root, _, _ = trained
    cfg = tmp_path / 'no_neck.py'
    cfg.write_text(f"_base_ = [{str(root / 'tiny_demo.py')!r}]\n"
                   'model = dict(neck=None)\n')
    ckpt = save_model_checkpoint(cfg, tmp_path / 'no_neck.pth')
    tool = _load_tool()
    with pytest.raises(ValueError, match='has no MotionGRU block'):
        tool.main([str(cfg), str(ckpt), '--out-dir', str(tmp_path / 'x')])
    with pytest.raises(SystemExit):
        tool.parse_args(
            ['c.py', 'k.pth', '--out-dir', 'x', '--arrow-scale', 'big'])
    with pytest.raises(SystemExit):
        tool.parse_args([
            'c.py', 'k.pth', '--out-dir', 'x', '--video', 'v', '--clip-index',
            '1'
        ])


def _gif_frames(path):
    from PIL import Image, ImageSequence
    with Image.open(path) as image:
        return [
            np.asarray(f.convert('RGB')) for f in ImageSequence.Iterator(image)
        ]


def test_prediction_video_and_strips(trained, tmp_path):
    root, cfg, ckpt = trained
    tool = _load_tool('vis_predictions')
    one = tool.main([
        str(cfg),
        str(ckpt), '--clip-index', '1', '--out',
        str(tmp_path / 'one.gif')
    ])
    assert one == [str(tmp_path / 'one.gif')]
    written = tool.main([
        str(cfg),
        str(ckpt), '--clip-index', '0', '1', '--out',
        str(tmp_path / 'two.gif'), '--strip',
        str(tmp_path / 'two.png'), '--fps', '2'
    ])
    assert written == [str(tmp_path / 'two.gif'), str(tmp_path / 'two.png')]
    single, double = _gif_frames(tmp_path / 'one.gif'), _gif_frames(tmp_path /
                                                                    'two.gif')
    # the tiny config: 3 observed + 3 predicted frames, one video frame each
    assert len(single) == len(double) == 6
    # two clips one under the other; clip 1 is the lower one
    assert double[0].shape[0] == 2 * single[0].shape[0]
    assert double[0].shape[1] == single[0].shape[1]
    lower = [f[single[0].shape[0]:] for f in double]
    assert all(
        np.abs(a.astype(int) - b.astype(int)).mean() < 3
        for a, b in zip(lower, single))
    strip = cv2.imread(str(tmp_path / 'two.png'))
    assert strip is not None and strip.shape[0] > strip.shape[1] / 3
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'one.gif', 'two.gif', 'two.png'
    ]
    with pytest.raises(ValueError, match='out of range'):
        tool.main([
            str(cfg),
            str(ckpt), '--clip-index', '999', '--out',
            str(tmp_path / 'x.gif')
        ])
    for bad in (['--out', 'x.webm'], ['--out', 'x.gif', '--strip', 'x.jpg'],
                ['--out', 'x.gif', '--fps',
                 '0'], ['--out', 'x.gif', '--clip-index', '-1']):
        with pytest.raises(SystemExit):
            tool.parse_args(['c.py', 'k.pth', *bad])
