# Copyright (c) mmvp contributors. All rights reserved.
"""Pinned outputs of VideoPredInferencer and tools/predict.py.

Two tiny models with fixed random weights (a grey V-MNIST-like one and an
RGB one with a centre crop and resize in its test pipeline) predict from
small inputs: arrays, frame folders, a video file. The pixels the model
sees and predicts, the window starts and the files written are pinned by
their SHA-256, so a change of the input pipeline shows up here.
"""
import hashlib
import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvp.apis import VideoPredInferencer
from mmvp.registry import MODELS
from mmvp.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_MODEL = """\
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='PredRNN', num_layers=2, hidden_channels=8, kernel_size=3),
    neck=dict(type='MotionRNNNeck', neighbour=3, kernel_size=3),
    img_channels={channels},
    in_frames=3,
    out_frames=3,
    sampling=None)
"""
GREY = _MODEL.format(channels=1) + """\
test_dataloader = dict(dataset=dict(
    type='VMNISTDataset', digit_source='glyphs', split='test',
    num_samples=4, in_frames=3, out_frames=3,
    pipeline=[dict(type='PackVideoPredInputs')]))
"""
RGB = _MODEL.format(channels=3) + """\
test_dataloader = dict(dataset=dict(
    type='VideoFolderDataset', data_root='videos', in_frames=3,
    out_frames=3, pipeline=[
        dict(type='LoadVideoFrames'),
        dict(type='CenterCropFrames', border_ratio=0.25),
        dict(type='ResizeFrames', scale=32, interpolation='linear'),
        dict(type='PackVideoPredInputs')]))
"""


def digest(arr) -> str:
    arr = np.ascontiguousarray(arr)
    return hashlib.sha256(arr.tobytes()).hexdigest()[:16]


def _model_files(root, name, text, seed):
    cfg = root / f'{name}.py'
    cfg.write_text(text)
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    ckpt = root / f'{name}.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, str(ckpt))
    return str(cfg), str(ckpt)


@pytest.fixture(scope='module')
def models(tmp_path_factory):
    register_all_modules()
    root = tmp_path_factory.mktemp('golden')
    return dict(
        root=root,
        grey=_model_files(root, 'grey', GREY, 0),
        rgb=_model_files(root, 'rgb', RGB, 1))


def _inferencer(models, name, **kwargs):
    cfg, ckpt = models[name]
    return VideoPredInferencer(cfg, ckpt, device='cpu', **kwargs)


def _summary(out):
    return [(p['window_start'], digest(p['input_frames']),
             digest(p['pred_frames']), p['pred_frames'].shape,
             p['gt_frames'].shape) for p in out['predictions']]


def _squares(num, h, w, channels, alpha=False):
    """A bright square moving right on a coloured background."""
    frames = np.zeros((num, h, w, channels + int(alpha)), np.uint8)
    frames[..., 0] = 40
    for t in range(num):
        frames[t, h // 4:h // 2, 4 + 5 * t:4 + 5 * t + w // 4, :channels] = \
            (255, 180, 30)[:channels]
    if alpha:
        frames[..., -1] = 128
    return frames


def _write_folder(folder, frames):
    folder.mkdir()
    for t, frame in enumerate(frames):
        bgr = frame[..., ::-1] if frame.shape[-1] == 3 else cv2.cvtColor(
            frame, cv2.COLOR_RGBA2BGRA)
        cv2.imwrite(str(folder / f'img_{t * 4}.png'), bgr)
    return str(folder)


def _write_video(path, frames, fps=5):
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[..., ::-1]))
    writer.release()
    return str(path)


GOLDEN_GREY_ARRAY = [(6, '83459032de981358', '7b7cdbd10515c3a6',
                      (5, 64, 64, 1), (0, 64, 64, 1))]
