# Copyright (c) mmvp contributors. All rights reserved.
"""Human3.6M loader
(``docs/en/advanced_guides/dataset_protocols.md#human36m``) on a generated
fixture with the raw ``S*/Videos/*.mp4`` layout: clip counts and frame
indices against values computed here, pixels against an independent
decode, the flat JPEG-folder protocol, the OpenSTL protocol, memory, and
bad inputs."""
import logging
import math
import os
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
import torch

import mmvp.datasets.clip_dataset as clip_dataset
import mmvp.datasets.h36m as h36m_module
import mmvp.datasets.protocols.h36m as h36m_protocols
from mmvp.datasets import H36MDataset, InvalidSourceError, VideoReadError

torch.set_num_threads(1)

PIPELINE = [
    dict(type='LoadVideoFrames'),
    dict(type='CenterCropFrames', border_ratio=0.25),
    dict(type='ResizeFrames', scale=128, interpolation='linear'),
    dict(type='PackVideoPredInputs'),
]

# (subject, file name, frames, (width, height)); kept: Walking* only
FIXTURE_VIDEOS = [
    ('S1', 'Walking.54138969.mp4', 71, (128, 128)),
    ('S1', 'Walking 1.55011271.mp4', 131, (128, 128)),
    ('S1', 'WalkDog.54138969.mp4', 80, (128, 128)),
    ('S1', 'WalkTogether 1.58860488.mp4', 80, (128, 128)),
    ('S5', 'Walking.60457274.mp4', 71, (128, 130)),  # 1002-high camera
    ('S8', 'Walking.58860488.mp4', 71, (128, 128)),
    ('S9', 'Walking.54138969.mp4', 80, (1000, 1000)),
    ('S9', 'Walking 1.55011271.mp4', 100, (128, 128)),
    ('S9', 'Directions.54138969.mp4', 80, (128, 128)),
    ('S11', 'Walking.54138969.mp4', 96, (128, 128)),
]


def frame_colour(i):
    """BGR colour of the centre region of raw frame ``i`` (i < 128)."""
    v = min(2 * i, 255)
    return (255 - v, 128, v)


