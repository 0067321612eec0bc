# Copyright (c) mmvp contributors. All rights reserved.
"""Video export: MP4 / AVI / GIF written atomically, decoded back."""
import os

import cv2
import numpy as np
import pytest
import torch

from mmvp.visualization import as_uint8_hwc, write_video


def read_video(path, backend=None):
    """Decode a written video to uint8 ``[T, H, W, 3]`` RGB (Pillow for GIF,
    OpenCV otherwise)."""
    if str(path).endswith('.gif') and backend is None:
        from PIL import Image, ImageSequence
        with Image.open(path) as image:
            return np.stack([
                np.asarray(frame.convert('RGB'))
                for frame in ImageSequence.Iterator(image)
            ])
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame[..., ::-1])
    capture.release()
    return np.stack(frames)


def _frames(num=5, channels=3):
    frames = np.zeros((num, 32, 48, channels), np.uint8)
    for t in range(num):
        frames[t, 8:24, 4 + 6 * t:16 + 6 * t] = 200
    return frames


@pytest.mark.parametrize('ext', ['.mp4', '.avi'])
def test_opencv_formats_decode_back(tmp_path, ext):
    frames = _frames()
    path = str(tmp_path / f'out{ext}')
    assert write_video(frames, path, fps=5) == path
    decoded = read_video(path)
    assert decoded.shape == frames.shape
    assert np.abs(decoded.astype(int) - frames.astype(int)).mean() < 6
    # grey frames are written as 3-channel video
    write_video(frames[..., :1], path)
    assert read_video(path, backend='opencv').shape == (5, 32, 48, 3)
    assert os.listdir(tmp_path) == [f'out{ext}']  # no temporary file left


def test_gif_is_lossless_for_grey(tmp_path):
    frames = _frames(channels=1)
    frames[2, 0, 0] = 17
    path = str(tmp_path / 'out.gif')
    write_video(frames, path, fps=4)
    decoded = read_video(path)
    assert decoded.shape == (5, 32, 48, 3)
    assert np.array_equal(decoded[..., 0], frames[..., 0])
    # the usual mode of a new file, not the private one of a temp file
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_tensor_and_float_inputs():
    tensor = torch.zeros(2, 1, 4, 6)
    tensor[1] = 1.5  # clipped
    out = as_uint8_hwc(tensor)
    assert out.shape == (2, 4, 6, 1) and out[1].min() == 255
    assert as_uint8_hwc(np.full((1, 2, 2), 0.5)).tolist() == [[[[128], [128]],
                                                               [[128], [128]]]]
    with pytest.raises(ValueError, match='C = 1 or 3'):
        as_uint8_hwc(np.zeros((1, 2, 2, 2), np.uint8))


def test_errors_leave_no_file(tmp_path):
    with pytest.raises(ValueError, match='must end with'):
        write_video(_frames(), str(tmp_path / 'out.webm'))
    with pytest.raises(ValueError, match='no frame'):
        write_video(np.zeros((0, 4, 4, 3), np.uint8), str(tmp_path / 'a.gif'))
    with pytest.raises(ValueError, match='fps'):
        write_video(_frames(), str(tmp_path / 'a.mp4'), fps=0)
    # a failing writer (unknown codec) keeps an existing target intact
    target = tmp_path / 'keep.avi'
    target.write_bytes(b'old')
    with pytest.raises(RuntimeError, match='cannot open'):
        write_video(_frames(), str(target), fourcc='ZZZZ')
    assert target.read_bytes() == b'old'
    assert sorted(os.listdir(tmp_path)) == ['keep.avi']
