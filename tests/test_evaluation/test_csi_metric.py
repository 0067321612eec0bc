# Copyright (c) mmvp contributors. All rights reserved.
"""CSI / POD / FAR / HSS: thresholds of both encodings, hand-computed
scores, the official batch-pooled reduction vs the global one."""
import math
import pickle

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmengine.evaluator import Evaluator

from mmvp.evaluation import (CSIMetric, GDLMetric, categorical_scores,
                             contingency_counts)
from mmvp.evaluation.functional import event_mask
from mmvp.registry import METRICS
from mmvp.structures import VideoPredDataSample


def _u8(*values):
    """[0, 1] floats of uint8 pixel values, as one frame [1, 1, 1, W]."""
    return torch.tensor(values, dtype=torch.float32).view(1, 1, 1, -1) / 255


def test_motionrnn_thresholds_in_pixels():
    # dataset_protocols.md#dbz-encodings: event at L dBZ when (p + 30) / 2 >=
    # L: p >= 30, 50, 70
    frame = _u8(29, 30, 49, 50, 69, 70, 255)
    assert event_mask(frame, 30, 'motionrnn').flatten().tolist() == [
        False, True, True, True, True, True, True
    ]
    assert event_mask(frame, 40, 'motionrnn').flatten().tolist() == [
        False, False, False, True, True, True, True
    ]
    assert event_mask(frame, 50, 'motionrnn').flatten().tolist() == [
        False, False, False, False, False, True, True
    ]
    # truncation: 29.9 / 255 is still pixel 29; predictions are clipped
    assert not event_mask(_u8(29.9), 30, 'motionrnn').item()
    assert event_mask(_u8(400), 50, 'motionrnn').item()
    # 20 dBZ (the code's extra level): p >= 10
    assert event_mask(_u8(9, 10), 20,
                      'motionrnn').flatten().tolist() == [False, True]


def test_hko_thresholds_in_pixels():
    # dBZ = 70 x - 10: 30/40/50 dBZ at x >= 0.5714/0.7143/0.8571,
    # i.e. uint8 values 146, 183, 219 (pixel 145.7 / 182.1 / 218.6)
    frame = _u8(145, 146, 182, 183, 218, 219)
    for level, first in ((30, 1), (40, 3), (50, 5)):
        mask = event_mask(frame, level, 'hko').flatten().tolist()
        assert mask == [i >= first for i in range(6)], level
    # the MotionRNN rule on the same pixels would call all of them >= 50
    assert event_mask(frame, 50, 'motionrnn').all()
    with pytest.raises(ValueError, match='unknown dBZ encoding'):
        event_mask(frame, 30, 'sevir')


def test_contingency_counts_and_scores_by_hand():
    # 8 pixels, at 30 dBZ (motionrnn p >= 30): pred events at 0,1,2;
    # observed events at 0,1,3 -> a=2 (0,1), b=1 (2), c=1 (3), d=4
    pred = _u8(40, 40, 40, 0, 0, 0, 0, 0)
    gt = _u8(40, 40, 0, 40, 0, 0, 0, 0)
    counts = contingency_counts(pred, gt, [30, 40], 'motionrnn')
    assert counts.shape == (1, 2, 4)
    assert counts[0, 0].tolist() == [2, 1, 1, 4]
    assert counts[0, 1].tolist() == [0, 0, 0, 8]  # pixel 40 < 50
    scores = categorical_scores(counts)
    assert scores['csi'][0, 0] == pytest.approx(2 / 4)
    assert scores['pod'][0, 0] == pytest.approx(2 / 3)
    assert scores['far'][0, 0] == pytest.approx(1 / 3)
    # HSS = 2(ad - bc) / ((a+c)(c+d) + (a+b)(b+d)) = 2*7 / (15 + 15)
    assert scores['hss'][0, 0] == pytest.approx(14 / 30)
    # no event anywhere: undefined -> NaN by default, 0.0 officially
    assert all(math.isnan(scores[k][0, 1]) for k in scores)
    official = categorical_scores(counts, empty=0.0)
    assert all(official[k][0, 1] == 0.0 for k in official)


def _sample(pred, gt, idx, **meta):
    ds = VideoPredDataSample(
        metainfo=dict(
            in_frames=1, out_frames=pred.shape[0], sample_idx=idx, **meta))
    ds.pred_frames = pred
    ds.gt_frames = gt
    return ds


def _frames(pred_pix, gt_pix):
    """Two output frames; frame 2 is empty (no event in pred nor gt)."""
    empty = _u8(*[0] * len(pred_pix))
    return (torch.cat([_u8(*pred_pix),
                       empty]), torch.cat([_u8(*gt_pix), empty]))


