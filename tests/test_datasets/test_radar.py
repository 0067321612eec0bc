# Copyright (c) mmvp contributors. All rights reserved.
"""Radar datasets: dBZ-encoded frame sequences (encoding in the metainfo
and samples) and MeteoNet reflectivity periods in their own .npz format
(windows, normalisation, missing values, safe date reading)."""
import datetime as dt
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvp.datasets import (InvalidSourceError, MeteoNetDataset, RadarDataset,
                           VideoReadError, load_meteonet_dates)
from mmvp.datasets.dbz_encoding import pixel_to_dbz
from mmvp.registry import DATASETS
from mmvp.utils import register_all_modules

torch.set_num_threads(1)
register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
META_KEYS = ('sample_idx', 'in_frames', 'out_frames', 'source', 'start_frame',
             'dbz_encoding')


# ----------------------------------------------------------------------
# dBZ-encoded sequences
# ----------------------------------------------------------------------
@pytest.fixture(scope='module')
def radar_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('radar')
    rng = np.random.RandomState(0)
    seqs = {}
    for split, n_seq in (('train', 2), ('test', 1)):
        for s in range(n_seq):
            frames = rng.randint(0, 90, (20, 96, 80)).astype(np.uint8)
            folder = root / split / f'seq_{s:03d}'
            folder.mkdir(parents=True)
            for i, f in enumerate(frames):
                cv2.imwrite(str(folder / f'{i:04d}.png'), f)
            seqs[(split, s)] = frames
    arr = rng.randint(0, 90, (16, 64, 64)).astype(np.uint8)
    np.save(root / 'test' / 'seq_100.npy', arr)
    seqs[('test', 100)] = arr
    return root, seqs


def test_radar_sequences_from_the_config(radar_root):
    root, seqs = radar_root
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'predrnn_radar.py'))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = str(root / 'test')
    ds = DATASETS.build(ds_cfg)
    assert ds.metainfo['dbz_encoding'] == 'motionrnn'
    assert ds.metainfo['in_frames'] == 5 and ds.metainfo['out_frames'] == 10
    assert [ds.get_data_info(i)['source'] for i in range(len(ds))
            ] == ['seq_000',
                  'seq_100.npy']  # 20 and 16 frames: one 15-frame clip each
    for i, key in enumerate([('test', 0), ('test', 100)]):
        out = ds[i]
        assert out['inputs'].shape == (15, 1, 64, 64)
        assert out['data_samples'].metainfo['dbz_encoding'] == 'motionrnn'
        want = np.stack([
            cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA)
            for f in seqs[key][:15]
        ])
        np.testing.assert_array_equal(out['inputs'][:, 0].numpy(), want)
    # pixels p mean dBZ = p / 2 + 15 in this encoding
    # (dataset_protocols.md#dbz-encodings)
    x = ds[0]['inputs'].float() / 255
    p = ds[0]['inputs'].float()
    assert torch.allclose(pixel_to_dbz(x, 'motionrnn'), p / 2 + 15)


def test_radar_encoding_and_strides(radar_root):
    root, _ = radar_root
    ds = RadarDataset(
        str(root / 'train'),
        dbz_encoding='hko',
        in_frames=2,
        out_frames=3,
        frame_interval=2,
        clip_stride=3,
        pipeline=[
            dict(type='LoadVideoFrames', color_type='grayscale'),
            dict(type='PackVideoPredInputs', meta_keys=META_KEYS)
        ])
    assert ds.metainfo['dbz_encoding'] == 'hko'
    # 20 frames, span 9: starts 0, 3, ..., 9 per sequence
    assert len(ds) == 2 * 4
    assert ds.get_data_info(1)['frame_inds'] == [3, 5, 7, 9, 11]
    assert ds[0]['data_samples'].metainfo['dbz_encoding'] == 'hko'
    with pytest.raises(ValueError, match='unknown dBZ encoding'):
        RadarDataset(str(root / 'train'), dbz_encoding='dbz')


def test_radar_bad_sequences(tmp_path):
    good = tmp_path / 'seq_a'
    good.mkdir()
    for i in range(15):
        cv2.imwrite(str(good / f'{i:04d}.png'), np.zeros((8, 8), np.uint8))
    np.save(tmp_path / 'float.npy', np.zeros((20, 8, 8), np.float32))
    with pytest.raises(
            InvalidSourceError,
            match='float.npy: float32 array; uint8 frames'):
        RadarDataset(str(tmp_path))
    ds = RadarDataset(str(tmp_path), skip_invalid=True)
    assert len(ds) == 1 and ds.num_invalid == 1


