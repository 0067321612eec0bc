# Copyright (c) mmvp contributors. All rights reserved.
"""tools/dataset_converters/h36m_frame_cache.py and the cache source of
H36MDataset: the cached clips equal the decoded ones, writes are atomic
and resumable, the record's geometry is checked against the config (and
against a pipeline that would repeat it), older records still read, and
the loader benchmark runs."""
import json
import math
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from test_h36m import FIXTURE_VIDEOS, PIPELINE, write_h36m_tree, write_video

from mmvp.datasets import H36MDataset, InvalidSourceError
from mmvp.registry import DATASETS

torch.set_num_threads(1)

CACHE_PIPELINE = [
    dict(type='FrameCacheDecode'),
    dict(type='PackVideoPredInputs')
]

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
import benchmark_loader  # noqa: E402
import h36m_frame_cache  # noqa: E402


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    base = tmp_path_factory.mktemp('cache')
    raw = write_h36m_tree(base / 'raw')
    cache = str(base / 'cache')
    assert h36m_frame_cache.main([raw, cache]) == 0
    return raw, cache


def test_cache_files_and_records(roots):
    raw, cache = roots
    walking = [(s, n, f) for s, n, f, _ in FIXTURE_VIDEOS
               if n.startswith('Walking.') or n.startswith('Walking ')]
    files = sorted(os.listdir(cache))
    assert len(files) == 2 * len(walking)  # .npy + .json, nothing else
    for subject, name, num in walking:
        action, camera, _ = name.rsplit('.', 2)
        key = f"{subject}_{action.replace(' ', '_')}.{camera}"
        with open(osp.join(cache, f'{key}.json')) as f:
            rec = json.load(f)
        arr = np.load(osp.join(cache, f'{key}.npy'), mmap_mode='r')
        assert arr.dtype == np.uint8
        assert arr.shape == (math.ceil(num / 5), 128, 128, 3)
        assert rec['num_raw_frames'] == num and rec['raw_step'] == 5
        assert rec['video'] == osp.join(subject, 'Videos', name)
        assert rec['version'] == 2 and 'ops' not in rec
        assert rec['cache_params'] == dict(
            crop_border_ratio=0.25, scale=[128, 128], interpolation='linear')


