# Copyright (c) mmvp contributors. All rights reserved.
"""LPIPS (optional extra): the clear error without the package, the input
convention through a stand-in module, and the real package when present."""
import sys
import types

import pytest
import torch
from mmengine.evaluator import Evaluator

from mmvp.evaluation import LPIPSMetric
from mmvp.registry import METRICS
from mmvp.structures import VideoPredDataSample


def _sample(pred, gt, idx=0):
    ds = VideoPredDataSample(
        metainfo=dict(in_frames=1, out_frames=pred.shape[0], sample_idx=idx))
    ds.pred_frames = pred
    ds.gt_frames = gt
    return ds


def test_clear_error_without_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, 'lpips', None)  # import -> ImportError
    with pytest.raises(ImportError) as err:
        LPIPSMetric()
    msg = str(err.value)
    assert 'optional package "lpips"' in msg
    assert 'pip install lpips' in msg
    with pytest.raises(ImportError, match='pip install lpips'):
        METRICS.build(dict(type='LPIPSMetric'))


@pytest.fixture
def fake_lpips(monkeypatch):
    """A stand-in ``lpips`` module: distance = mean |x - y| per image, and
    a record of every input it was given."""
    calls = []

    class LPIPS(torch.nn.Module):

        def __init__(self, net='alex', verbose=True):
            super().__init__()
            calls.append(('init', net))

        def forward(self, x, y):
            calls.append((x.clone(), y.clone()))
            return (x - y).abs().mean(dim=(1, 2, 3), keepdim=True)

    module = types.ModuleType('lpips')
    module.LPIPS = LPIPS
    monkeypatch.setitem(sys.modules, 'lpips', module)
    return calls


def test_inputs_are_rgb_in_minus_one_one(fake_lpips):
    metric = LPIPSMetric(net='vgg', prefix='h36m')
    gt = torch.zeros(2, 1, 4, 4)
    pred = torch.stack(
        [torch.full((1, 4, 4), 0.5),
         torch.full((1, 4, 4), 1.7)])
    evaluator = Evaluator([metric])
    evaluator.process([_sample(pred, gt, 0)])
    evaluator.process([_sample(gt.clone(), gt, 1)])
    res = evaluator.evaluate(2)
    assert fake_lpips[0] == ('init', 'vgg')  # built once, on first use
    x, y = fake_lpips[1]
    assert x.shape == (2, 3, 4, 4)  # grey repeated to RGB
    assert y.min() == -1 and y.max() == -1  # 0 -> -1
    assert x[0].unique().tolist() == [0.0]  # 0.5 -> 0
    assert x[1].unique().tolist() == [1.0]  # clipped to 1 -> 1
    # per frame: sample 0 distances 1 and 2, sample 1 zero
    assert res['h36m/lpips_t1'] == pytest.approx(0.5)
    assert res['h36m/lpips_t2'] == pytest.approx(1.0)
    assert res['h36m/lpips'] == pytest.approx(0.75)
    records = {r['sample_idx']: r['lpips'] for r in metric.per_sample_results}
    assert records == {0: [1.0, 2.0], 1: [0.0, 0.0]}
    with pytest.raises(ValueError, match='net must be one of'):
        LPIPSMetric(net='resnet')


def test_real_package_identical_frames_score_zero():
    pytest.importorskip(
        'lpips',
        reason='optional package lpips is not installed '
        '(pip install lpips); the error path is tested above')
    try:
        metric = LPIPSMetric()
        frames = torch.rand(2, 3, 32, 32)
        metric.process(None, [_sample(frames, frames.clone())])
    except (OSError, RuntimeError) as err:  # backbone weights not cached
        pytest.skip(f'LPIPS backbone weights unavailable offline: {err}')
    assert metric.evaluate(1)['vp/lpips'] == pytest.approx(0, abs=1e-6)
