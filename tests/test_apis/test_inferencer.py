# Copyright (c) mmvp contributors. All rights reserved.
"""VideoPredInferencer: inputs (array, frame folder, video), the model's
preprocessing, windows, horizons beyond training, safe checkpoints."""
import os
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvp.apis import VideoPredInferencer, config_frame_size
from mmvp.datasets.video_io import count_video_frames, read_video_frames
from mmvp.registry import INFERENCERS, MODELS
from mmvp.utils import (CheckpointMismatchError, UnsafeCheckpointError,
                        register_all_modules)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist_demo.py')

TINY = """\
_base_ = [{base!r}]
model = dict(in_frames=3, out_frames=3, backbone=dict(hidden_channels=8))
_clip = dict(in_frames=3, out_frames=3, num_samples=4)
test_dataloader = dict(dataset=_clip)
val_dataloader = dict(dataset=_clip)
train_dataloader = dict(dataset=_clip)
"""


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp('inferencer')
    cfg_path = root / 'tiny.py'
    cfg_path.write_text(TINY.format(base=DEMO))
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg_path)).model)
    ckpt = root / 'tiny.pth'
    torch.save({'meta': {}, 'state_dict': model.state_dict()}, str(ckpt))
    inferencer = VideoPredInferencer(str(cfg_path), str(ckpt), device='cpu')
    return root, str(cfg_path), str(ckpt), inferencer


def _moving_square(num=9, h=64, w=64, channels=3):
    frames = np.zeros((num, h, w, channels), np.uint8)
    for t in range(num):
        frames[t, 20:36, 4 + 4 * t:20 + 4 * t] = 255
    return frames


def test_frame_size_from_config(tiny):
    _, cfg_path, _, inferencer = tiny
    # the demo's dataset class default image_size=64
    assert config_frame_size(Config.fromfile(cfg_path)) == (64, 64)
    assert inferencer.frame_size == (64, 64)
    cfg = Config(dict(test_dataloader=dict(dataset=dict(image_size=32))))
    assert config_frame_size(cfg) == (32, 32)
    cfg = Config(
        dict(
            test_dataloader=dict(
                dataset=dict(pipeline=[dict(type='Resize', scale=(48, 24))]))))
    assert config_frame_size(cfg) == (24, 48)  # scale is (w, h)


def test_array_input_preprocessing_and_long_horizon(tiny):
    _, _, _, inferencer = tiny
    # RGB 80x96 -> grey 64x64 (the model's channels and size)
    frames = np.random.default_rng(0).integers(
        0, 256, (9, 80, 96, 3), dtype=np.uint8)
    out = inferencer(frames, num_frames=7)
    assert len(out['predictions']) == 1
    pred = out['predictions'][0]
    # default window: the last in_frames=3 frames
    assert pred['window_start'] == 6
    assert pred['input_frames'].shape == (3, 64, 64, 1)
    assert pred['pred_frames'].shape == (7, 64, 64, 1)  # > out_frames=3
    assert pred['pred_frames'].dtype == np.uint8
    assert pred['gt_frames'].shape == (0, 64, 64, 1)  # nothing follows
    expected = cv2.resize(
        cv2.cvtColor(frames[6], cv2.COLOR_RGB2GRAY), (64, 64),
        interpolation=cv2.INTER_AREA)
    assert np.array_equal(pred['input_frames'][0, ..., 0], expected)
    # the model's test_cfg is restored after the call
    assert inferencer.model.test_cfg.get('num_future') is None
    default = inferencer(frames)['predictions'][0]['pred_frames']
    assert default.shape[0] == 3
    # the first 3 predicted frames do not depend on the horizon
    assert np.array_equal(default, pred['pred_frames'][:3])


def test_windows_batches_and_data_samples(tiny):
    _, _, _, inferencer = tiny
    frames = _moving_square(num=9, channels=1)
    out = inferencer(frames, num_frames=2, stride=2)
    starts = [p['window_start'] for p in out['predictions']]
    assert starts == [0, 2, 4, 6]
    # true future frames where the video has them
    assert [len(p['gt_frames']) for p in out['predictions']] == [2, 2, 2, 0]
    assert np.array_equal(out['predictions'][1]['gt_frames'], frames[5:7])
    batched = inferencer(frames, num_frames=2, stride=2, batch_size=3)
    for a, b in zip(out['predictions'], batched['predictions']):
        assert np.abs(a['pred_frames'].astype(int) -
                      b['pred_frames'].astype(int)).max() <= 1
    one = inferencer(frames, num_frames=2, start=1)['predictions']
    assert [p['window_start'] for p in one] == [1]
    samples = inferencer([frames, frames[:5]],
                         num_frames=2,
                         return_datasamples=True)['predictions']
    assert [s.metainfo['input_index'] for s in samples] == [0, 1]
    assert samples[0].pred_frames.shape == (2, 1, 64, 64)
    assert samples[0].pred_frames.is_floating_point()
    with pytest.raises(ValueError, match='has 2 frames; the model observes'):
        inferencer(frames[:2])
    with pytest.raises(ValueError, match='start=8 leaves fewer'):
        inferencer(frames, start=8)
    with pytest.raises(ValueError, match='expected dtype uint8'):
        inferencer(frames.astype(np.float32))


