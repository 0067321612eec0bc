# Copyright (c) mmvp contributors. All rights reserved.
"""Video / image / array readers: decord and OpenCV agree, RGB order, the
OpenCV fallback, and clear errors on bad files."""
import os.path as osp
import zipfile

import cv2
import numpy as np
import pytest

from mmvp.datasets import video_io
from mmvp.datasets.video_io import (VideoReadError, array_info,
                                    check_frame_numbers, count_video_frames,
                                    iter_video_frames, list_frame_folder,
                                    read_array_frames, read_image, read_images,
                                    read_video_frames)


def write_video(path, num_frames, size=(64, 48), seed=0):
    """mp4v video whose frame i has BGR colour (255 - 4i, 100, 4i) in a
    block and a random texture elsewhere; returns the BGR frames."""
    w, h = size
    rng = np.random.RandomState(seed)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), 50, (w, h))
    frames = []
    for i in range(num_frames):
        f = rng.randint(0, 60, (h, w, 3)).astype(np.uint8)
        f[h // 4:h - h // 4, w // 4:w - w // 4] = (255 - 4 * i, 100, 4 * i)
        writer.write(f)
        frames.append(f)
    writer.release()
    return frames


def cv2_decode_all(path):
    cap = cv2.VideoCapture(str(path))
    out = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return np.stack(out)


@pytest.fixture(scope='module')
def video(tmp_path_factory):
    path = tmp_path_factory.mktemp('v') / 'clip.mp4'
    write_video(path, 40)
    return str(path)


def test_count_and_read_decord_equals_opencv(video):
    assert count_video_frames(video, 'decord') == 40
    assert count_video_frames(video, 'opencv') == 40
    ref = cv2_decode_all(video)
    inds = [35, 0, 10, 10, 5]  # any order, repeats
    a = read_video_frames(video, inds, 'decord')
    b = read_video_frames(video, inds, 'opencv')
    assert a.dtype == np.uint8 and a.shape == (5, 48, 64, 3)
    np.testing.assert_array_equal(a, ref[inds])
    np.testing.assert_array_equal(b, ref[inds])


def test_frames_are_rgb(video):
    frames = read_video_frames(video, [0, 20], 'decord')
    # written BGR (255 - 4i, 100, 4i) -> RGB (4i, 100, 255 - 4i)
    centre = frames[:, 24, 32].astype(int)
    np.testing.assert_allclose(centre[0], [0, 100, 255], atol=6)
    np.testing.assert_allclose(centre[1], [80, 100, 175], atol=6)


def test_iter_video_frames_chunks(video):
    ref = cv2_decode_all(video)
    got = dict(iter_video_frames(video, range(0, 40, 5), chunk_size=3))
    assert sorted(got) == list(range(0, 40, 5))
    for i, f in got.items():
        np.testing.assert_array_equal(f, ref[i])
    got = dict(iter_video_frames(video, [3, 1], backend='opencv'))
    np.testing.assert_array_equal(got[3], ref[3])


def test_decord_error_falls_back_to_opencv(video, monkeypatch):
    ref = cv2_decode_all(video)

    def broken(*args, **kwargs):
        raise video_io.DECORDError('Failed to measure duration/frame-count')

    monkeypatch.setattr(video_io, '_open_decord', broken)
    # counted by grabbing every frame, read sequentially, RGB
    assert count_video_frames(video, 'decord') == 40
    np.testing.assert_array_equal(
        read_video_frames(video, [7, 2], 'decord'), ref[[7, 2]])
    got = dict(iter_video_frames(video, [4, 9], 'decord'))
    np.testing.assert_array_equal(got[9], ref[9])


def test_index_out_of_range_names_file(video):
    with pytest.raises(VideoReadError, match=r'clip\.mp4: frame 40 .*40 '):
        read_video_frames(video, [0, 40])
    with pytest.raises(VideoReadError, match='clip.mp4: OpenCV decoded only'):
        read_video_frames(video, [0, 40], backend='opencv')


@pytest.fixture(scope='module')
def bad_videos(tmp_path_factory, video):
    root = tmp_path_factory.mktemp('bad')
    data = open(video, 'rb').read()
    files = {}
    files['missing'] = root / 'missing.mp4'
    files['empty'] = root / 'empty.mp4'
    files['empty'].write_bytes(b'')
    files['text'] = root / 'notes.mp4'
    files['text'].write_text('not a video\n' * 20)
    # cv2 writes 'moov' at the end: any cut loses it
    files['truncated'] = root / 'truncated.mp4'
    files['truncated'].write_bytes(data[:len(data) // 2])
    return {k: str(v) for k, v in files.items()}


@pytest.mark.parametrize('kind', ['missing', 'empty', 'text', 'truncated'])
@pytest.mark.parametrize('backend', ['decord', 'opencv'])
def test_bad_video_errors_name_the_file(bad_videos, kind, backend):
    path = bad_videos[kind]
    with pytest.raises(VideoReadError) as info:
        count_video_frames(path, backend)
    msg = str(info.value)
    assert msg.startswith(path + ':')
    assert any(w in msg for w in ('not found', 'empty', 'cannot open'))
    with pytest.raises(VideoReadError, match=osp.basename(path)):
        read_video_frames(path, [0], backend)


def test_corrupt_mdat_reads_fail_clearly(tmp_path):
    path = tmp_path / 'mdat.mp4'
    write_video(path, 40, seed=3)
    data = bytearray(path.read_bytes())
    moov = data.find(b'moov')
    mid = moov // 2
    data[mid:mid + 2000] = np.random.RandomState(1).randint(
        0, 256, 2000).astype(np.uint8).tobytes()
    path.write_bytes(bytes(data))
    # metadata still claims 40 frames; decoding all of them fails
    with pytest.raises(VideoReadError, match='mdat.mp4: OpenCV decoded only'):
        read_video_frames(str(path), list(range(40)))


def test_read_image_and_errors(tmp_path):
    img = np.zeros((6, 8, 3), np.uint8)
    img[..., 0] = 10  # B
    img[..., 2] = 200  # R
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    rgb = read_image(str(tmp_path / 'a.png'))
    assert rgb.shape == (6, 8, 3) and tuple(rgb[0, 0]) == (200, 0, 10)
    grey = read_image(str(tmp_path / 'a.png'), 'grayscale')
    assert grey.shape == (6, 8, 1)
    (tmp_path / 'bad.png').write_bytes(b'\x89PNG broken')
    with pytest.raises(VideoReadError, match='bad.png: cannot decode'):
        read_image(str(tmp_path / 'bad.png'))
    with pytest.raises(VideoReadError, match='nope.png'):
        read_image(str(tmp_path / 'nope.png'))


def test_read_images_stacks_and_names_a_mismatch(tmp_path):
    a = np.full((6, 8, 3), 7, np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), a)
    cv2.imwrite(str(tmp_path / 'b.png'), a + 1)
    cv2.imwrite(str(tmp_path / 'c.png'), np.zeros((6, 9, 3), np.uint8))
    paths = [str(tmp_path / n) for n in ('a.png', 'b.png')]
    stack = read_images(paths)
    assert stack.shape == (2, 6, 8, 3)
    assert stack[0].max() == 7 and stack[1].min() == 8
    with pytest.raises(
            VideoReadError,
            match=r'c\.png: image of shape \(6, 9, 3\), but '
            r'.*a\.png has \(6, 8, 3\)'):
        read_images(paths + [str(tmp_path / 'c.png')])


def test_frame_folder_order_and_gaps(tmp_path):
    names = [
        'img_9.png', 'img_10.png', 'img_8.png', '.hidden.png', 'notes.txt'
    ]
    for n in names:
        (tmp_path / n).write_bytes(b'x')
    assert list_frame_folder(
        str(tmp_path)) == ['img_8.png', 'img_9.png', 'img_10.png']
    assert check_frame_numbers('f', ['a_1.png', 'a_2.png', 'a_3.png']) is None
    # every 5th frame (1-based, as the Human3.6M JPEGs) is not a gap
    assert check_frame_numbers('f', ['1.jpg', '6.jpg', '11.jpg']) is None
    msg = check_frame_numbers(
        'f', ['f_0001.png', 'f_0002.png', 'f_0004.png', 'f_0005.png'])
    assert 'gap' in msg and 'f_0002.png' in msg and 'f_0004.png' in msg
    msg = check_frame_numbers('f', ['a_1.png', 'b_1.png'])
    assert 'prefixes' in msg


def test_arrays_npy_and_npz(tmp_path):
    arr = np.arange(6 * 4 * 5, dtype=np.uint8).reshape(6, 4, 5)
    np.save(tmp_path / 'a.npy', arr)
    np.savez(tmp_path / 'b.npz', frames=arr, other=np.zeros(3))
    np.savez_compressed(tmp_path / 'c.npz', frames=arr)
    assert array_info(str(tmp_path / 'a.npy')) == ((6, 4, 5), np.uint8)
    assert array_info(str(tmp_path / 'b.npz'), 'frames')[0] == (6, 4, 5)
    for name, key in (('a.npy', None), ('b.npz', 'frames'), ('c.npz',
                                                             'frames')):
        got = read_array_frames(str(tmp_path / name), [5, 0, 2], key)
        np.testing.assert_array_equal(got, arr[[5, 0, 2]])
    with pytest.raises(VideoReadError, match=r"b.npz: no array 'x'"):
        read_array_frames(str(tmp_path / 'b.npz'), [0], 'x')
    with pytest.raises(VideoReadError, match='a.npy: frame 6 requested'):
        read_array_frames(str(tmp_path / 'a.npy'), [6])
    (tmp_path / 'z.npz').write_bytes(b'PK broken')
    with pytest.raises(VideoReadError, match='z.npz: not a valid .npz'):
        array_info(str(tmp_path / 'z.npz'), 'frames')
    assert zipfile.is_zipfile(tmp_path / 'b.npz')
