# Copyright (c) mmvp contributors. All rights reserved.
"""The generic ClipDataset: protocols from the registry, clip list files
written by ``write_clip_list.py``, the error when every refetched clip is
unreadable, and videos whose frame rate differs from the protocol's."""
import json
import logging
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

import mmvp.datasets.protocols.base as protocol_base
from mmvp.datasets import (CLIP_PROTOCOLS, ClipDataset, H36MDataset,
                           VideoFolderDataset, VideoReadError)
from mmvp.registry import DATASETS

from test_decode_transforms import upload  # isort: skip
from test_h36m import write_video  # isort: skip

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
import h36m_frame_cache  # noqa: E402
import write_clip_list  # noqa: E402

PIPE = [dict(type='LoadVideoFrames'), dict(type='PackVideoPredInputs')]


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / 'data'
    write_video(root / 'a.mp4', 30, (32, 24))
    (root / 'seq').mkdir()
    rng = np.random.RandomState(0)
    for n in range(1, 13):
        cv2.imwrite(
            str(root / 'seq' / f'{n:04d}.png'),
            rng.randint(0, 256, (24, 32, 3)).astype(np.uint8))
    np.save(root / 'c.npy', rng.randint(0, 256, (9, 8, 8), np.uint8))
    return root


def test_protocol_from_config_equals_thin_dataset(folder):
    assert {
        'VideoFolderProtocol', 'H36MMimProtocol', 'H36MOpenSTLProtocol',
        'MeteoNetProtocol'
    } <= set(CLIP_PROTOCOLS.module_dict)
    generic = DATASETS.build(
        dict(
            type='ClipDataset',
            data_root=str(folder),
            protocol=dict(type='VideoFolderProtocol', frame_interval=2),
            in_frames=2,
            out_frames=2,
            pipeline=PIPE))
    thin = VideoFolderDataset(
        str(folder), frame_interval=2, in_frames=2, out_frames=2)
    assert isinstance(thin, ClipDataset)
    assert len(generic) == len(thin) == 6
    for i in range(len(thin)):
        a, b = generic.get_data_info(i), thin.get_data_info(i)
        assert (a['source'], a['frame_inds'],
                a['storage']) == (b['source'], b['frame_inds'], b['storage'])
    assert [generic.get_data_info(i)['storage']
            for i in (0, 4, 5)] == ['video', 'array', 'frames']
    assert generic.metainfo['protocol'] == 'video_folder'
    assert generic[5]['inputs'].shape == (4, 3, 24, 32)


def test_clip_list_file_roundtrip(folder, tmp_path):
    cfg = Config(
        dict(
            train_dataloader=dict(
                dataset=dict(
                    type='VideoFolderDataset',
                    data_root=str(folder),
                    in_frames=2,
                    out_frames=3,
                    split='train',
                    pipeline=PIPE))))
    cfg_file = str(tmp_path / 'cfg.py')
    cfg.dump(cfg_file)
    out = str(tmp_path / 'clips.json')
    assert write_clip_list.main([cfg_file, out]) == 0
    with open(out) as f:
        record = json.load(f)
    assert record['sources'][0]['path'] == 'a.mp4'  # relative to data_root
    scanned = DATASETS.build(cfg.train_dataloader.dataset)
    listed = VideoFolderDataset(
        str(folder),
        in_frames=2,
        out_frames=3,
        split='train',
        clip_list=out,
        pipeline=PIPE)
    assert len(listed) == len(scanned) == len(record['clips']) == 9
    for i in (0, 4, 8):
        a, b = scanned.get_data_info(i), listed.get_data_info(i)
        assert a['filename'] == b['filename']
        assert a['frame_inds'] == b['frame_inds']
        assert (scanned[i]['inputs'] == listed[i]['inputs']).all()
    with pytest.raises(
            ValueError,
            match=r'clips.json: clip list of '
            r'out_frames=3, this dataset has out_frames=4'):
        VideoFolderDataset(
            str(folder),
            in_frames=2,
            out_frames=4,
            split='train',
            clip_list=out)