def write_video(path, num_frames, size=(128, 128), fps=50):
    """mp4v video: dark border, centre half of colour ``frame_colour(i)``
    with a moving bar (so frames differ in structure too)."""
    w, h = size
    os.makedirs(osp.dirname(str(path)), exist_ok=True)
    writer = cv2.VideoWriter(
        str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    assert writer.isOpened()
    for i in range(num_frames):
        f = np.full((h, w, 3), 20, np.uint8)
        f[h // 4:h - h // 4, w // 4:w - w // 4] = frame_colour(i)
        x = w // 4 + (i * 3) % max(w // 2 - 8, 1)
        f[h // 3:h // 2, x:x + 8] = (0, 255, 255)
        writer.write(f)
    writer.release()
    return str(path)


def write_h36m_tree(root, videos=FIXTURE_VIDEOS):
    """The raw Human3.6M layout with generated videos, plus an ``_ALL``
    file that must never be opened."""
    for subject, name, n, size in videos:
        write_video(osp.join(root, subject, 'Videos', name), n, size)
    with open(osp.join(root, 'S1', 'Videos', '_ALL.54138969.mp4'), 'w') as f:
        f.write('not read\n')
    return str(root)


def expected_mim_clips(videos, subjects, stride):
    """The protocol (dataset_protocols.md#protocol-mim) computed here: keep
    Walking (token 1 of the key), sort by key, n_img = ceil(n / 5), starts
    s = 0, S, ... with s + 14 <= n_img - 1, raw frames 5 s + 10 k."""
    kept = []
    for subject, name, n, _ in videos:
        if subject not in subjects:
            continue
        action, camera, _ = name.rsplit('.', 2)
        key = f"{subject}_{action.replace(' ', '_')}.{camera}"
        if key.split('.')[0].split('_')[1] != 'Walking':
            continue
        kept.append((key, n))
    clips = []
    for key, n in sorted(kept):
        n_img = math.ceil(n / 5)
        s = 0
        while s + 14 <= n_img - 1:
            clips.append((key, [5 * s + 10 * k for k in range(8)]))
            s += stride
    return clips


def decode_all(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    cap.release()
    return frames


def mim_frame(frame, size=128):
    """The protocol's geometry (dataset_protocols.md#protocol-mim) written
    out: centre-half crop, INTER_LINEAR."""
    h, w = frame.shape[:2]
    crop = frame[h // 4:h - h // 4, w // 4:w - w // 4]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)


@pytest.fixture(scope='module')
def raw_root(tmp_path_factory):
    return write_h36m_tree(tmp_path_factory.mktemp('h36m'))


def clip_list(ds):
    out = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        out.append((info['source'], info['frame_inds']))
    return out


@pytest.mark.parametrize('split,subjects,stride',
                         [('train', ('S1', 'S5', 'S6', 'S7', 'S8'), 10),
                          ('test', ('S9', 'S11'), 5)])
def test_mim_clip_index_matches_protocol(raw_root, split, subjects, stride):
    ds = H36MDataset(raw_root, split=split, pipeline=PIPELINE)
    expected = expected_mim_clips(FIXTURE_VIDEOS, subjects, stride)
    assert clip_list(ds) == expected
    assert len(ds) == 5
    meta = ds.metainfo
    assert meta['protocol'] == 'h36m_mim' and meta['split'] == split
    assert meta['frame_interval_raw'] == 10 and meta['clip_stride'] == stride
    assert meta['subjects'] == subjects and meta['actions'] == ('Walking', )


def test_mim_order_and_filter(raw_root):
    ds = H36MDataset(raw_root, split='test', pipeline=PIPELINE)
    sources = [s['name'] for s in ds.sources]
    # 'S11_' sorts before 'S9_'; 'Walking.' before 'Walking_1.'
    assert sources == [
        'S11_Walking.54138969', 'S9_Walking.54138969', 'S9_Walking_1.55011271'
    ]
    ds = H36MDataset(raw_root, split='train', pipeline=PIPELINE)
    names = {s['name'] for s in ds.sources}
    assert 'S1_WalkDog.54138969' not in names
    assert 'S1_WalkTogether_1.58860488' not in names
    # a monitoring split of one subject at the test stride
    ds = H36MDataset(
        raw_root,
        split='train',
        subjects=['S8'],
        clip_stride=5,
        pipeline=PIPELINE)
    assert clip_list(ds) == expected_mim_clips(FIXTURE_VIDEOS, ('S8', ), 5)


def test_mim_pixels_match_independent_decode(raw_root):
    ds = H36MDataset(raw_root, split='test', pipeline=PIPELINE)
    decoded = {}
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        path = info['filename']
        if path not in decoded:
            decoded[path] = decode_all(path)
        want = np.stack(
            [mim_frame(decoded[path][j]) for j in info['frame_inds']])
        out = ds[i]
        got = out['inputs'].permute(0, 2, 3, 1).numpy()
        assert out['inputs'].shape == (8, 3, 128, 128)
        assert out['inputs'].dtype == torch.uint8
        np.testing.assert_array_equal(got, want)
        meta = out['data_samples'].metainfo
        assert meta['in_frames'] == 4 and meta['out_frames'] == 4
        assert meta['source'] == info['source']
        assert meta['start_frame'] == info['frame_inds'][0]
    # the 1000 x 1000 video: the centre colour is the frame's (RGB)
    info = ds.get_data_info(2)
    assert info['source'] == 'S9_Walking.54138969'
    assert ds.sources[info['source_idx']]['num_frames'] == 80
    frames = ds[2]['inputs'].permute(0, 2, 3, 1).numpy().astype(int)
    for k, j in enumerate(info['frame_inds']):
        b, g, r = frame_colour(j)
        np.testing.assert_allclose(frames[k, 100, 20], (r, g, b), atol=8)


def test_opencv_backend_gives_the_same_clips(raw_root):
    pipe = [dict(PIPELINE[0], backend='opencv')] + PIPELINE[1:]
    a = H36MDataset(raw_root, split='train', pipeline=PIPELINE)
    b = H36MDataset(raw_root, split='train', backend='opencv', pipeline=pipe)
    assert clip_list(a) == clip_list(b)
    for i in (0, len(a) - 1):
        assert torch.equal(a[i]['inputs'], b[i]['inputs'])


def test_crop_of_1002_high_frames():
    from mmvp.datasets.transforms import CenterCropFrames
    frames = np.zeros((1, 1002, 1000, 3), np.uint8)
    out = CenterCropFrames(border_ratio=0.25)(dict(frames=frames))
    assert out['frames'].shape == (1, 502, 500, 3)  # a 1002-pixel camera


# ----------------------------------------------------------------------
# the flat JPEG folder of the MIM / MotionRNN code
# (dataset_protocols.md#the-official-loader)
# ----------------------------------------------------------------------
@pytest.fixture(scope='module')
def jpeg_root(raw_root, tmp_path_factory):
    """Pavlakos-style images of the fixture videos: every 5th frame,
    numbered 1-based, ``<key>_<frame6>.jpg`` in one flat folder."""
    root = tmp_path_factory.mktemp('h36m_jpeg')
    images = root / 'images'
    images.mkdir()
    for subject, name, _, _ in FIXTURE_VIDEOS:
        info = h36m_module.parse_h36m_video(subject, name)
        frames = decode_all(osp.join(raw_root, subject, 'Videos', name))
        for i in range(0, len(frames), 5):
            bgr = cv2.cvtColor(frames[i], cv2.COLOR_RGB2BGR)
            cv2.imwrite(
                str(images / f"{info['key']}_{i + 1:06d}.jpg"), bgr,
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    return str(root)


@pytest.mark.parametrize('split', ['train', 'test'])
def test_jpeg_protocol_reproduces_video_index(raw_root, jpeg_root, split):
    video = H36MDataset(raw_root, split=split, pipeline=PIPELINE)
    jpeg = H36MDataset(
        jpeg_root,
        split=split,
        source='jpeg',
        image_dir=osp.join(jpeg_root, 'images'),
        pipeline=PIPELINE)
    # same clips in stored-image units, except the official quirk: the
    # loop condition is global, so the last video's final start is lost
    # when it ends exactly at the last image
    # (dataset_protocols.md#the-official-loader)
    want = [(s, [i // 5 for i in inds]) for s, inds in clip_list(video)]
    got = []
    for i in range(len(jpeg)):
        info = jpeg.get_data_info(i)
        got.append((info['source'], info['frame_inds']))
        names = [
            osp.basename(info['frame_paths'][j]) for j in info['frame_inds']
        ]
        nums = [int(n.rsplit('_', 1)[1][:6]) for n in names]
        assert nums == [
            1 + 10 * k + 5 * info['frame_inds'][0] for k in range(8)
        ]
    assert got == want[:-1]
    last_src, last_inds = want[-1]
    n_img = math.ceil(
        video.sources[[s['name']
                       for s in video.sources].index(last_src)]['num_frames'] /
        5)
    assert last_inds[-1] == n_img - 1  # it ends at the last image
    # pixels agree up to JPEG loss
    for i in range(len(jpeg)):
        a = jpeg[i]['inputs'].float()
        b = video[i]['inputs'].float()
        assert (a - b).abs().mean() < 3


def test_jpeg_index_frame_number_rule(tmp_path):
    """The official index (dataset_protocols.md#the-official-loader) by hand:
    image 26 of a video is missing, so the clip
    at position 0 spans 75 raw frames (rejected, index += 5) and the one at
    position 5 spans 70 (accepted); the loop stops at index 10 because
    10 + 15 < 25 is false."""
    nums = [n for n in range(1, 127, 5) if n != 26]
    assert len(nums) == 25
    img = np.zeros((8, 8, 3), np.uint8)
    for n in nums:
        cv2.imwrite(str(tmp_path / f'S9_Walking.54138969_{n:06d}.jpg'), img)
    # another subject / scenario are filtered out before indexing
    cv2.imwrite(str(tmp_path / 'S1_Walking.54138969_000001.jpg'), img)
    cv2.imwrite(str(tmp_path / 'S9_WalkDog.54138969_000001.jpg'), img)
    ds = H36MDataset(
        str(tmp_path), split='test', source='jpeg', pipeline=PIPELINE)
    assert len(ds) == 1
    info = ds.get_data_info(0)
    assert [
        osp.basename(info['frame_paths'][j])[-10:-4]
        for j in info['frame_inds']
    ] == [f'{n:06d}' for n in nums[5:21:2]]
    assert ds[0]['inputs'].shape == (8, 3, 128, 128)


def test_jpeg_folder_bad_names(tmp_path):
    img = np.zeros((8, 8, 3), np.uint8)
    for n in range(1, 80, 5):
        cv2.imwrite(str(tmp_path / f'S9_Walking.54138969_{n:06d}.jpg'), img)
    (tmp_path / 'README.txt').write_text('x')
    with pytest.raises(InvalidSourceError, match='README.txt: not an image'):
        H36MDataset(str(tmp_path), split='test', source='jpeg')
    ds = H36MDataset(
        str(tmp_path), split='test', source='jpeg', skip_invalid=True)
    assert len(ds) == 1 and ds.num_invalid == 1


# ----------------------------------------------------------------------
# OpenSTL protocol (meta lists)
# ----------------------------------------------------------------------
def write_openstl_list(path, lines):
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return str(path)


def test_openstl_protocol_from_video(raw_root, tmp_path):
    ann = write_openstl_list(tmp_path / 'test.txt', [
        'images/S9_Walking.54138969_,6,76',
        'images/S1_WalkDog.54138969_,26,96',
        'images/S11_Walking.54138969_,1,71',
    ])
    pipe = [
        dict(type='LoadVideoFrames'),
        dict(type='ResizeFrames', scale=256, interpolation='linear'),
        dict(type='PackVideoPredInputs'),
    ]
    ds = H36MDataset(
        raw_root,
        split='test',
        protocol='openstl',
        ann_file=ann,
        pipeline=pipe)
    assert ds.metainfo['protocol'] == 'h36m_openstl'
    # raw frames (b - 1) + 5 k, all actions, list order
    assert clip_list(ds) == [
        ('S9_Walking.54138969', [5 + 5 * k for k in range(8)]),
        ('S1_WalkDog.54138969', [25 + 5 * k for k in range(8)]),
        ('S11_Walking.54138969', [5 * k for k in range(8)]),
    ]
    info = ds.get_data_info(0)
    frames = decode_all(info['filename'])
    want = np.stack([
        cv2.resize(frames[j], (256, 256), interpolation=cv2.INTER_LINEAR)
        for j in info['frame_inds']
    ])
    got = ds[0]['inputs'].permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(got, want)


def test_openstl_protocol_from_jpeg_folder(jpeg_root, tmp_path):
    ann = write_openstl_list(tmp_path / 'l.txt', [
        'images/S9_Walking.54138969_,6,76',
        'images/S1_Walking_1.55011271_,51,121',
    ])
    ds = H36MDataset(
        jpeg_root, protocol='openstl', source='jpeg', ann_file=ann)
    got = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        got.append(
            [osp.basename(info['frame_paths'][j]) for j in info['frame_inds']])
    assert got == [[
        f'S9_Walking.54138969_{6 + 5 * k:06d}.jpg' for k in range(8)
    ], [f'S1_Walking_1.55011271_{51 + 5 * k:06d}.jpg' for k in range(8)]]


def test_openstl_list_errors(raw_root, tmp_path):
    ann = write_openstl_list(
        tmp_path / 'bad.txt',
        [
            'images/S9_Walking.54138969_,6,76',
            'images/S9_Eating.54138969_,1,71',  # no such video
            'images/S9_Walking.54138969_,46,116',  # beyond the 80 frames
        ])
    with pytest.raises(
            InvalidSourceError, match=r'bad.txt:2: no video .*S9_Eating'):
        H36MDataset(raw_root, protocol='openstl', ann_file=ann)
    ds = H36MDataset(
        raw_root, protocol='openstl', ann_file=ann, skip_invalid=True)
    assert len(ds) == 1 and ds.num_invalid == 2
    assert 'needs frame 80' in ds.invalid_files[1][1]
    with pytest.raises(ValueError, match='needs ann_file'):
        H36MDataset(raw_root, protocol='openstl')


# ----------------------------------------------------------------------
# memory: the index holds no pixels
# ----------------------------------------------------------------------
def test_index_of_100k_clips_is_small(tmp_path, monkeypatch):
    """100,000 train clips from 20 (empty) videos with a faked frame count:
    the dataset pickles to a few bytes per clip, holds no pixel array, and
    workers share the serialised list."""
    for s in ('S1', 'S5', 'S6', 'S7', 'S8'):
        for cam in ('54138969', '55011271', '58860488', '60457274'):
            d = tmp_path / s / 'Videos'
            d.mkdir(parents=True, exist_ok=True)
            (d / f'Walking.{cam}.mp4').write_bytes(b'')
    n_raw = 5 * (10 * 4999 + 15)  # 5,000 clips per video
    monkeypatch.setattr(h36m_protocols, 'video_info', lambda path, backend:
                        (n_raw, 50.0))
    ds = H36MDataset(str(tmp_path), split='train', pipeline=PIPELINE)
    assert len(ds) == 100_000
    assert ds.get_data_info(99_999)['frame_inds'][-1] == 5 * (10 * 4999 + 14)
    # one clip's pixels (8 x 128 x 128 x 3) alone are 393,216 bytes
    size = len(pickle.dumps(ds))
    assert size < 64 * 100_000, size
    arrays = [v for v in vars(ds).values() if isinstance(v, np.ndarray)]
    assert sum(a.nbytes for a in arrays) < 64 * 100_000
    assert ds.serialize_data and all(
        a.dtype in (np.uint8, np.int64) for a in arrays)


def test_fetching_clips_keeps_the_dataset_small(raw_root):
    ds = H36MDataset(raw_root, split='train', pipeline=PIPELINE)
    before = len(pickle.dumps(ds))
    for i in range(len(ds)):
        ds[i]
    assert len(pickle.dumps(ds)) == before
    assert before < 20_000


# ----------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------
@pytest.fixture
def bad_root(tmp_path):
    videos = tmp_path / 'S9' / 'Videos'
    write_video(videos / 'Walking.54138969.mp4', 71)
    return tmp_path


def make_truncated(path):
    write_video(path, 71)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


BAD_CASES = {
    'corrupt':
    lambda p: open(osp.join(p, 'Walking 1.55011271.mp4'), 'w').write('garbage '
                                                                     * 100),
    'truncated':
    lambda p: make_truncated(osp.join(p, 'Walking 2.58860488.mp4')),
    'too_short':
    lambda p: write_video(osp.join(p, 'Walking.60457274.mp4'), 60),
    'not_video':
    lambda p: open(osp.join(p, 'notes.txt'), 'w').write('x'),
}
BAD_MESSAGES = {
    'corrupt': r'Walking 1\.55011271\.mp4: cannot open as a video',
    'truncated': r'Walking 2\.58860488\.mp4: cannot open as a video',
    'too_short': r'Walking\.60457274\.mp4: too short for one clip: 60 '
    r'frames = 12 stored images .* needs 15 stored images',
    'not_video': r'notes\.txt: not an \.mp4 video',
}


def test_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match='Human3.6M root not found'):
        H36MDataset(str(tmp_path / 'nope'), split='test')


@pytest.mark.parametrize('case', sorted(BAD_CASES))
def test_bad_input_raises_naming_the_file(bad_root, case):
    BAD_CASES[case](str(bad_root / 'S9' / 'Videos'))
    with pytest.raises(InvalidSourceError, match=BAD_MESSAGES[case]) as e:
        H36MDataset(str(bad_root), split='test')
    assert 'skip_invalid=True' in str(e.value)


def test_skip_invalid_counts_and_logs_once(bad_root, monkeypatch):
    for make in BAD_CASES.values():
        make(str(bad_root / 'S9' / 'Videos'))
    logged = []
    monkeypatch.setattr(
        clip_dataset,
        'print_log',
        lambda msg, logger=None, level=logging.INFO: logged.append(
            (msg, level)))
    ds = H36MDataset(
        str(bad_root), split='test', skip_invalid=True, pipeline=PIPELINE)
    assert len(ds) == 1 and ds.num_invalid == 4
    assert len(logged) == 1
    msg, level = logged[0]
    assert level == logging.WARNING and 'skipped 4 invalid file(s)' in msg
    for name in ('Walking 1.55011271.mp4', 'Walking 2.58860488.mp4',
                 'Walking.60457274.mp4', 'notes.txt'):
        assert name in msg
    assert ds[0]['inputs'].shape == (8, 3, 128, 128)


def test_decode_failure_at_load_time(tmp_path, monkeypatch):
    """A video whose header is fine but whose frames do not decode: test
    mode raises naming the file; training with skip_invalid fetches
    another clip and logs the file once."""
    videos = tmp_path / 'S1' / 'Videos'
    write_video(videos / 'Walking.54138969.mp4', 71)
    bad = write_video(videos / 'Walking 1.55011271.mp4', 71)
    # frames past 20 are lost; decord reads the header only here
    real = h36m_protocols.video_info
    monkeypatch.setattr(h36m_protocols, 'video_info', lambda p, b: (200, 50.0)
                        if p == bad else real(p, b))
    ds = H36MDataset(
        str(tmp_path), split='train', test_mode=True, pipeline=PIPELINE)
    bad_idx = [s['path'] for s in ds.sources].index(bad)
    # its last clip needs frames past the 71 that exist
    idx = [
        i for i in range(len(ds))
        if ds.get_data_info(i)['source_idx'] == bad_idx
    ][-1]
    assert ds.get_data_info(idx)['frame_inds'][-1] > 70
    with pytest.raises(VideoReadError, match='Walking 1.55011271.mp4'):
        ds[idx]
    logged = []
    monkeypatch.setattr(
        clip_dataset,
        'print_log',
        lambda msg, logger=None, level=logging.INFO: logged.append(msg))
    ds = H36MDataset(
        str(tmp_path), split='train', skip_invalid=True, pipeline=PIPELINE)
    for _ in range(3):
        out = ds[idx]  # replaced by a readable clip
        assert out['inputs'].shape == (8, 3, 128, 128)
        assert out['data_samples'].metainfo['sample_idx'] != idx
    assert len(logged) == 1 and 'Walking 1.55011271.mp4' in logged[0]


def test_frame_count_caps(raw_root, tmp_path):
    """Capping a video at its pose-annotation length
    (dataset_protocols.md#protocol-mim):
    131 frames (27 stored images, 2 train clips) capped at 100 (20 images)
    leave one clip."""
    caps = tmp_path / 'caps.json'
    caps.write_text('{"S1_Walking_1.55011271": 100}')
    ds = H36MDataset(
        raw_root, split='train', frame_count_caps=str(caps), pipeline=PIPELINE)
    got = [c for c in clip_list(ds) if c[0] == 'S1_Walking_1.55011271']
    assert got == [('S1_Walking_1.55011271', [10 * k for k in range(8)])]