@pytest.mark.parametrize('split', ['train', 'test'])
def test_cache_clips_equal_video_clips(roots, split):
    raw, cache = roots
    video = H36MDataset(raw, split=split, pipeline=PIPELINE)
    cached = H36MDataset(
        raw,
        split=split,
        source='cache',
        cache_dir=cache,
        cache_params=dict(
            crop_border_ratio=0.25, scale=128, interpolation='linear'),
        pipeline=CACHE_PIPELINE)
    assert len(cached) == len(video) > 0
    for i in range(len(video)):
        a, b = video.get_data_info(i), cached.get_data_info(i)
        assert a['source'] == b['source']
        # the clip's frames in video time, and the cache rows that hold them
        assert a['frame_inds'] == b['video_frame_inds']
        assert list(b['frame_inds']) == [j // 5 for j in a['frame_inds']]
        assert torch.equal(video[i]['inputs'], cached[i]['inputs'])


def test_rerun_skips_and_overwrite_rewrites(roots, capsys):
    raw, cache = roots
    npy = osp.join(cache, 'S9_Walking.54138969.npy')
    mtime = os.stat(npy).st_mtime_ns
    assert h36m_frame_cache.main([raw, cache, '--subjects', 'S9']) == 0
    assert '0 written, 2 already cached' in capsys.readouterr().out
    assert os.stat(npy).st_mtime_ns == mtime
    assert h36m_frame_cache.main(
        [raw, cache, '--subjects', 'S9', '--overwrite']) == 0
    assert '2 written' in capsys.readouterr().out


def test_config_must_match_the_cache(roots, tmp_path):
    raw, cache = roots
    # an old cache config repeats the crop / resize the cache applied
    with pytest.raises(
            ValueError,
            match=r'already applied.*remove '
            r'CenterCropFrames\(border_ratio=0.25\)'):
        H36MDataset(
            raw,
            split='test',
            source='cache',
            cache_dir=cache,
            pipeline=PIPELINE)
    # the declared geometry differs from the record's
    with pytest.raises(
            ValueError,
            match=r'S11_Walking.54138969.json: the '
            r'cache was made with .*declares cache_params'):
        H36MDataset(
            raw,
            split='test',
            source='cache',
            cache_dir=cache,
            cache_params=dict(
                crop_border_ratio=0.25, scale=64, interpolation='linear'),
            pipeline=CACHE_PIPELINE)
    # records of format 1 listed the steps as text; they still read
    old = tmp_path / 'old'
    old.mkdir()
    key = 'S9_Walking.54138969'
    with open(osp.join(cache, f'{key}.json')) as f:
        rec = json.load(f)
    del rec['cache_params']
    rec.update(
        version=1,
        ops=[
            'CenterCropFrames(border_ratio=0.25)',
            "ResizeFrames(scale=(128, 128), interpolation='linear')"
        ])
    (old / f'{key}.json').write_text(json.dumps(rec))
    os.symlink(osp.join(cache, f'{key}.npy'), old / f'{key}.npy')
    ds = H36MDataset(
        raw,
        split='test',
        source='cache',
        cache_dir=str(old),
        cache_params=dict(
            crop_border_ratio=0.25, scale=[128, 128], interpolation='linear'),
        pipeline=CACHE_PIPELINE)
    assert ds.sources[0]['cache_params']['scale'] == [128, 128]
    assert ds[0]['inputs'].shape == (8, 3, 128, 128)


def test_cache_source_errors(tmp_path, roots):
    _, cache = roots
    with pytest.raises(FileNotFoundError, match='frame cache not found'):
        H36MDataset(
            split='test', source='cache', cache_dir=str(tmp_path / 'nope'))
    with pytest.raises(ValueError, match='no clip found in cached videos'):
        H36MDataset(split='test', source='cache', cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match='needs cache_dir'):
        H36MDataset(split='test', source='cache')
    broken = tmp_path / 'broken'
    broken.mkdir()
    with open(osp.join(cache, 'S9_Walking.54138969.json')) as f:
        rec = json.load(f)
    (broken / 'S9_Walking.54138969.json').write_text(json.dumps(rec))
    with pytest.raises(
            InvalidSourceError, match=r'S9_Walking.54138969.npy: .*not found'):
        H36MDataset(split='test', source='cache', cache_dir=str(broken))


def test_tool_reports_bad_videos(tmp_path, capsys):
    raw = tmp_path / 'raw'
    write_video(raw / 'S9' / 'Videos' / 'Walking.54138969.mp4', 71)
    (raw / 'S9' / 'Videos' / 'Walking 1.55011271.mp4').write_text('x' * 99)
    assert h36m_frame_cache.main([str(raw), str(tmp_path / 'c')]) == 1
    out = capsys.readouterr()
    assert 'Walking 1.55011271.mp4: cannot open as a video' in out.out
    assert '--skip-invalid' in out.err
    assert not [n for n in os.listdir(tmp_path / 'c') if 'tmp' in n]
    assert h36m_frame_cache.main(
        [str(raw), str(tmp_path / 'c'), '--skip-invalid']) == 0
    assert sorted(os.listdir(tmp_path / 'c')) == [
        'S9_Walking.54138969.json', 'S9_Walking.54138969.npy'
    ]


def test_openstl_cache(roots, tmp_path):
    raw, _ = roots
    cache = str(tmp_path / 'c256')
    assert h36m_frame_cache.main(
        [raw, cache, '--protocol', 'openstl', '--subjects', 'S9']) == 0
    names = sorted(n[:-5] for n in os.listdir(cache) if n.endswith('.json'))
    # all actions, full frame at 256
    assert names == [
        'S9_Directions.54138969', 'S9_Walking.54138969',
        'S9_Walking_1.55011271'
    ]
    ann = tmp_path / 'test.txt'
    ann.write_text('images/S9_Directions.54138969_,11,81\n'
                   'images/S9_Walking.54138969_,1,71\n')
    pipe = [
        dict(type='DecordDecode'),
        dict(type='ResizeFrames', scale=256, interpolation='linear'),
        dict(type='PackVideoPredInputs'),
    ]
    kw = dict(protocol='openstl', ann_file=str(ann))
    video = H36MDataset(raw, pipeline=pipe, **kw)
    cached = H36MDataset(
        raw,
        source='cache',
        cache_dir=cache,
        cache_params=dict(
            crop_border_ratio=None, scale=256, interpolation='linear'),
        pipeline=CACHE_PIPELINE,
        **kw)
    assert len(video) == len(cached) == 2
    for i in range(2):
        assert torch.equal(video[i]['inputs'], cached[i]['inputs'])
        assert video[i]['inputs'].shape == (8, 3, 256, 256)


def test_benchmark_loader_runs(capsys):
    code = benchmark_loader.main([
        '--synthetic-size', '128', '128', '--synthetic-frames', '80',
        '--num-clips', '2', '--warmup', '1', '--batch-size', '1'
    ])
    assert code == 0
    out = capsys.readouterr().out
    rows = {
        line.split()[0]: line.split()
        for line in out.splitlines()
        if line.split() and line.split()[0] in ('decord', 'opencv', 'cache')
    }
    assert sorted(rows) == ['cache', 'decord', 'opencv']
    for row in rows.values():
        assert int(row[2]) == 2 and float(row[4]) > 0  # clips timed, clips/s


def test_cache_config_reads_the_video_config_clips(roots):
    """The dataset configs of the two storages give the same samples."""
    raw, cache = roots
    base = osp.join(REPO, 'configs', '_base_', 'datasets')
    video_cfg = Config.fromfile(osp.join(base, 'h36m_mim_walking128_4to4.py'))
    cache_cfg = Config.fromfile(
        osp.join(base, 'h36m_mim_walking128_4to4_cache.py'))
    video_cfg.test_dataloader.dataset.data_root = raw
    cache_cfg.test_dataloader.dataset.update(data_root=raw, cache_dir=cache)
    assert [t['type'] for t in cache_cfg.test_dataloader.dataset.pipeline
            ] == ['FrameCacheDecode', 'PackVideoPredInputs']
    video = DATASETS.build(video_cfg.test_dataloader.dataset)
    cached = DATASETS.build(cache_cfg.test_dataloader.dataset)
    assert len(video) == len(cached) > 0
    for i in (0, len(video) - 1):
        assert torch.equal(video[i]['inputs'], cached[i]['inputs'])
