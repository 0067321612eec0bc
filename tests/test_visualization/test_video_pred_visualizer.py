# Copyright (c) mmvp contributors. All rights reserved.
import os
import os.path as osp
import types

import cv2
import numpy as np
import pytest
import torch
# the video reader of the export tests (pytest puts this folder on sys.path)
from test_export_video import read_video

from mmvp.engine.hooks import VideoPredVisualizationHook
from mmvp.structures import VideoPredDataSample
from mmvp.visualization import VideoPredVisualizer, time_labels
from mmvp.visualization.video_pred_visualizer import (BACKGROUND,
                                                      error_colours,
                                                      format_value)


def sample():
    torch.manual_seed(0)
    inputs = torch.randint(0, 256, (5, 1, 6, 8), dtype=torch.uint8)
    s = VideoPredDataSample(metainfo=dict(in_frames=3, sample_idx=7))
    s.gt_frames = inputs[3:].float() / 255
    s.pred_frames = s.gt_frames.clone()
    s.pred_frames[0] = 1.5  # out of range: drawn clipped
    return inputs, s


def moving_square(t_in=10, t_out=10, size=64):
    frames = torch.zeros(t_in + t_out, 1, size, size)
    for t in range(t_in + t_out):
        frames[t, 0, 20:36, 5 + 2 * t:21 + 2 * t] = 1.0
    s = VideoPredDataSample(metainfo=dict(in_frames=t_in, sample_idx=3))
    s.gt_frames = frames[t_in:]
    s.pred_frames = torch.roll(frames[t_in:], 2, -1) * 0.8
    return (frames * 255).to(torch.uint8), s


def test_time_labels():
    assert time_labels(3, 2) == (['t-2', 't-1', 't0'], ['t+1', 't+2'])
    observed, predicted = time_labels(10, 10)
    assert observed[0] == 't-9' and predicted[-1] == 't+10'


def test_unlabelled_strip_layout_and_content():
    vis = VideoPredVisualizer(name='strip_plain', scale=1, labels=False)
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


def _dark(image):
    return (image < 100).all(-1)


