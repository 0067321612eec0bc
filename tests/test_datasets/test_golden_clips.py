# Copyright (c) mmvp contributors. All rights reserved.
"""Golden values of every dataset and storage format: the number of
clips, the frame indices of a few clips and a sha256 of their pixels
after the full pipeline.

The values were computed once and pinned; any change to the data layer
(indexing, decoding, crop / resize) that moves a clip or a pixel fails
here. The fixtures are small files written by the tests themselves (mp4v
videos written and read by the FFmpeg builds bundled with OpenCV and
decord, PNG / JPEG frames, .npy / .npz arrays).

To print the values of a new case, run this file as a script:
``python tests/test_datasets/test_golden_clips.py``.
"""
import datetime as dt
import hashlib
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
import torch

from mmvp.datasets import (H36MDataset, MeteoNetDataset, MovingMNISTDataset,
                           RadarDataset, VideoFolderDataset, VMNISTDataset)

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from test_h36m import write_video  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
import h36m_frame_cache  # noqa: E402

torch.set_num_threads(1)

# (subject, file name, frames, (width, height)); Walking* is the mim set
VIDEOS = [
    ('S1', 'Walking.54138969.mp4', 71, (64, 64)),
    ('S1', 'Walking 1.55011271.mp4', 131, (64, 66)),
    ('S1', 'WalkDog.54138969.mp4', 80, (64, 64)),
    ('S9', 'Walking.54138969.mp4', 80, (64, 64)),
    ('S9', 'Directions.54138969.mp4', 76, (64, 64)),
    ('S11', 'Walking.54138969.mp4', 96, (66, 64)),
]
OPENSTL_LIST = [
    'images/S9_Walking.54138969_,6,76',
    'images/S1_WalkDog.54138969_,26,96',
    'images/S9_Directions.54138969_,1,71',
    'images/S1_Walking_1.55011271_,51,121',
]
MIM_PIPE = [
    dict(type='DecordDecode'),
    dict(type='CenterCropFrames', border_ratio=0.25),
    dict(type='ResizeFrames', scale=32, interpolation='linear'),
    dict(type='PackVideoPredInputs'),
]
OPENSTL_PIPE = [
    dict(type='DecordDecode'),
    dict(type='ResizeFrames', scale=48, interpolation='linear'),
    dict(type='PackVideoPredInputs'),
]
RADAR_PIPE = [
    dict(type='LoadVideoFrames', color_type='grayscale'),
    dict(type='ResizeFrames', scale=16, interpolation='area'),
    dict(type='PackVideoPredInputs'),
]
METEONET_PIPE = [
    dict(type='LoadVideoFrames', out_key='radar_values'),
    dict(type='EncodeRadarFrames'),
    dict(type='CenterCropFrames', crop_size=20),
    dict(type='ResizeFrames', scale=8, interpolation='area'),
    dict(type='PackVideoPredInputs'),
]
FOLDER_PIPE = [
    dict(type='LoadVideoFrames'),
    dict(type='ResizeFrames', scale=(20, 12), interpolation='cubic'),
    dict(type='PackVideoPredInputs'),
]


