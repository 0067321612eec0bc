# Copyright (c) mmvp contributors. All rights reserved.
"""Decode transforms, one per storage format: the same frames as the
readers of :mod:`mmvp.datasets.video_io`, read from local files and from
an mmengine file backend (an in-memory one registered here, standing in
for S3 / HTTP), plus the interface errors and ``LoadVideoFrames``."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.fileio import BaseStorageBackend, register_backend

from mmvp.datasets import VideoReadError
from mmvp.datasets.transforms import (DECODE_TRANSFORMS, ArrayDecode,
                                      DecordDecode, FrameCacheDecode,
                                      FrameFolderDecode, LoadVideoFrames,
                                      OpenCVDecode)
from mmvp.datasets.video_io import read_images, read_video_frames
from mmvp.registry import TRANSFORMS

from test_h36m import write_video  # isort: skip


class MemoryBackend(BaseStorageBackend):
    """Files served from a dict, under ``memfs://``."""
    files = {}

    def __init__(self, **kwargs):
        pass

    def get(self, filepath):
        if filepath not in self.files:
            raise FileNotFoundError(filepath)
        return self.files[filepath]

    def get_text(self, filepath, encoding='utf-8'):
        return self.get(filepath).decode(encoding)

    def join_path(self, filepath, *filepaths):
        return '/'.join([filepath.rstrip('/')] + list(filepaths))

    def list_dir_or_file(self,
                         dir_path,
                         list_dir=True,
                         list_file=True,
                         suffix=None,
                         recursive=False):
        prefix = dir_path.rstrip('/') + '/'
        for k in self.files:
            if k.startswith(prefix) and '/' not in k[len(prefix):]:
                yield k[len(prefix):]


register_backend('memfs', MemoryBackend, prefixes='memfs', force=True)


def upload(local, remote):
    with open(local, 'rb') as f:
        MemoryBackend.files[remote] = f.read()
    return remote


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('decode')
    video = write_video(root / 'v.mp4', 30, (40, 24))
    folder = root / 'frames'
    folder.mkdir()
    rng = np.random.RandomState(0)
    for n in (1, 2, 9, 10, 11):  # natural order: 9 before 10
        cv2.imwrite(
            str(folder / f'img_{n}.png'),
            rng.randint(0, 256, (12, 10, 3)).astype(np.uint8))
    arr = rng.randint(0, 256, (9, 6, 5), np.uint8)
    np.save(root / 'a.npy', arr)
    np.savez(root / 'a.npz', x=arr[..., None].repeat(3, -1))
    cache = rng.randint(0, 256, (7, 8, 8, 3), np.uint8)
    np.save(root / 'cache.npy', cache)
    return dict(
        video=video,
        folder=str(folder),
        names=[f'img_{n}.png' for n in (1, 2, 9, 10, 11)],
        npy=str(root / 'a.npy'),
        npz=str(root / 'a.npz'),
        arr=arr,
        cache=str(root / 'cache.npy'),
        cache_arr=cache)


def test_registered_names():
    assert DECODE_TRANSFORMS == ('DecordDecode', 'OpenCVDecode',
                                 'FrameFolderDecode', 'FrameCacheDecode',
                                 'ArrayDecode')
    for name in DECODE_TRANSFORMS:
        assert TRANSFORMS.get(name) is not None


@pytest.mark.parametrize('cls', [DecordDecode, OpenCVDecode])
def test_video(files, cls):
    inds = np.array([7, 0, 7, 29])
    out = cls()(dict(filename=files['video'], frame_inds=inds))
    want = read_video_frames(files['video'], inds, 'opencv')
    np.testing.assert_array_equal(out['frames'], want)
    assert out['ori_shape'] == out['img_shape'] == (24, 40)
    gray = cls(
        color_type='grayscale')(dict(filename=files['video'],
                                     frame_inds=inds))['frames']
    assert gray.shape == (4, 24, 40, 1)
    np.testing.assert_array_equal(gray[1, ..., 0],
                                  cv2.cvtColor(want[1], cv2.COLOR_RGB2GRAY))
    with pytest.raises(VideoReadError, match='v.mp4.*30 frames|v.mp4.*30'):
        cls()(dict(filename=files['video'], frame_inds=np.array([30])))


