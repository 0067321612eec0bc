# Copyright (c) mmvp contributors. All rights reserved.
"""GDL: hand-computed values on step edges, options, the metric class."""
import pytest
import torch
from mmengine.evaluator import Evaluator

from mmvp.evaluation import GDLMetric, gdl_frames
from mmvp.registry import METRICS
from mmvp.structures import VideoPredDataSample


def _rows(*rows):
    """One frame [1, 1, H, W] from rows of values."""
    return torch.tensor(rows, dtype=torch.float64)[None, None]


def _sample(pred, gt, idx):
    ds = VideoPredDataSample(
        metainfo=dict(in_frames=1, out_frames=pred.shape[0], sample_idx=idx))
    ds.pred_frames = pred
    ds.gt_frames = gt
    return ds


# a vertical step edge: 4 rows of 0 0 0 1 1 1
EDGE = _rows(*[[0, 0, 0, 1, 1, 1]] * 4)


def test_step_edge_missed_entirely():
    # flat prediction: the edge's column gradient 1 is missed on 4 rows
    pred = torch.zeros_like(EDGE)
    assert gdl_frames(pred, EDGE).tolist() == [4.0]
    # a horizontal edge (transposed) is seen through row differences
    assert gdl_frames(pred.transpose(2, 3),
                      EDGE.transpose(2, 3)).tolist() == [4.0]


def test_step_edge_softened():
    # 0 0 .5 1 1 1: column gradients .5 .5 against 0 1 -> |.5| + |-.5|
    soft = _rows(*[[0, 0, 0.5, 1, 1, 1]] * 4)
    assert gdl_frames(soft, EDGE).tolist() == [4 * 1.0]
    # squared differences: .25 + .25 per row
    assert gdl_frames(soft, EDGE, alpha=2).tolist() == [4 * 0.5]
    # mean over the C*H*W = 24 values
    assert gdl_frames(
        soft, EDGE, reduction='mean').tolist() == [pytest.approx(4 / 24)]
    # a perfect prediction
    assert gdl_frames(EDGE, EDGE).tolist() == [0.0]
    # a shifted edge: gradient at the wrong column -> 1 + 1 per row
    shifted = _rows(*[[0, 0, 1, 1, 1, 1]] * 4)
    assert gdl_frames(shifted, EDGE).tolist() == [8.0]


def test_prediction_clipped_first():
    over = _rows(*[[0, 0, 0, 1.5, 1.5, 1.5]] * 4)
    assert gdl_frames(over, EDGE).tolist() == [0.0]
    # unclipped: gradient 1.5 against 1 -> .5 per row
    assert gdl_frames(over, EDGE, clip_pred=False).tolist() == [2.0]


def test_channels_frames_and_mask():
    pred = torch.zeros(2, 3, 4, 6, dtype=torch.float64)
    gt = EDGE.expand(2, 3, 4, 6).clone()
    gt[1] = 0  # second frame has no edge
    assert gdl_frames(pred, gt).tolist() == [12.0, 0.0]  # 3 channels x 4
    # mask out the last two rows: only 2 rows x 3 channels count
    mask = torch.ones(1, 1, 4, 6, dtype=torch.bool)
    mask[..., 2:, :] = False
    assert gdl_frames(pred, gt, mask=mask).tolist() == [6.0, 0.0]
    with pytest.raises(ValueError, match='same shape'):
        gdl_frames(pred, gt[:, :1])
    with pytest.raises(ValueError, match='reduction'):
        gdl_frames(pred, gt, reduction='max')
    with pytest.raises(ValueError, match='float stack'):
        gdl_frames(pred.to(torch.uint8), gt)


def test_metric_per_frame_mean_over_sequences_and_records():
    # sequence 0: frame errors 4 (missed edge) then 0; sequence 1: 8, 2
    seq0_gt = torch.cat([EDGE, EDGE])
    seq0_pred = torch.cat([torch.zeros_like(EDGE), EDGE])
    shifted = _rows(*[[0, 0, 1, 1, 1, 1]] * 4)
    half = _rows(*[[0, 0, 0, 1, 1, 1]] * 2 + [[0, 0, 1, 1, 1, 1]] * 2)
    seq1_pred = torch.cat([shifted, half])
    metric = METRICS.build(dict(type='GDLMetric', prefix='radar'))
    assert isinstance(metric, GDLMetric)
    evaluator = Evaluator([metric])
    evaluator.process([_sample(seq0_pred.float(), seq0_gt.float(), 7)])
    evaluator.process([_sample(seq1_pred.float(), seq0_gt.float(), 3)])
    res = evaluator.evaluate(2)
    # half: 2 rows shifted (2 each) = 4, plus the row step between row 1
    # and row 2 at column 2: |1 - 0| -> 1  => 5
    assert res['radar/gdl_t1'] == pytest.approx((4 + 8) / 2)
    assert res['radar/gdl_t2'] == pytest.approx((0 + 5) / 2)
    assert res['radar/gdl'] == pytest.approx((6 + 2.5) / 2)
    records = {r['sample_idx']: r['gdl'] for r in metric.per_sample_results}
    assert records == {7: [4.0, 0.0], 3: [8.0, 5.0]}


def test_metric_checks_arguments():
    with pytest.raises(ValueError, match='reduction'):
        GDLMetric(reduction='median')
    with pytest.raises(ValueError, match='alpha'):
        GDLMetric(alpha=0)
    metric = GDLMetric(keep_per_sample=False, per_frame_keys=False)
    metric.process(None, [_sample(EDGE.float(), EDGE.float(), 0)])
    assert metric.evaluate(1) == {'vp/gdl': 0.0}
    assert metric.per_sample_results is None