def test_visualization_strips(tiny, tmp_path):
    _, _, _, inferencer = tiny
    frames = _moving_square(num=6, channels=1)
    out = inferencer(
        frames,
        num_frames=3,
        start=0,
        return_vis=True,
        out_dir=str(tmp_path / 'vis'))
    strip = out['visualization'][0]
    sample = inferencer(
        frames, num_frames=3, start=0,
        return_datasamples=True)['predictions'][0]
    # the visualizer's strip of the window, with its truth row
    assert sample.gt_frames.shape == (3, 1, 64, 64)
    assert np.array_equal(
        strip, inferencer.visualizer.make_strip(sample.input_frames, sample))
    written = sorted(os.listdir(tmp_path / 'vis'))
    assert written == ['input0_w00000.png']
    assert np.array_equal(
        cv2.imread(str(tmp_path / 'vis' / written[0]))[..., ::-1], strip)


def test_frame_folder_and_video_file(tiny, tmp_path):
    _, _, _, inferencer = tiny
    frames = _moving_square(num=6)
    folder = tmp_path / 'frames'
    folder.mkdir()
    for t, frame in enumerate(frames):  # natural order: 2 before 10
        cv2.imwrite(str(folder / f'img_{t * 4}.png'), frame[..., ::-1])
    from_folder = inferencer(str(folder), num_frames=2)['predictions'][0]
    from_array = inferencer(frames, num_frames=2)['predictions'][0]
    assert np.array_equal(from_folder['pred_frames'],
                          from_array['pred_frames'])
    video = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(
        str(video), cv2.VideoWriter_fourcc(*'mp4v'), 5, (64, 64))
    for frame in frames:
        writer.write(frame[..., ::-1].copy())
    writer.release()
    decoded = read_video_frames(
        str(video), range(count_video_frames(str(video))))
    assert decoded.shape == (6, 64, 64, 3)
    # a lossy codec: close to the source, not equal
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 8
    from_video = inferencer(str(video), num_frames=2)['predictions'][0]
    assert from_video['pred_frames'].shape == (2, 64, 64, 1)
    assert from_video['source'] == str(video)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        inferencer(str(tmp_path / 'missing.mp4'))
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match='holds no image file'):
        inferencer(str(tmp_path / 'empty'))
    bad = tmp_path / 'bad.mp4'
    bad.write_text('not a video')
    with pytest.raises(RuntimeError, match='cannot decode video'):
        inferencer(str(bad))


def test_registry_and_safe_checkpoints(tiny, tmp_path):
    _, cfg_path, ckpt, _ = tiny
    inferencer = INFERENCERS.build(
        dict(
            type='VideoPredInferencer',
            model=cfg_path,
            weights=ckpt,
            device='cpu'))
    assert isinstance(inferencer, VideoPredInferencer)

    class Exploit:

        def __reduce__(self):
            return (os.system, ('echo pwned', ))

    crafted = tmp_path / 'crafted.pth'
    with open(crafted, 'wb') as f:
        pickle.dump({'state_dict': Exploit()}, f)
    with pytest.raises(UnsafeCheckpointError, match='crafted.pth'):
        VideoPredInferencer(cfg_path, str(crafted), device='cpu')
    state = torch.load(ckpt, weights_only=True)['state_dict']
    state.pop(next(iter(state)))
    partial = tmp_path / 'partial.pth'
    torch.save({'state_dict': state}, str(partial))
    with pytest.raises(CheckpointMismatchError, match='missing'):
        VideoPredInferencer(cfg_path, str(partial), device='cpu')
    with pytest.raises(FileNotFoundError, match='checkpoint file not found'):
        VideoPredInferencer(cfg_path, str(tmp_path / 'none.pth'))
    with pytest.raises(FileNotFoundError, match='config file not found'):
        VideoPredInferencer(str(tmp_path / 'none.py'), ckpt)
    with pytest.warns(UserWarning, match='randomly initialised'):
        VideoPredInferencer(cfg_path, None, device='cpu')


def test_test_pipeline_crop_and_resize(tiny, tmp_path):
    _, cfg_path, ckpt, _ = tiny
    cfg = tmp_path / 'crop.py'
    cfg.write_text(
        f'_base_ = [{cfg_path!r}]\n'
        'test_dataloader = dict(dataset=dict(pipeline=[\n'
        "    dict(type='LoadVideoFrames', color_type='grayscale'),\n"
        "    dict(type='CenterCropFrames', border_ratio=0.25),\n"
        "    dict(type='ResizeFrames', scale=64, "
        "interpolation='linear'),\n"
        "    dict(type='PackVideoPredInputs')]))\n")
    inferencer = VideoPredInferencer(str(cfg), ckpt, device='cpu')
    frames = np.random.default_rng(1).integers(
        0, 256, (4, 200, 160, 1), dtype=np.uint8)
    seen = inferencer(frames, num_frames=1)['predictions'][0]['input_frames']
    # the centre half (rows 50..149, cols 40..119), then 64x64 linear
    expected = cv2.resize(
        frames[1, 50:150, 40:120, 0], (64, 64), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(seen[0, ..., 0], expected)
    # an explicit frame_size replaces the pipeline's resize, keeps the crop
    small = VideoPredInferencer(
        str(cfg), ckpt, device='cpu', frame_size=(32, 32))
    seen = small(frames, num_frames=1)['predictions'][0]['input_frames']
    expected = cv2.resize(
        frames[1, 50:150, 40:120, 0], (32, 32), interpolation=cv2.INTER_AREA)
    assert np.array_equal(seen[0, ..., 0], expected)
    with pytest.raises(ValueError, match='multiples of 8'):
        VideoPredInferencer(str(cfg), ckpt, device='cpu', frame_size=36)
