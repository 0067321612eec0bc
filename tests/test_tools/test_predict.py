# Copyright (c) mmvp contributors. All rights reserved.
"""tools/predict.py on a briefly trained demo model and an OpenCV video."""
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
from tools_helpers import (REPO, assert_ok, run_tool, unique_name,
                           write_tiny_config)

from mmvp.datasets.video_io import count_video_frames, read_video_frames


def read_video(path):
    """Every frame of a written video, uint8 ``[T, H, W, 3]`` RGB."""
    return read_video_frames(path, range(count_video_frames(path)))


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'mmvp_predict_tool', osp.join(REPO, 'tools', 'predict.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('predict')
    cfg = write_tiny_config(root)
    work = root / 'work'
    proc = run_tool([
        'train.py', cfg, '--work-dir', work, '--cfg-options',
        'train_cfg.max_iters=4', f'experiment_name={unique_name("pred")}'
    ], root)
    assert_ok(proc)
    ckpt = work / 'iter_4.pth'
    assert ckpt.exists()
    # an RGB 80x96 video: a square moving right, 8 frames
    video = root / 'input.mp4'
    writer = cv2.VideoWriter(
        str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (96, 80))
    for t in range(8):
        frame = np.zeros((80, 96, 3), np.uint8)
        frame[24:48, 6 + 8 * t:30 + 8 * t] = (0, 200, 255)
        writer.write(frame)
    writer.release()
    return root, cfg, ckpt, video


def test_mp4_beyond_the_trained_horizon(trained):
    root, cfg, ckpt, video = trained
    out = root / 'out' / 'pred.mp4'
    proc = run_tool([
        'predict.py', video, cfg, ckpt, '--num-frames', 7, '--out', out,
        '--device', 'cpu'
    ], root)
    assert_ok(proc)
    frames = read_video(str(out))
    # 7 frames (the model was trained for 3) at the model's 64x64
    assert frames.shape == (7, 64, 64, 3)
    assert 'window at frame 5: 7 predicted frames' in proc.stdout
    assert [p.name for p in out.parent.iterdir()] == ['pred.mp4']


def test_gif_with_inputs_and_sliding_windows(trained):
    root, cfg, ckpt, video = trained
    gif = root / 'pred.gif'
    proc = run_tool([
        'predict.py', video, cfg, ckpt, '--num-frames', 4, '--out', gif,
        '--with-input', '--start', 0, '--scale', 2
    ], root)
    assert_ok(proc)
    frames = read_video(str(gif))
    assert frames.shape == (3 + 4, 128, 128, 3)
    # the first frame is the observed (grey-converted) input: the square
    # is where the video has it (rows 24..47 of 80 -> about 19..38 of 64)
    first = frames[0, ..., 0].astype(int)
    assert first[2 * 30, 2 * 12] > 60 and first[2 * 5, 2 * 5] < 20

    out = root / 'win.mp4'
    paths = _load_tool().main([
        str(video), cfg,
        str(ckpt), '--num-frames', '2', '--stride', '2', '--out',
        str(out), '--device', 'cpu'
    ])
    assert [osp.basename(p)
            for p in paths] == [f'win_w{s:05d}.mp4' for s in (0, 2, 4)]
    written = sorted(p.name for p in root.glob('win*.mp4'))
    assert written == [f'win_w{s:05d}.mp4' for s in (0, 2, 4)]
    for name in written:
        assert read_video(str(root / name)).shape[0] == 2


def test_bad_arguments(trained, capsys):
    root, cfg, ckpt, video = trained
    tool = _load_tool()
    with pytest.raises(SystemExit):
        tool.parse_args([str(video), cfg, str(ckpt), '--out', 'x.png'])
    assert 'x.png: the file must end with .mp4, .gif, .avi' in \
        capsys.readouterr().err
    with pytest.raises(SystemExit):
        tool.parse_args(
            [str(video), cfg,
             str(ckpt), '--out', 'x.gif', '--scale', '0'])
    short = root / 'short.mp4'
    writer = cv2.VideoWriter(
        str(short), cv2.VideoWriter_fourcc(*'mp4v'), 5, (64, 64))
    for _ in range(2):
        writer.write(np.zeros((64, 64, 3), np.uint8))
    writer.release()
    with pytest.raises(
            ValueError, match='has 2 frames; the model observes in_frames=3'):
        tool.main([str(short), cfg, str(ckpt), '--out', str(root / 'y.mp4')])
    assert not (root / 'y.mp4').exists()


def test_frame_interval_and_model_names(trained, capsys):
    root, cfg, ckpt, video = trained
    tool = _load_tool()
    out = root / 'every2.mp4'
    paths = tool.main([
        str(video), cfg,
        str(ckpt), '--frame-interval', '2', '--num-frames', '2', '--out',
        str(out), '--device', 'cpu'
    ])
    printed = capsys.readouterr().out
    # 8 frames, windows of 3 frames 2 apart: the last starts at frame 3
    assert 'frame interval: 2' in printed
    assert 'window at frame 3: 2 predicted frames' in printed
    assert read_video(paths[0]).shape == (2, 64, 64, 3)
    with pytest.raises(SystemExit):
        tool.parse_args([
            str(video), cfg,
            str(ckpt), '--out', 'x.mp4', '--frame-interval', '0'
        ])
    # a model name of the model index: its listed weights, or a checkpoint
    with pytest.raises(ValueError, match='lists no weights'):
        tool.main([
            str(video), 'motionrnn_predrnn_vmnist', '--out',
            str(root / 'z.mp4'), '--device', 'cpu'
        ])
    with pytest.raises(ValueError, match='give a checkpoint file'):
        tool.main([str(video), cfg, '--out', str(root / 'z.mp4')])
    assert not (root / 'z.mp4').exists()