# per-sample counts at 30 dBZ on frame 1 (4 pixels each):
#   A: hit only          (a, b, c) = (1, 0, 0)  CSI 1
#   B: false alarm + miss (0, 1, 1)             CSI 0
#   C: no event at all    (0, 0, 0)             CSI undefined
#   D: hit + miss         (1, 0, 1)             CSI 1/2
#   E: hit                (1, 0, 0)             CSI 1
SAMPLES = dict(
    A=([40, 0, 0, 0], [40, 0, 0, 0]),
    B=([40, 0, 0, 0], [0, 40, 0, 0]),
    C=([0, 0, 0, 0], [0, 0, 0, 0]),
    D=([40, 0, 0, 0], [40, 40, 0, 0]),
    E=([40, 0, 0, 0], [40, 0, 0, 0]),
)


def _data_samples(order='ABCDE', **meta):
    out = []
    for name in order:
        pred, gt = _frames(*SAMPLES[name])
        out.append(_sample(pred, gt, 'ABCDE'.index(name), **meta))
    return out


def _evaluate(metric, samples, batch=2):
    evaluator = Evaluator([metric])
    for i in range(0, len(samples), batch):
        evaluator.process(samples[i:i + batch])
    return evaluator.evaluate(len(samples))


def test_global_reduction_sums_counts_per_lead_time():
    metric = CSIMetric(
        thresholds=[30], dbz_encoding='motionrnn', prefix='radar')
    res = _evaluate(metric, _data_samples())
    # totals of frame 1: a = 3 (A, D, E), b = 1 (B), c = 2 (B, D)
    assert res['radar/csi30_t1'] == pytest.approx(3 / 6)
    assert res['radar/pod30_t1'] == pytest.approx(3 / 5)
    assert res['radar/far30_t1'] == pytest.approx(1 / 4)
    # 20 pixels: d = 20 - 6 = 14
    a, b, c, d = 3, 1, 2, 14
    hss = 2 * (a * d - b * c) / ((a + c) * (c + d) + (a + b) * (b + d))
    assert res['radar/hss30_t1'] == pytest.approx(hss)
    # frame 2 has no event anywhere: undefined, left out of the mean
    assert math.isnan(res['radar/csi30_t2'])
    assert res['radar/csi30'] == pytest.approx(3 / 6)
    assert res['radar/csi_num_sequences'] == 5
    assert 'radar/csi_num_batches' not in res


def test_official_reduction_pools_batches_and_scores_empty_as_zero():
    metric = CSIMetric(
        thresholds=[30],
        dbz_encoding='motionrnn',
        reduction='batch_pooled_official',
        batch_size=2)
    # the loader's batches (3 here) do not matter: batches of 2 are formed
    # in sample_idx order -> (A, B), (C, D); E is a partial batch, dropped
    res = _evaluate(metric, _data_samples(), batch=3)
    # (A, B) pooled: a=1, b=1, c=1 -> 1/3 (not the mean 1/2 of A and B);
    # (C, D) pooled: a=1, b=0, c=1 -> 1/2
    assert res['vp/csi30_t1'] == pytest.approx((1 / 3 + 1 / 2) / 2)
    # frame 2: no event in either batch -> 0.0 each (cal_csi), mean 0
    assert res['vp/csi30_t2'] == 0.0
    assert res['vp/far30_t2'] == 0.0
    assert res['vp/csi30'] == pytest.approx((5 / 12 + 0) / 2)
    assert res['vp/csi_num_batches'] == 2
    assert res['vp/csi_num_sequences'] == 5
    # FAR of (A, B) = 1/2, of (C, D) = 0/1
    assert res['vp/far30_t1'] == pytest.approx(0.25)


def test_official_grouping_follows_sample_idx_not_arrival_order():
    kwargs = dict(
        thresholds=[30],
        dbz_encoding='motionrnn',
        reduction='batch_pooled_official',
        batch_size=2)
    ordered = _evaluate(CSIMetric(**kwargs), _data_samples('ABCDE'))
    shuffled = _evaluate(CSIMetric(**kwargs), _data_samples('DCEBA'))
    assert shuffled == ordered
    # keeping the partial batch (E) adds a batch with CSI 1
    kept = _evaluate(
        CSIMetric(drop_last=False, **kwargs), _data_samples('ABCDE'))
    assert kept['vp/csi30_t1'] == pytest.approx((1 / 3 + 1 / 2 + 1) / 3)
    with pytest.raises(ValueError, match='make no full batch of 8'):
        _evaluate(
            CSIMetric(
                thresholds=[30],
                dbz_encoding='motionrnn',
                reduction='batch_pooled_official'), _data_samples())