def _decode_all(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


def _key(subject, name):
    action, camera, _ = name.rsplit('.', 2)
    return f"{subject}_{action.replace(' ', '_')}.{camera}"


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    return make_roots(tmp_path_factory.mktemp('golden'))


def make_roots(base):
    base = str(base)
    raw = osp.join(base, 'raw')
    for subject, name, n, size in VIDEOS:
        write_video(osp.join(raw, subject, 'Videos', name), n, size)
    # the flat JPEG folder of the MIM code: every 5th frame, 1-based
    jpeg = osp.join(base, 'jpeg')
    os.makedirs(osp.join(jpeg, 'images'))
    for subject, name, _, _ in VIDEOS:
        frames = _decode_all(osp.join(raw, subject, 'Videos', name))
        for i in range(0, len(frames), 5):
            cv2.imwrite(
                osp.join(jpeg, 'images',
                         f'{_key(subject, name)}_{i + 1:06d}.jpg'), frames[i],
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    cache_mim = osp.join(base, 'cache_mim')
    cache_openstl = osp.join(base, 'cache_openstl')
    assert h36m_frame_cache.main([raw, cache_mim, '--size', '32']) == 0
    assert h36m_frame_cache.main(
        [raw, cache_openstl, '--protocol', 'openstl', '--size', '48']) == 0
    ann = osp.join(base, 'openstl.txt')
    with open(ann, 'w') as f:
        f.write('\n'.join(OPENSTL_LIST) + '\n')

    rng = np.random.RandomState(0)
    radar = osp.join(base, 'radar')
    for s in range(2):
        folder = osp.join(radar, f'seq_{s:03d}')
        os.makedirs(folder)
        for i, f in enumerate(rng.randint(0, 90, (20, 40, 36))):
            cv2.imwrite(osp.join(folder, f'{i:04d}.png'), f.astype(np.uint8))
    np.save(
        osp.join(radar, 'seq_100.npy'),
        rng.randint(0, 90, (31, 32, 32)).astype(np.uint8))

    meteonet = osp.join(base, 'meteonet', 'NW')
    os.makedirs(meteonet)
    t0 = dt.datetime(2016, 1, 1)
    slots = [s for s in range(130) if s not in (40, 41, 100)]
    old = rng.randint(0, 71, (len(slots), 24, 32)).astype(np.uint8)
    old[:, 0, :] = 255
    old[:, 1, :] = 0
    np.savez(
        osp.join(meteonet, 'reflectivity_old_NW_2016_01.1.npz'),
        data=old,
        dates=np.array([t0 + dt.timedelta(minutes=5 * s) for s in slots],
                       dtype=object),
        miss_dates=np.array([], dtype=object))

    folder = osp.join(base, 'folder')
    write_video(osp.join(folder, 'walk_01.mp4'), 40, (40, 24))
    os.makedirs(osp.join(folder, 'seq_0002'))
    for n in range(1, 31):
        cv2.imwrite(
            osp.join(folder, 'seq_0002', f'{n:06d}.png'),
            rng.randint(0, 256, (24, 32, 3)).astype(np.uint8))
    np.save(
        osp.join(folder, 'clip_3.npy'),
        rng.randint(0, 256, (25, 16, 16), np.uint8))
    np.savez(
        osp.join(folder, 'clip_4.npz'),
        frames=rng.randint(0, 256, (22, 12, 20, 3), np.uint8))
    mmnist = osp.join(base, 'mmnist')
    os.makedirs(mmnist)
    np.save(
        osp.join(mmnist, 'mnist_test_seq.npy'),
        rng.randint(0, 256, (20, 5, 64, 64)).astype(np.uint8))
    folder_ann = osp.join(base, 'folder.txt')
    with open(folder_ann, 'w') as f:
        f.write('walk_01.mp4 3 train\nseq_0002 7 train\nclip_3.npy 2 test\n'
                'clip_4.npz\n')
    return dict(
        raw=raw,
        jpeg=jpeg,
        cache_mim=cache_mim,
        cache_openstl=cache_openstl,
        ann=ann,
        radar=radar,
        meteonet=osp.dirname(meteonet),
        folder=folder,
        folder_ann=folder_ann,
        mmnist=mmnist)


def build(case, r):
    """The dataset of one golden case."""
    h36m = dict(pipeline=MIM_PIPE)
    if case == 'h36m_mim_video_train':
        return H36MDataset(r['raw'], split='train', **h36m)
    if case == 'h36m_mim_video_test':
        return H36MDataset(r['raw'], split='test', **h36m)
    if case == 'h36m_mim_video_opencv':
        return H36MDataset(
            r['raw'],
            split='test',
            backend='opencv',
            pipeline=[dict(type='LoadVideoFrames', backend='opencv')] +
            MIM_PIPE[1:])
    jpeg_pipe = [dict(type='FrameFolderDecode')] + MIM_PIPE[1:]
    # a frame cache holds cropped and resized frames: no geometric steps
    cache_pipe = [dict(type='FrameCacheDecode'), MIM_PIPE[-1]]
    if case == 'h36m_mim_jpeg_test':
        return H36MDataset(
            r['jpeg'],
            split='test',
            source='jpeg',
            image_dir=osp.join(r['jpeg'], 'images'),
            pipeline=jpeg_pipe)
    if case == 'h36m_mim_cache_test':
        return H36MDataset(
            r['raw'],
            split='test',
            source='cache',
            cache_dir=r['cache_mim'],
            pipeline=cache_pipe)
    if case == 'h36m_mim_cache_train':
        return H36MDataset(
            r['raw'],
            split='train',
            source='cache',
            cache_dir=r['cache_mim'],
            pipeline=cache_pipe)
    openstl = dict(protocol='openstl', ann_file=r['ann'])
    if case == 'h36m_openstl_video':
        return H36MDataset(r['raw'], pipeline=OPENSTL_PIPE, **openstl)
    if case == 'h36m_openstl_jpeg':
        return H36MDataset(
            r['jpeg'],
            source='jpeg',
            pipeline=[dict(type='FrameFolderDecode')] + OPENSTL_PIPE[1:],
            **openstl)
    if case == 'h36m_openstl_cache':
        return H36MDataset(
            r['raw'],
            source='cache',
            cache_dir=r['cache_openstl'],
            pipeline=cache_pipe,
            **openstl)
    if case == 'radar':
        return RadarDataset(r['radar'], split='test', pipeline=RADAR_PIPE)
    if case == 'radar_hko_overlap':
        return RadarDataset(
            r['radar'],
            dbz_encoding='hko',
            clip_stride=3,
            frame_interval=1,
            pipeline=RADAR_PIPE)
    if case == 'meteonet':
        return MeteoNetDataset(r['meteonet'], pipeline=METEONET_PIPE)
    if case == 'meteonet_overlap':
        return MeteoNetDataset(
            r['meteonet'], clip_stride=7, pipeline=METEONET_PIPE)
    folder = dict(in_frames=3, out_frames=4, pipeline=FOLDER_PIPE)
    if case == 'folder':
        return VideoFolderDataset(r['folder'], **folder)
    if case == 'folder_interval':
        return VideoFolderDataset(
            r['folder'], frame_interval=2, clip_stride=5, **folder)
    if case == 'folder_list_train':
        return VideoFolderDataset(
            r['folder'], ann_file=r['folder_ann'], split='train', **folder)
    if case == 'folder_list_test':
        return VideoFolderDataset(
            r['folder'], ann_file=r['folder_ann'], split='test', **folder)
    if case == 'vmnist':
        return VMNISTDataset(
            digit_source='glyphs',
            split='test',
            num_samples=40,
            pipeline=[dict(type='PackVideoPredInputs')])
    if case == 'moving_mnist':
        return MovingMNISTDataset(
            digit_source='glyphs',
            num_samples=40,
            pipeline=[dict(type='PackVideoPredInputs')])
    if case == 'moving_mnist_file':
        return MovingMNISTDataset(
            data_root=r['mmnist'],
            ann_file='mnist_test_seq.npy',
            split='test',
            test_mode=True,
            pipeline=[dict(type='PackVideoPredInputs')])
    raise KeyError(case)


def _sha(tensor):
    arr = np.ascontiguousarray(tensor.numpy())
    head = f'{arr.dtype}{arr.shape}'.encode()
    return hashlib.sha256(head + arr.tobytes()).hexdigest()[:16]


def describe(ds):
    """Clip count, then (index, source, frame indices, pixel hash) of the
    first, a middle and the last clip."""
    n = len(ds)
    picks = sorted({0, n // 2, n - 1})
    clips = []
    for i in picks:
        info = ds.get_data_info(i)
        # frame indices in the video's time for every storage of a video
        inds = info.get('video_frame_inds', info.get('frame_inds'))
        inds = None if inds is None else [int(j) for j in inds]
        clips.append((i, info.get('source'), inds, _sha(ds[i]['inputs'])))
    return n, clips


GOLDEN = {
    'h36m_mim_video_train':
    (3, [(0, 'S1_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                     70], '341c6408020a057f'),
         (1, 'S1_Walking_1.55011271', [0, 10, 20, 30, 40, 50, 60,
                                       70], '0940d520658de7fe'),
         (2, 'S1_Walking_1.55011271', [50, 60, 70, 80, 90, 100, 110,
                                       120], '2d4796229e9fb218')]),
    'h36m_mim_video_test':
    (3, [(0, 'S11_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                      70], '5be2114b8eed322c'),
         (1, 'S11_Walking.54138969', [25, 35, 45, 55, 65, 75, 85,
                                      95], '48209fd11004fce0'),
         (2, 'S9_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                     70], '341c6408020a057f')]),
    'h36m_mim_video_opencv':
    (3, [(0, 'S11_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                      70], '5be2114b8eed322c'),
         (1, 'S11_Walking.54138969', [25, 35, 45, 55, 65, 75, 85,
                                      95], '48209fd11004fce0'),
         (2, 'S9_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                     70], '341c6408020a057f')]),
    'h36m_mim_jpeg_test':
    (3, [(0, 'S11_Walking.54138969', [0, 2, 4, 6, 8, 10, 12,
                                      14], '9a1cd55118b3fef6'),
         (1, 'S11_Walking.54138969', [5, 7, 9, 11, 13, 15, 17,
                                      19], '3c53336775446329'),
         (2, 'S9_Walking.54138969', [0, 2, 4, 6, 8, 10, 12,
                                     14], '5b2e67f61958d580')]),
    'h36m_mim_cache_test': (3, [
        (0, 'S11_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                     70], '5be2114b8eed322c'),
        (1, 'S11_Walking.54138969', [25, 35, 45, 55, 65, 75, 85,
                                     95], '48209fd11004fce0'),
        (2, 'S9_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                    70], '341c6408020a057f')
    ]),
    'h36m_mim_cache_train': (3, [
        (0, 'S1_Walking.54138969', [0, 10, 20, 30, 40, 50, 60,
                                    70], '341c6408020a057f'),
        (1, 'S1_Walking_1.55011271', [0, 10, 20, 30, 40, 50, 60,
                                      70], '0940d520658de7fe'),
        (2, 'S1_Walking_1.55011271', [50, 60, 70, 80, 90, 100, 110,
                                      120], '2d4796229e9fb218')
    ]),
    'h36m_openstl_video': (4, [
        (0, 'S9_Walking.54138969', [5, 10, 15, 20, 25, 30, 35,
                                    40], '416a745a36b78c86'),
        (2, 'S9_Directions.54138969', [0, 5, 10, 15, 20, 25, 30,
                                       35], 'f96248c6241110fe'),
        (3, 'S1_Walking_1.55011271', [50, 55, 60, 65, 70, 75, 80,
                                      85], 'dbb6bb42988a4643')
    ]),
    'h36m_openstl_jpeg': (4, [
        (0, 'S9_Walking.54138969', [1, 2, 3, 4, 5, 6, 7,
                                    8], '672bee0e84580c14'),
        (2, 'S9_Directions.54138969', [0, 1, 2, 3, 4, 5, 6,
                                       7], 'de7c5d9e23b3686d'),
        (3, 'S1_Walking_1.55011271', [10, 11, 12, 13, 14, 15, 16,
                                      17], '132ef5ce08e01336')
    ]),
    'h36m_openstl_cache': (4, [
        (0, 'S9_Walking.54138969', [5, 10, 15, 20, 25, 30, 35,
                                    40], '416a745a36b78c86'),
        (2, 'S9_Directions.54138969', [0, 5, 10, 15, 20, 25, 30,
                                       35], 'f96248c6241110fe'),
        (3, 'S1_Walking_1.55011271', [50, 55, 60, 65, 70, 75, 80,
                                      85], 'dbb6bb42988a4643')
    ]),
    'radar': (4, [
        (0, 'seq_000', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                        14], '2b9fbbfcf69fc48e'),
        (2, 'seq_100.npy', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                            14], '8e31109221f4ef65'),
        (3, 'seq_100.npy',
         [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
          29], 'e9c1f8a28a5ab05f')
    ]),
    'radar_hko_overlap': (10, [
        (0, 'seq_000', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                        14], '2b9fbbfcf69fc48e'),
        (5, 'seq_100.npy',
         [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
          17], 'a8174e35a9fd7b58'),
        (9, 'seq_100.npy',
         [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
          29], 'e9c1f8a28a5ab05f')
    ]),
    'meteonet': (2, [
        (0, 'reflectivity_old_NW_2016_01.1.npz',
         [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
          28], 'd713fc93ab44aebc'),
        (1, 'reflectivity_old_NW_2016_01.1.npz',
         [56, 58, 60, 62, 64, 66, 68, 70, 72, 74, 76, 78, 80, 82,
          84], '409785bff710014e')
    ]),
    'meteonet_overlap': (7, [
        (0, 'reflectivity_old_NW_2016_01.1.npz',
         [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
          28], 'd713fc93ab44aebc'),
        (3, 'reflectivity_old_NW_2016_01.1.npz',
         [47, 49, 51, 53, 55, 57, 59, 61, 63, 65, 67, 69, 71, 73,
          75], 'c7021b688cf95c1a'),
        (6, 'reflectivity_old_NW_2016_01.1.npz',
         [68, 70, 72, 74, 76, 78, 80, 82, 84, 86, 88, 90, 92, 94,
          96], '6b6dcdc4d18fe337')
    ]),
    'folder': (15, [(0, 'clip_3.npy', [0, 1, 2, 3, 4, 5,
                                       6], 'b6e12506ff964524'),
                    (7, 'seq_0002', [7, 8, 9, 10, 11, 12,
                                     13], '0f982831c69627c5'),
                    (14, 'walk_01.mp4', [28, 29, 30, 31, 32, 33,
                                         34], '70e2bd8e122679b0')]),
    'folder_interval': (15, [(0, 'clip_3.npy', [0, 2, 4, 6, 8, 10,
                                                12], 'ed57b2c162606499'),
                             (7, 'seq_0002', [10, 12, 14, 16, 18, 20,
                                              22], 'ea82c6d6f9d82cb6'),
                             (14, 'walk_01.mp4', [25, 27, 29, 31, 33, 35,
                                                  37], 'cad5421d0412f413')]),
    'folder_list_train': (5, [(0, 'walk_01.mp4', [3, 4, 5, 6, 7, 8,
                                                  9], '9bca0e9840a8a9d0'),
                              (2, 'clip_4.npz', [0, 1, 2, 3, 4, 5,
                                                 6], '9d544cb7f3116d01'),
                              (4, 'clip_4.npz', [14, 15, 16, 17, 18, 19,
                                                 20], 'bf9f7621cf4dc380')]),
    'folder_list_test': (4, [(0, 'clip_3.npy', [2, 3, 4, 5, 6, 7,
                                                8], '327b75ab4d8cd88a'),
                             (2, 'clip_4.npz', [7, 8, 9, 10, 11,
                                                12, 13], '1d9aab1bf3eab162'),
                             (3, 'clip_4.npz', [14, 15, 16, 17, 18, 19,
                                                20], 'bf9f7621cf4dc380')]),
    'vmnist': (40, [(0, None, None, '33c8102d80b8701a'),
                    (20, None, None, '28072f6f074c3dd3'),
                    (39, None, None, '3837c9d522c98e1e')]),
    'moving_mnist': (40, [(0, None, None, '3b4c2689a2b3964f'),
                          (20, None, None, '02c7668777043731'),
                          (39, None, None, 'abfdd98cfcc9cb1a')]),
    'moving_mnist_file': (5, [(0, None, None, '8e92f547186b862c'),
                              (2, None, None, '43075e267ed63b97'),
                              (4, None, None, '5585bc4845251e66')]),
}

CASES = [
    'h36m_mim_video_train', 'h36m_mim_video_test', 'h36m_mim_video_opencv',
    'h36m_mim_jpeg_test', 'h36m_mim_cache_test', 'h36m_mim_cache_train',
    'h36m_openstl_video', 'h36m_openstl_jpeg', 'h36m_openstl_cache', 'radar',
    'radar_hko_overlap', 'meteonet', 'meteonet_overlap', 'folder',
    'folder_interval', 'folder_list_train', 'folder_list_test', 'vmnist',
    'moving_mnist', 'moving_mnist_file'
]


@pytest.mark.parametrize('case', CASES)
def test_golden(roots, case):
    assert describe(build(case, roots)) == GOLDEN[case]


if __name__ == '__main__':
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        r = make_roots(tmp)
        for case in CASES:
            print(f'    {case!r}: {describe(build(case, r))!r},')