def test_frame_folder(files):
    paths = [osp.join(files['folder'], n) for n in files['names']]
    want = read_images([paths[3], paths[2]])
    # natural order without frame_paths: img_10 is position 3
    out = FrameFolderDecode()(
        dict(filename=files['folder'], frame_inds=np.array([3, 2])))
    np.testing.assert_array_equal(out['frames'], want)
    out = FrameFolderDecode()(
        dict(
            filename=files['folder'],
            frame_paths=paths,
            frame_inds=np.array([3, 2])))
    np.testing.assert_array_equal(out['frames'], want)
    with pytest.raises(VideoReadError, match='frames.*has 5 frames'):
        FrameFolderDecode()(
            dict(filename=files['folder'], frame_inds=np.array([5])))


def test_cache_and_arrays(files):
    out = FrameCacheDecode()(
        dict(filename=files['cache'], frame_inds=np.array([6, 1])))
    np.testing.assert_array_equal(out['frames'], files['cache_arr'][[6, 1]])
    out = ArrayDecode(color_type='grayscale')(
        dict(filename=files['npy'], frame_inds=np.array([2, 3])))
    np.testing.assert_array_equal(out['frames'][..., 0], files['arr'][[2, 3]])
    out = ArrayDecode()(
        dict(filename=files['npz'], array_key='x', frame_inds=np.array([8])))
    assert out['frames'].shape == (1, 6, 5, 3)
    np.testing.assert_array_equal(out['frames'][0, ..., 1], files['arr'][8])
    with pytest.raises(VideoReadError, match='cache.npy.*holds 7'):
        FrameCacheDecode()(
            dict(filename=files['cache'], frame_inds=np.array([7])))
    with pytest.raises(VideoReadError, match='made with.*declares'):
        FrameCacheDecode()(
            dict(
                filename=files['cache'],
                frame_inds=np.array([0]),
                cache_record=dict(size=8),
                cache_params=dict(size=16)))


def test_remote_storage_reads_the_same(files):
    base = 'memfs://bucket'
    video = upload(files['video'], f'{base}/v.mp4')
    for n in files['names']:
        upload(osp.join(files['folder'], n), f'{base}/frames/{n}')
    cache = upload(files['cache'], f'{base}/cache.npy')
    npz = upload(files['npz'], f'{base}/a.npz')
    cases = [
        (DecordDecode, video, files['video'], {}),
        (OpenCVDecode, video, files['video'], {}),
        (FrameFolderDecode, f'{base}/frames', files['folder'], {}),
        (FrameCacheDecode, cache, files['cache'], {}),
        (ArrayDecode, npz, files['npz'], dict(array_key='x')),
    ]
    for cls, remote, local, extra in cases:
        inds = np.array([3, 0, 1])
        a = cls()(dict(filename=remote, frame_inds=inds, **extra))
        b = cls()(dict(filename=local, frame_inds=inds, **extra))
        np.testing.assert_array_equal(a['frames'], b['frames'])
    with pytest.raises(VideoReadError, match='memfs://bucket/none.mp4'):
        DecordDecode()(
            dict(filename=f'{base}/none.mp4', frame_inds=np.array([0])))


def test_bad_interface(files):
    with pytest.raises(KeyError, match="'filename' and 'frame_inds'"):
        ArrayDecode()(dict(frame_inds=np.array([0])))
    with pytest.raises(ValueError, match='a.npy: frame_inds must be'):
        ArrayDecode()(dict(filename=files['npy'], frame_inds=[[0, 1]]))
    with pytest.raises(ValueError, match='color_type must be one of'):
        DecordDecode(color_type='rgb')


def test_load_video_frames_delegates_by_storage(files):
    load = LoadVideoFrames(backend='opencv')
    assert isinstance(load.decoder('video'), OpenCVDecode)
    out = load(
        dict(
            storage='cache', filename=files['cache'],
            frame_inds=np.array([2])))
    np.testing.assert_array_equal(out['frames'], files['cache_arr'][[2]])
    # keys of older datasets: source_type, cache_file / cache_inds
    out = LoadVideoFrames()(
        dict(
            source_type='cache', cache_file=files['cache'], cache_inds=[4, 5]))
    np.testing.assert_array_equal(out['frames'], files['cache_arr'][[4, 5]])
    with pytest.raises(KeyError, match=r"\['storage'\] must be one of"):
        LoadVideoFrames()(dict(storage='tape', filename='x'))