def test_split_across_ranks_equals_single_process():
    """MMEngine collects one result per sample from every rank (padding
    dropped): official and global values do not depend on the split."""
    for reduction in ('global', 'batch_pooled_official'):
        kwargs = dict(
            thresholds=[30, 40],
            dbz_encoding='motionrnn',
            reduction=reduction,
            batch_size=2)
        single = _evaluate(CSIMetric(**kwargs), _data_samples())
        samples = _data_samples()
        parts = []
        for rank in range(2):
            metric = CSIMetric(**kwargs)
            # DefaultSampler: pad 5 -> 6 with sample 0, every 2nd index
            shard = [(samples * 2)[i] for i in range(6)][rank::2]
            metric.process(None, shard)
            parts.append(metric.results)
        ordered = [r for pair in zip(*parts) for r in pair][:5]
        merged = CSIMetric(**kwargs).compute_metrics(ordered)
        for key, value in merged.items():
            expected = single['vp/' + key]
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(expected), key
            else:
                assert value == pytest.approx(expected), key


def test_encoding_from_metainfo_and_conflicts():
    # pixel 150: 90 dBZ in motionrnn, 31.2 dBZ in hko; pixel 140: 28.4 hko
    pred, gt = _u8(150, 140), _u8(150, 150)
    hko = [_sample(pred, gt, 0, dbz_encoding='hko')]
    res = _evaluate(CSIMetric(thresholds=[30]), hko)
    assert res['vp/csi30'] == pytest.approx(1 / 2)  # a=1, c=1
    mr = [_sample(pred, gt, 0, dbz_encoding='motionrnn')]
    assert _evaluate(CSIMetric(thresholds=[30]), mr)['vp/csi30'] == 1.0
    with pytest.raises(ValueError, match='incompatible'):
        _evaluate(CSIMetric(thresholds=[30], dbz_encoding='motionrnn'), hko)
    with pytest.raises(KeyError, match="dbz_encoding='motionrnn' or 'hko'"):
        _evaluate(CSIMetric(), [_sample(pred, gt, 0)])
    with pytest.raises(ValueError, match='dbz_encoding'):
        CSIMetric(dbz_encoding='dbz')
    with pytest.raises(ValueError, match='reduction'):
        CSIMetric(reduction='mean')
    with pytest.raises(ValueError, match='scores'):
        CSIMetric(scores=['ets'])


def test_default_keys_and_per_sample_records():
    metric = METRICS.build(dict(type='CSIMetric', dbz_encoding='motionrnn'))
    res = _evaluate(metric, _data_samples())
    for score in ('csi', 'pod', 'far', 'hss'):
        for level in (30, 40, 50):
            assert f'vp/{score}{level}' in res
            assert f'vp/{score}{level}_t2' in res
    records = {r['sample_idx']: r for r in metric.per_sample_results}
    assert records[0]['csi30'][0] == 1.0
    assert records[1]['csi30'][0] == 0.0
    assert records[3]['csi30'][0] == 0.5
    assert np.isnan(records[2]['csi30'][0])
    assert len(records[4]['pod50']) == 2


def _dist_metrics():
    kwargs = dict(thresholds=[30], dbz_encoding='motionrnn', batch_size=2)
    return [
        CSIMetric(reduction='batch_pooled_official', prefix='off', **kwargs),
        CSIMetric(prefix='glob', **kwargs),
        GDLMetric()
    ]


def _dist_worker(rank, init_file, out_file):
    dist.init_process_group(
        'gloo', init_method=f'file://{init_file}', rank=rank, world_size=2)
    try:
        samples = _data_samples()
        shard = [(samples * 2)[i] for i in range(6)][rank::2]
        metrics = _dist_metrics()
        for metric in metrics:
            metric.process(None, shard)
        result = {}
        for metric in metrics:
            result.update(metric.evaluate(5))
        if rank == 0:
            with open(out_file, 'wb') as f:
                pickle.dump(result, f)
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(
    not dist.is_available() or not dist.is_gloo_available(),
    reason='needs torch.distributed with gloo')
def test_two_process_gloo_matches_single_process(tmp_path):
    out_file = str(tmp_path / 'result.pkl')
    mp.spawn(
        _dist_worker,
        args=(str(tmp_path / 'init'), out_file),
        nprocs=2,
        join=True)
    with open(out_file, 'rb') as f:
        dist_result = pickle.load(f)
    single = {}
    for metric in _dist_metrics():
        single.update(_evaluate(metric, _data_samples()))
    assert set(dist_result) == set(single)
    assert single['off/csi30_t1'] == pytest.approx((1 / 3 + 1 / 2) / 2)
    for key, value in single.items():
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(dist_result[key]), key
        else:
            assert dist_result[key] == pytest.approx(value, rel=1e-12), key
