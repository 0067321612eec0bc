# Copyright (c) mmvp contributors. All rights reserved.
"""VideoFolderDataset: videos, frame folders and arrays, list files, any
clip lengths and strides, crop / resize transforms, and bad input."""
import logging
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from test_video_io import write_video

import mmvp.datasets.clip_dataset as clip_dataset
from mmvp.datasets import (InvalidSourceError, VideoFolderDataset,
                           VideoReadError, read_video_frames)
from mmvp.registry import DATASETS
from mmvp.utils import register_all_modules

torch.set_num_threads(1)

PACK = dict(type='PackVideoPredInputs')
LOAD = dict(type='LoadVideoFrames')


def make_frames(numbers, size=(32, 24), seed=0):
    """BGR test images by frame number."""
    rng = np.random.RandomState(seed)
    return {
        n: rng.randint(0, 256, (size[1], size[0], 3)).astype(np.uint8)
        for n in numbers
    }


def write_frames(folder, numbers, size=(32, 24), seed=0):
    """PNG frames ``000001.png ...``; returns them as RGB by number."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = make_frames(numbers, size, seed)
    for n, img in frames.items():
        cv2.imwrite(str(folder / f'{n:06d}.png'), img)
    return {n: cv2.cvtColor(f, cv2.COLOR_BGR2RGB) for n, f in frames.items()}


def rgb_frames(numbers):
    return {
        n: cv2.cvtColor(f, cv2.COLOR_BGR2RGB)
        for n, f in make_frames(numbers).items()
    }


@pytest.fixture(scope='module')
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp('folder')
    write_video(root / 'walk_01.mp4', 40)
    write_frames(root / 'seq_0002', range(1, 31))
    arr = np.random.RandomState(1).randint(0, 256, (25, 16, 16), np.uint8)
    np.save(root / 'clip_3.npy', arr)
    (root / '.DS_Store').write_bytes(b'x')
    return root


def expected_starts(n, clip_len, interval, stride):
    span = interval * (clip_len - 1) + 1
    return list(range(0, n - span + 1, stride))


def clips(ds):
    return [(ds.get_data_info(i)['source'], ds.get_data_info(i)['frame_inds'])
            for i in range(len(ds))]


@pytest.mark.parametrize('in_frames,out_frames,interval,stride',
                         [(4, 4, 2, None), (3, 7, 1, 4), (2, 1, 3, 1)])
def test_index_of_all_sources(root, in_frames, out_frames, interval, stride):
    ds = VideoFolderDataset(
        str(root),
        in_frames=in_frames,
        out_frames=out_frames,
        frame_interval=interval,
        clip_stride=stride,
        pipeline=[dict(LOAD, color_type='unchanged'), PACK])
    t = in_frames + out_frames
    span = interval * (t - 1) + 1
    want = []
    for name, n in (('clip_3.npy', 25), ('seq_0002', 30), ('walk_01.mp4', 40)):
        for s in expected_starts(n, t, interval, stride or span):
            want.append((name, [s + interval * k for k in range(t)]))
    assert clips(ds) == want
    assert ds.metainfo['frame_interval'] == interval
    assert ds.metainfo['clip_stride'] == (stride or span)
    out = ds[len(ds) - 1]
    assert out['inputs'].shape[0] == t
    assert out['data_samples'].metainfo['out_frames'] == out_frames


def test_pixels_of_each_source(root):
    ds = VideoFolderDataset(
        str(root),
        in_frames=2,
        out_frames=2,
        frame_interval=3,
        pipeline=[dict(LOAD, color_type='unchanged'), PACK])
    arr = np.load(root / 'clip_3.npy')
    frames = rgb_frames(range(1, 31))
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        got = ds[i]['inputs'].permute(0, 2, 3, 1).numpy()
        inds = info['frame_inds']
        if info['source'] == 'clip_3.npy':
            np.testing.assert_array_equal(got[..., 0], arr[inds])
        elif info['source'] == 'seq_0002':
            np.testing.assert_array_equal(
                got, np.stack([frames[j + 1] for j in inds]))
        else:
            np.testing.assert_array_equal(
                got, read_video_frames(str(root / 'walk_01.mp4'), inds))


def test_built_from_config_with_resize_and_crop(root, tmp_path):
    register_all_modules()
    lst = tmp_path / 'list.txt'
    lst.write_text('seq_0002 3 train\nseq_0002 10 test\n# comment\n\n'
                   'walk_01.mp4 - train\n')
    ds = DATASETS.build(
        dict(
            type='VideoFolderDataset',
            data_root=str(root),
            ann_file=str(lst),
            split='train',
            in_frames=1,
            out_frames=1,
            clip_stride=10,
            pipeline=[
                LOAD,
                dict(
                    type='ResizeFrames', scale=(40, 30), interpolation='area'),
                dict(type='CenterCropFrames', crop_size=(20, 24)), PACK
            ]))
    assert clips(ds) == [('seq_0002', [3, 4]), ('walk_01.mp4', [0, 1]),
                         ('walk_01.mp4', [10, 11]), ('walk_01.mp4', [20, 21]),
                         ('walk_01.mp4', [30, 31])]
    frames = rgb_frames(range(1, 31))
    want = cv2.resize(frames[4], (40, 30), interpolation=cv2.INTER_AREA)
    want = want[5:25, 8:32]
    got = ds[0]['inputs'].permute(0, 2, 3, 1).numpy()
    assert got.shape == (2, 20, 24, 3)
    np.testing.assert_array_equal(got[0], want)
    ds = VideoFolderDataset(
        str(root),
        ann_file=str(lst),
        split='test',
        in_frames=1,
        out_frames=1,
        pipeline=[LOAD, dict(type='RandomCropFrames', crop_size=8), PACK])
    assert clips(ds) == [('seq_0002', [10, 11])]
    assert ds[0]['inputs'].shape == (2, 3, 8, 8)


def test_list_file_errors(root, tmp_path):
    lst = tmp_path / 'l.txt'
    lst.write_text('walk_01.mp4 35 train\n')
    with pytest.raises(
            InvalidSourceError,
            match=r'l.txt:1: clip of walk_01.mp4 from frame 35 '
            r'needs frame 42, the file has 40'):
        VideoFolderDataset(
            str(root), ann_file=str(lst), in_frames=4, out_frames=4)
    lst.write_text('walk_01.mp4 x\n')
    with pytest.raises(
            ValueError,
            match=r"l.txt:1: start frame must be an "
            r"integer, got 'x'"):
        VideoFolderDataset(str(root), ann_file=str(lst))
    lst.write_text('missing.mp4 0\n')
    with pytest.raises(
            InvalidSourceError, match='missing.mp4: file or folder not found'):
        VideoFolderDataset(str(root), ann_file=str(lst))
    with pytest.raises(FileNotFoundError, match='clip list file not found'):
        VideoFolderDataset(str(root), ann_file=str(tmp_path / 'none.txt'))


# ----------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------
def make_bad(root, case):
    if case == 'corrupt':
        (root / 'corrupt.mp4').write_text('garbage ' * 200)
    elif case == 'truncated':
        write_video(root / 'truncated.mp4', 30)
        data = (root / 'truncated.mp4').read_bytes()
        (root / 'truncated.mp4').write_bytes(data[:len(data) // 2])
    elif case == 'too_short':
        write_video(root / 'short.mp4', 5)
    elif case == 'gap':
        write_frames(root / 'gap_seq', [1, 2, 3, 5, 6, 7, 8, 9, 10])
    elif case == 'not_video':
        (root / 'notes.txt').write_text('hello')


BAD = {
    'corrupt': r'corrupt.mp4: cannot open as a video',
    'truncated': r'truncated.mp4: cannot open as a video',
    'too_short': r'short.mp4: too short for one clip: 5 frames, a clip of '
    r'8 frames every 1 needs 8',
    'gap': r'gap_seq: gap in the frame numbers: 000003.png \(frame 3\) is '
    r'followed by 000005.png \(frame 5\)',
    'not_video': r'notes.txt: not a video .*frame folder or array',
}


@pytest.fixture
def good_root(tmp_path):
    write_video(tmp_path / 'good.mp4', 20)
    return tmp_path


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match='data root not found'):
        VideoFolderDataset(str(tmp_path / 'nope'))


@pytest.mark.parametrize('case', sorted(BAD))
def test_bad_input_raises_naming_the_file(good_root, case):
    make_bad(good_root, case)
    with pytest.raises(InvalidSourceError, match=BAD[case]) as e:
        VideoFolderDataset(str(good_root), in_frames=4, out_frames=4)
    assert 'skip_invalid=True' in str(e.value)


def test_skip_invalid_counts_and_logs_once(good_root, monkeypatch):
    for case in BAD:
        make_bad(good_root, case)
    logged = []
    monkeypatch.setattr(
        clip_dataset,
        'print_log',
        lambda msg, logger=None, level=logging.INFO: logged.append(
            (msg, level)))
    ds = VideoFolderDataset(
        str(good_root),
        in_frames=4,
        out_frames=4,
        skip_invalid=True,
        pipeline=[LOAD, PACK])
    assert clips(ds) == [('good.mp4', list(range(8))),
                         ('good.mp4', list(range(8, 16)))]
    assert ds.num_invalid == 5
    assert len(logged) == 1 and logged[0][1] == logging.WARNING
    for name in ('corrupt.mp4', 'truncated.mp4', 'short.mp4', 'gap_seq',
                 'notes.txt'):
        assert name in logged[0][0]
    assert ds[1]['inputs'].shape == (8, 3, 48, 64)
    # a gap can be accepted explicitly
    ds = VideoFolderDataset(
        str(good_root),
        in_frames=4,
        out_frames=4,
        skip_invalid=True,
        check_gaps=False)
    assert 'gap_seq' in {s['name'] for s in ds.sources}


def test_decode_error_in_test_mode_names_the_file(tmp_path, monkeypatch):
    write_video(tmp_path / 'a.mp4', 20)
    import mmvp.datasets.protocols.video_folder as vf
    monkeypatch.setattr(vf, 'video_info', lambda p, b: (50, 25.0))
    ds = VideoFolderDataset(
        str(tmp_path),
        in_frames=4,
        out_frames=4,
        test_mode=True,
        pipeline=[LOAD, PACK])
    assert len(ds) == 6
    with pytest.raises(VideoReadError, match=r'a.mp4: frame 47 requested'):
        ds[5]
    assert osp.basename(ds.get_data_info(0)['filename']) == 'a.mp4'