# ----------------------------------------------------------------------
# MeteoNet
# ----------------------------------------------------------------------
T0 = dt.datetime(2016, 1, 1)


def write_period(path,
                 values,
                 slots,
                 compressed=False,
                 dates_dtype=object,
                 missing=()):
    """A MeteoNet-style period: ``data`` [N, H, W], ``dates`` (one per map,
    5-min slots), ``miss_dates``."""
    dates = [T0 + dt.timedelta(minutes=5 * s) for s in slots]
    miss = [T0 + dt.timedelta(minutes=5 * s) for s in missing]
    if dates_dtype is object:
        dates = np.array(dates, dtype=object)
    else:
        dates = np.array(dates, dtype='datetime64[s]')
    save = np.savez_compressed if compressed else np.savez
    save(
        str(path),
        data=values,
        dates=dates,
        miss_dates=np.array(miss, dtype=object))
    return str(path)


def expected_windows(slots, clip_len=15, step=2, stride=None):
    """Window starts (data indices) computed here: the grid t = 0, S, ...
    of 5-min slots from the first map; valid if all `span` slots exist."""
    span = step * (clip_len - 1) + 1
    stride = stride or span
    present = {s: i for i, s in enumerate(slots)}
    starts = []
    t = 0
    while t + span - 1 <= slots[-1]:
        if all(t + j in present for j in range(span)):
            starts.append(present[t])
        t += stride
    return starts


@pytest.fixture(scope='module')
def meteonet(tmp_path_factory):
    root = tmp_path_factory.mktemp('meteonet') / 'NW'
    root.mkdir()
    rng = np.random.RandomState(0)
    missing = (40, 41, 100)
    slots1 = [s for s in range(130) if s not in missing]
    old = rng.randint(0, 71, (len(slots1), 24, 32)).astype(np.uint8)
    old[:, 0, :] = 255  # missing pixels
    old[:, 1, :] = 0  # level 0: "< 8 dBZ"
    write_period(
        root / 'reflectivity_old_NW_2016_01.1.npz',
        old,
        slots1,
        missing=missing)
    slots2 = list(range(60))
    new = rng.randint(-100, 600, (60, 24, 32)).astype(np.int16)
    new[:, 0, :3] = -200
    write_period(
        root / 'reflectivity_new_NW_2018_05.1.npz',
        new,
        slots2,
        compressed=True,
        dates_dtype='datetime64')
    return root, dict(old=(old, slots1), new=(new, slots2))


PIPE = [
    dict(type='LoadVideoFrames', out_key='radar_values'),
    dict(type='EncodeRadarFrames'),
    dict(type='PackVideoPredInputs', meta_keys=META_KEYS),
]


def hko_pixels(dbz, invalid):
    x = np.clip((dbz + 10) / 70, 0, 1)
    x[invalid] = 0
    return np.round(255 * x).astype(np.uint8)


def test_meteonet_windows_and_values(meteonet):
    root, data = meteonet
    ds = MeteoNetDataset(
        str(root.parent), file_patterns=['**/*_2016_*.npz'], pipeline=PIPE)
    old, slots = data['old']
    starts = expected_windows(slots)
    assert starts == [0, 56]  # slots 29..57 and 87..115 miss scans
    assert [ds.get_data_info(i)['frame_inds'] for i in range(len(ds))
            ] == [[s + 2 * k for k in range(15)] for s in starts]
    meta = ds.metainfo
    assert meta['dbz_encoding'] == 'hko'
    assert meta['minutes_between_frames'] == 10
    for i, s in enumerate(starts):
        out = ds[i]
        assert out['data_samples'].metainfo['dbz_encoding'] == 'hko'
        raw = old[s:s + 29:2]
        want = hko_pixels(raw.astype(float), (raw == 255) | (raw == 0))
        np.testing.assert_array_equal(out['inputs'][:, 0].numpy(), want)
    assert (ds[0]['inputs'][:, 0, :2] == 0).all()  # missing and no echo


def test_meteonet_new_product_and_overlap(meteonet):
    root, data = meteonet
    ds = MeteoNetDataset(
        str(root.parent),
        file_patterns=['**/*_2018_0[4-9].*.npz'],
        clip_stride=10,
        pipeline=PIPE)
    new, slots = data['new']
    starts = expected_windows(slots, stride=10)
    assert starts == [0, 10, 20, 30]
    assert ds.sources[0]['product'] == 'new'  # int16 -> new product
    out = ds[3]['inputs'][:, 0].numpy()
    raw = new[30:59:2]
    want = hko_pixels(raw * 0.1, (raw == -200) | (raw == -100))
    np.testing.assert_array_equal(out, want)


