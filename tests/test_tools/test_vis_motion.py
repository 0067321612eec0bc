# Copyright (c) mmvp contributors. All rights reserved.
"""tools/visualizations/vis_motion.py on a briefly trained demo model."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
from tools_helpers import (REPO, assert_ok, run_tool, save_model_checkpoint,
                           unique_name, write_tiny_config)


def _load_tool():
    path = osp.join(REPO, 'tools', 'visualizations', 'vis_motion.py')
    spec = importlib.util.spec_from_file_location('mmvp_vis_motion', path)
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