GOLDEN_GREY_WINDOWS = [
    (0, '30fb0e33989879d9', '8d974e4391eec9b3', (2, 64, 64, 1), (2, 64, 64,
                                                                 1)),
    (2, '810468db8a5ef55c', '22d7ea2a9f7bd064', (2, 64, 64, 1), (2, 64, 64,
                                                                 1)),
    (4, '454d51abcf42b70d', '62f8c955d1e09c7b', (2, 64, 64, 1), (2, 64, 64,
                                                                 1)),
    (6, '67d428730c103cbb', 'b7216859600296df', (2, 64, 64, 1), (0, 64, 64,
                                                                 1)),
]
GOLDEN_RGB_ARRAY = [(0, 'e44e92c27e8ea6ac', '9423243d1c357ab8', (4, 32, 32, 3),
                     (4, 32, 32, 3))]
GOLDEN_RGB_FOLDER = GOLDEN_RGB_ARRAY
GOLDEN_RGBA_FOLDER = GOLDEN_RGB_ARRAY
GOLDEN_VIDEO = [(1, '0c8bb5ff92331702', '32e0968392b7755b', (3, 64, 64, 1),
                 (3, 64, 64, 1))]
GOLDEN_TOOL = [
    ('pred_w00000.gif', (5, 64, 64, 3), 'f1fc2d53dab0689e'),
    ('pred_w00002.gif', (5, 64, 64, 3), '75e453c7405429f3'),
    ('pred_w00004.gif', (5, 64, 64, 3), '6664142271a98aad'),
]


def test_grey_array_input(models):
    inferencer = _inferencer(models, 'grey')
    frames = np.random.default_rng(0).integers(
        0, 256, (9, 80, 96, 3), dtype=np.uint8)
    out = inferencer(frames, num_frames=5)
    assert _summary(out) == GOLDEN_GREY_ARRAY
    squares = _squares(9, 64, 64, 1)
    out = inferencer(squares, num_frames=2, stride=2)
    assert _summary(out) == GOLDEN_GREY_WINDOWS


def test_rgb_array_and_frame_folders(models, tmp_path):
    inferencer = _inferencer(models, 'rgb')
    frames = _squares(7, 100, 120, 3)
    out = inferencer(frames, num_frames=4, start=0)
    assert _summary(out) == GOLDEN_RGB_ARRAY
    folder = _write_folder(tmp_path / 'rgb', frames)
    out = inferencer(folder, num_frames=4, start=0)
    assert _summary(out) == GOLDEN_RGB_FOLDER
    rgba = _write_folder(tmp_path / 'rgba', _squares(7, 100, 120, 3, True))
    out = inferencer(rgba, num_frames=4, start=0)
    assert _summary(out) == GOLDEN_RGBA_FOLDER


def test_video_file_and_strips(models, tmp_path):
    inferencer = _inferencer(models, 'grey')
    video = _write_video(tmp_path / 'clip.mp4', _squares(8, 64, 64, 3))
    out = inferencer(
        video, num_frames=3, start=1, return_vis=True, out_dir=str(tmp_path))
    assert _summary(out) == GOLDEN_VIDEO
    # the strip file is the visualizer's drawing of the pinned frames
    strip = cv2.imread(str(tmp_path / 'input0_w00001.png'))[..., ::-1]
    sample = inferencer(
        video, num_frames=3, start=1,
        return_datasamples=True)['predictions'][0]
    expected = inferencer.visualizer.make_strip(sample.input_frames, sample)
    assert np.array_equal(strip, expected)


def test_predict_tool_files(models, tmp_path):
    spec = importlib.util.spec_from_file_location(
        'mmvp_predict_tool_golden', osp.join(REPO, 'tools', 'predict.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    video = _write_video(tmp_path / 'clip.mp4', _squares(8, 64, 64, 3))
    cfg, ckpt = models['grey']
    out = tmp_path / 'pred.gif'
    paths = tool.main([
        video, cfg, ckpt, '--num-frames', '2', '--stride', '2', '--with-input',
        '--out',
        str(out), '--device', 'cpu'
    ])
    from PIL import Image, ImageSequence
    files = []
    for path in paths:
        with Image.open(path) as img:
            gif = np.stack([
                np.asarray(f.convert('RGB'))
                for f in ImageSequence.Iterator(img)
            ])
        files.append((osp.basename(path), gif.shape, digest(gif)))
    assert files == GOLDEN_TOOL