def test_meteonet_unzipped_period_reads_the_same(meteonet, tmp_path):
    root, _ = meteonet
    src = root / 'reflectivity_old_NW_2016_01.1.npz'
    folder = tmp_path / 'reflectivity_old_NW_2016_01.1'
    folder.mkdir()
    import zipfile
    with zipfile.ZipFile(src) as zf:
        zf.extractall(folder)
    a = MeteoNetDataset(
        str(root.parent), file_patterns=['**/*_2016_*.npz'], pipeline=PIPE)
    b = MeteoNetDataset(str(tmp_path), file_patterns=['*'], pipeline=PIPE)
    assert len(a) == len(b) == 2
    for i in range(2):
        assert torch.equal(a[i]['inputs'], b[i]['inputs'])


def test_meteonet_config_pipeline(meteonet, tmp_path):
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'motionrnn_predrnn_radar_meteonet.py'))
    rng = np.random.RandomState(2)
    vals = rng.randint(0, 71, (29, 520, 530)).astype(np.uint8)
    folder = tmp_path / 'NW'
    folder.mkdir()
    write_period(folder / 'reflectivity_old_NW_2018_07.2.npz', vals,
                 list(range(29)))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = str(tmp_path)
    ds = DATASETS.build(ds_cfg)
    assert len(ds) == 1
    out = ds[0]
    assert out['inputs'].shape == (15, 1, 64, 64)
    assert out['data_samples'].metainfo['dbz_encoding'] == 'hko'
    enc = hko_pixels(vals[0].astype(float), vals[0] == 0)
    crop = enc[4:516, 9:521]
    want = cv2.resize(crop, (64, 64), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out['inputs'][0, 0].numpy(), want)


def test_dates_are_read_without_running_pickled_code(tmp_path):
    marker = tmp_path / 'was_run'

    class Evil:

        def __reduce__(self):
            return (os.mkdir, (str(marker), ))

    path = tmp_path / 'evil.npz'
    np.savez(
        path,
        data=np.zeros((30, 4, 4), np.uint8),
        dates=np.array([Evil()], dtype=object))
    with pytest.raises(
            VideoReadError, match='cannot read the dates without running'):
        load_meteonet_dates(str(path))
    assert not marker.exists()
    with pytest.raises(InvalidSourceError, match='evil.npz: '):
        MeteoNetDataset(str(tmp_path))
    # datetimes are fine without allow_pickle
    ok = write_period(tmp_path / 'ok.npz', np.zeros((3, 2, 2), np.uint8),
                      [0, 1, 3])
    secs = load_meteonet_dates(ok)
    assert np.diff(secs).tolist() == [300, 600]


def test_meteonet_bad_periods(tmp_path):
    with pytest.raises(FileNotFoundError, match='MeteoNet root not found'):
        MeteoNetDataset(str(tmp_path / 'none'))
    (tmp_path / 'broken.npz').write_text('not a zip')
    write_period(tmp_path / 'short.npz', np.zeros((10, 4, 4), np.uint8),
                 list(range(10)))
    write_period(tmp_path / 'good.npz', np.zeros((29, 4, 4), np.uint8),
                 list(range(29)))
    with pytest.raises(InvalidSourceError, match='broken.npz: not a valid'):
        MeteoNetDataset(str(tmp_path))
    ds = MeteoNetDataset(str(tmp_path), skip_invalid=True)
    assert len(ds) == 1 and ds.num_invalid == 2
    assert 'short.npz' in ds.invalid_files[1][0]
    assert 'no window of 15 maps' in ds.invalid_files[1][1]


def test_radar_config_metrics_read_the_encoding(radar_root):
    """The radar evaluators (CSI through the samples' dbz_encoding) run on
    packed samples of the dataset."""
    from mmengine.evaluator import Evaluator
    root, _ = radar_root
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'predrnn_radar.py'))
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = str(root / 'test')
    ds = DATASETS.build(ds_cfg)
    evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = ds.metainfo
    samples = []
    for i in range(len(ds)):
        out = ds[i]
        sample = out['data_samples']
        gt = out['inputs'][5:].float() / 255
        sample.gt_frames = gt
        sample.pred_frames = gt.clone()
        samples.append(sample)
    evaluator.process(samples,
                      dict(inputs=[ds[i]['inputs'] for i in range(len(ds))]))
    metrics = evaluator.evaluate(len(ds))
    assert metrics['radar/mse_frame_sum'] == 0
    assert metrics['radar/gdl'] == 0
    for level in (30, 40, 50):
        csi = metrics[f'radar/csi{level}']
        assert np.isnan(csi) or csi == 1.0