def test_labels_time_indices_and_colour_bar_are_drawn():
    inputs, s = moving_square()
    plain_vis = VideoPredVisualizer(name='strip_a', labels=False)
    plain = plain_vis.make_strip(inputs, s)
    vis = VideoPredVisualizer(name='strip_b')
    strip = vis.make_strip(inputs, s)
    layout = vis.strip_layout
    h, w = layout['frame_size']
    assert (h, w) == (64, 64)  # 64 px frames are not upscaled
    assert plain.shape == (4 * h + 3 * 2, 10 * (w + 2) - 2, 3)
    assert plain_vis.strip_layout['label_width'] == 0
    label_w, header_h = layout['label_width'], layout['header_height']
    assert label_w > 40 and header_h > 8
    # the frames themselves are the same with and without labels
    for r, top in enumerate(layout['row_tops']):
        plain_top = r * (h + 2)
        for x, px in zip(layout['columns'], plain_vis.strip_layout['columns']):
            np.testing.assert_array_equal(
                strip[top:top + h, x:x + w], plain[plain_top:plain_top + h,
                                                   px:px + w])
        # the row's label: dark text on white in the label column
        label = strip[top:top + h, :label_w]
        assert _dark(label).sum() > 20, f'row {r} has no label'
        assert (label == BACKGROUND).all(-1).mean() > 0.7
    # the labels differ from row to row (input, ground truth, ...)
    labels = [_dark(strip[t:t + h, :label_w]) for t in layout['row_tops']]
    for a in range(4):
        for b in range(a + 1, 4):
            assert not np.array_equal(labels[a], labels[b])
    # time indices above every column of the input and truth rows; no
    # header band above the prediction and error rows
    for r in (0, 1):
        band = strip[layout['row_tops'][r] - header_h:layout['row_tops'][r]]
        for x in layout['columns']:
            assert _dark(band[:, x:x + w]).sum() > 5
    assert layout['row_tops'][2] == layout['row_tops'][1] + h + 2
    # different text over the first input (t-9) and truth (t+1) columns
    first = [
        _dark(strip[t - header_h:t, label_w:label_w + w])
        for t in layout['row_tops'][:2]
    ]
    assert not np.array_equal(*first)
    # the colour bar: a jet ramp (red on top, blue at the bottom) at the
    # right of the error row ...
    top, left, bar_h, bar_w = layout['bar_box']
    assert top == layout['row_tops'][3] and bar_h == h
    ramp = strip[top:top + bar_h, left:left + bar_w]
    assert ramp[0, 0, 0] > 100 and ramp[0, 0, 2] < 50  # red
    assert ramp[-1, 0, 2] > 100 and ramp[-1, 0, 0] < 50  # blue
    # ... with both end values printed beside it; the top value is the
    # robust maximum (99th percentile) of the errors
    err = (s.pred_frames.clamp(0, 1) - s.gt_frames).abs().mean(1).numpy()
    assert layout['error_max'] == pytest.approx(np.percentile(err, 99))
    text = strip[top:top + bar_h, left + bar_w:]
    assert _dark(text[:bar_h // 3]).sum() > 10  # the top value
    assert _dark(text[-bar_h // 3:]).sum() > 5  # 0 at the bottom
    # another scale prints another top value, the same 0
    other = VideoPredVisualizer(name='strip_c', error_max=0.25)
    other_strip = other.make_strip(inputs, s)
    assert other.strip_layout['error_max'] == 0.25
    other_text = other_strip[top:top + bar_h, left + bar_w:]
    assert not np.array_equal(
        _dark(other_text[:bar_h // 3]), _dark(text[:bar_h // 3]))
    assert format_value(0.25) == '0.25' and format_value(0.034) == '0.034'


def test_error_scale_shows_small_errors():
    # an error of 0.02 is drawn red-ish with the robust default scale, blue
    # on a fixed [0, 1] scale
    err = np.full((1, 4, 4), 0.02)
    err[0, 0, 0] = 0.0
    vis = VideoPredVisualizer(name='scale_a')
    vmax = vis.error_scale(err)
    assert vmax == pytest.approx(0.02)
    assert error_colours(err, vmax)[0, 1, 1, 0] > 100  # red channel
    fixed = VideoPredVisualizer(name='scale_b', error_max=1.0)
    assert fixed.error_scale(err) == 1.0
    assert error_colours(err, 1.0)[0, 1, 1, 0] < 10
    # no error at all: a finite scale
    assert vis.error_scale(np.zeros((1, 2, 2))) == 1.0
    for bad in ('q99', 'p0', 'p101', 0, -1.0):
        with pytest.raises(ValueError, match='error_max'):
            VideoPredVisualizer(name=f'bad_{bad}', error_max=bad)


def test_video_frames_panels_and_time_label():
    inputs, s = moving_square(t_in=4, t_out=3)
    vis = VideoPredVisualizer(name='video_test')
    video = vis.make_video_frames(inputs, s)
    assert video.shape[0] == 7 and video.dtype == np.uint8
    # during the context every panel shows the observed frame; later the
    # input panel holds the last observed frame
    h = 128  # 64 px frames drawn at least 2x
    top = next(
        y for y in range(video.shape[1]) if (video[0, y] == 0).sum() > 100)
    left = next(
        x for x in range(video.shape[2]) if video[0, top + 5, x, 0] == 0)
    panel0 = video[:, top:top + h, left:left + h]
    np.testing.assert_array_equal(panel0[5], panel0[4])
    np.testing.assert_array_equal(panel0[6], panel0[3])
    assert not np.array_equal(panel0[2], panel0[3])
    # captions differ from frame to frame (time index printed below)
    caption = video[:, top + h:]
    assert not np.array_equal(caption[0], caption[1])
    assert not np.array_equal(caption[4], caption[5])
    # and the panel names above
    assert (video[:, :top] < 100).any()
    with pytest.raises(ValueError, match='pred_frames and gt_frames'):
        del s.pred_frames
        vis.make_video_frames(inputs, s)


def test_hook_writes_strips_and_videos_for_show_dir(tmp_path):
    vis = VideoPredVisualizer(name='hook_test', save_dir=str(tmp_path))
    hook = VideoPredVisualizationHook(enable=True, out_dir='show')
    inputs, s = moving_square(t_in=3, t_out=2)
    runner = types.SimpleNamespace(log_dir=str(tmp_path), iter=0)
    hook._visualizer = vis
    hook.after_test_iter(runner, 0, dict(inputs=[inputs]), [s])
    out = osp.join(tmp_path, 'show', 'sample_3.png')
    img = cv2.imread(out)
    assert img is not None
    assert np.array_equal(img[..., ::-1], vis.make_strip(inputs, s))
    gif = read_video(osp.join(tmp_path, 'show', 'sample_3.gif'))
    assert gif.shape[0] == 5
    assert sorted(os.listdir(osp.join(
        tmp_path, 'show'))) == ['sample_3.gif', 'sample_3.png']
    # MP4, or no video
    hook_mp4 = VideoPredVisualizationHook(
        enable=True, out_dir='mp4', video_format='mp4')
    hook_mp4._visualizer = vis
    hook_mp4.after_test_iter(runner, 0, dict(inputs=[inputs]), [s])
    assert read_video(osp.join(tmp_path, 'mp4', 'sample_3.mp4')).shape[0] == 5
    hook_none = VideoPredVisualizationHook(
        enable=True, out_dir='png', video_format=None)
    hook_none._visualizer = vis
    hook_none.after_test_iter(runner, 0, dict(inputs=[inputs]), [s])
    assert os.listdir(osp.join(tmp_path, 'png')) == ['sample_3.png']
    # disabled: nothing drawn
    hook2 = VideoPredVisualizationHook(enable=False, out_dir='show2')
    hook2.after_test_iter(runner, 0, dict(inputs=[inputs]), [s])
    assert not osp.exists(osp.join(tmp_path, 'show2'))
    with pytest.raises(ValueError, match='video_format'):
        VideoPredVisualizationHook(video_format='webm')


def test_tensorboard_gets_the_strip_image(tmp_path):
    pytest.importorskip('tensorboard')
    vis = VideoPredVisualizer(
        name='tb_test',
        vis_backends=[dict(type='TensorboardVisBackend')],
        save_dir=str(tmp_path))
    inputs, s = moving_square(t_in=3, t_out=2)
    images = []
    for backend in vis._vis_backends.values():
        backend.add_image = lambda name, image, step=0, **kw: images.append(
            (name, image.shape, step))
    vis.add_datasample('sample_3', inputs, s, step=5, video=True)
    strip = vis.make_strip(inputs, s)
    assert images == [('sample_3', strip.shape, 5)]
    try:
        import moviepy  # noqa: F401
    except ImportError:
        # without moviepy no video is sent, the strip stands in
        assert vis.add_video('v', vis.make_video_frames(inputs, s)) is False


def test_strip_without_truth_or_prediction():
    inputs, s = moving_square(t_in=3, t_out=2)
    vis = VideoPredVisualizer(name='strip_partial')
    del s.gt_frames  # inference on a video with no future frames
    strip = vis.make_strip(inputs, s)
    layout = vis.strip_layout
    assert len(layout['row_tops']) == 2 and layout['bar_box'] is None
    assert layout['error_max'] is None
    # the prediction row gets the t+1 .. time indices
    h, w = layout['frame_size']
    band = strip[layout['row_tops'][1] -
                 layout['header_height']:layout['row_tops'][1]]
    assert _dark(band[:, layout['columns'][0]:layout['columns'][0] + w]).any()
    inputs, s = moving_square(t_in=3, t_out=2)
    del s.pred_frames
    vis.make_strip(inputs, s)
    assert len(vis.strip_layout['row_tops']) == 2