def test_all_refetched_clips_unreadable_names_the_files(folder):
    ds = VideoFolderDataset(
        str(folder),
        in_frames=2,
        out_frames=2,
        skip_invalid=True,
        max_refetch=4,
        pipeline=PIPE)
    # every file breaks after indexing
    for src in ds.sources:
        if src['storage'] == 'frames':
            for n in src['names']:
                with open(osp.join(src['path'], str(n)), 'wb') as f:
                    f.write(b'not a png')
        else:
            with open(src['path'], 'wb') as f:
                f.write(b'broken')
    with pytest.raises(VideoReadError) as exc:
        ds[0]
    msg = str(exc.value)
    assert 'Cannot find valid' not in msg
    assert '5 clips in a row could not be read' in msg
    assert any(name in msg for name in ('a.mp4', 'c.npy', '.png'))


@pytest.mark.parametrize('fps,step,warned', [(100, 10, 'one frame in 2'),
                                             (25, 5, 'not an integer')])
def test_h36m_video_of_another_frame_rate(tmp_path, monkeypatch, fps, step,
                                          warned):
    path = write_video(
        tmp_path / 'S9' / 'Videos' / 'Walking.54138969.mp4',
        160, (32, 32),
        fps=fps)
    logged = []
    monkeypatch.setattr(protocol_base, '_FPS_WARNED', set())
    monkeypatch.setattr(
        protocol_base,
        'print_log',
        lambda msg, logger=None, level=logging.INFO: logged.append(msg))
    ds = H36MDataset(str(tmp_path), split='test')
    # sampled by time: a stored image every 0.1 s, clip frames 0.2 s apart
    assert ds.get_data_info(0)['frame_inds'] == [
        2 * step * k for k in range(8)
    ]
    assert len(logged) == 1
    assert path in logged[0] and f'{fps} fps' in logged[0]
    assert warned in logged[0]
    H36MDataset(str(tmp_path), split='test')
    assert len(logged) == 1  # once per file
    # the frame cache keeps the same instants
    cache = str(tmp_path / 'cache')
    assert h36m_frame_cache.main([str(tmp_path), cache, '--size', '16']) == 0
    cached = H36MDataset(
        str(tmp_path),
        split='test',
        source='cache',
        cache_dir=cache,
        pipeline=[
            dict(type='FrameCacheDecode'),
            dict(type='PackVideoPredInputs')
        ])
    video = H36MDataset(
        str(tmp_path),
        split='test',
        pipeline=[
            dict(type='DecordDecode'),
            dict(type='CenterCropFrames', border_ratio=0.25),
            dict(type='ResizeFrames', scale=16),
            dict(type='PackVideoPredInputs')
        ])
    assert len(cached) == len(video) > 0
    assert cached.get_data_info(0)['video_frame_inds'] == video.get_data_info(
        0)['frame_inds']
    assert (cached[0]['inputs'] == video[0]['inputs']).all()


def test_remote_data_root_from_a_clip_list(folder, tmp_path):
    """Scan locally once, then read the clip list and the frames from a
    file backend (an in-memory one standing in for S3)."""
    local = VideoFolderDataset(
        str(folder), in_frames=2, out_frames=2, pipeline=PIPE)
    out = str(tmp_path / 'clips.json')
    with open(out, 'w') as f:
        json.dump(local.clip_list_dict(), f)
    base = 'memfs://bucket/mirror'
    upload(out, f'{base}/clips.json')
    for src in local.sources:
        rel = osp.relpath(src['path'], str(folder))
        if src['storage'] == 'frames':
            for n in src['names']:
                upload(osp.join(src['path'], str(n)), f'{base}/{rel}/{n}')
        else:
            upload(src['path'], f'{base}/{rel}')
    remote = VideoFolderDataset(
        base, in_frames=2, out_frames=2, clip_list='clips.json', pipeline=PIPE)
    assert len(remote) == len(local) == 12
    assert remote.get_data_info(0)['filename'] == f'{base}/a.mp4'
    for i in (0, 8, 11):
        assert (remote[i]['inputs'] == local[i]['inputs']).all()
