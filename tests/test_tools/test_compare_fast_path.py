# Copyright (c) mmvp contributors. All rights reserved.
"""tools/analysis_tools/compare_fast_path.py: eager and fast copies trained
side by side on tiny models (CPU, the ``eager`` compile backend)."""
import json
import math
import os.path as osp
import sys

import pytest
import torch
from tools_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
DEMO = osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist_demo.py')
TINY = [
    DEMO, '--shape', '16', '16', '1', '--frames', '2', '2', '--batch-size',
    '2', '--device', 'cpu'
]
TINY_OPTIONS = [
    'model.backbone.hidden_channels=8', 'model.backbone.num_layers=2'
]
# regional compilation captured as whole graphs but run by the eager
# backend: the same arithmetic as eager, so the losses must match exactly
REGIONS = ['--compile-regions']
EAGER_BACKEND = ['model.compile_regions.backend=eager']


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis_tools/compare_fast_path.py',
                     'mmvp_compare_tool')


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _args(*extra, options=()):
    return TINY + list(extra) + ['--cfg-options'
                                 ] + TINY_OPTIONS + list(options)


def test_relative_difference_by_hand(tool):
    assert tool.relative_difference(1.0, 1.1) == pytest.approx(0.1 / 1.1)
    assert tool.relative_difference(0.0, 0.0) == 0.0
    assert tool.relative_difference(2.0, -2.0) == pytest.approx(2.0)
    assert tool.relative_difference(1.0, math.nan) == math.inf
    assert tool.relative_difference(math.inf, math.inf) == math.inf


def test_parse_needs_a_fast_path_and_splits_the_options(tool):
    with pytest.raises(SystemExit, match='name a fast path'):
        tool.parse_args(_args())
    with pytest.raises(SystemExit, match='--baseline is a benchmark.py'):
        tool.parse_args(_args('--compile-regions', '--baseline', DEMO))
    with pytest.raises(SystemExit, match='--compile-mode needs'):
        tool.parse_args(_args('--compile-mode', 'reduce-overhead'))
    own, eager, fast = tool.parse_args(
        _args('--compile-regions', '--compile-mode', 'default', '--iters', '7',
              '--rtol', '0.5'))
    assert (own.iters, own.rtol) == (7, 0.5)
    assert fast.compile_regions and fast.compile_mode == 'default'
    assert not eager.compile_regions and eager.compile_mode is None
    # what describes the model and the sequence is shared
    assert eager.shape == fast.shape == [16, 16, 1]
    assert eager.cfg_options == fast.cfg_options


def test_regions_train_like_eager_and_write_json(tool, tmp_path, capsys):
    out = tmp_path / 'cmp.json'
    code = tool.main(
        _args(
            *REGIONS,
            '--iters',
            '3',
            '--json',
            str(out),
            options=EAGER_BACKEND))
    assert code == 0
    res = json.loads(out.read_text())
    assert res['fast_path']['compile_regions'] is True
    assert len(res['eager_losses']) == len(res['fast_losses']) == 3
    assert res['eager_losses'] == res['fast_losses']
    assert res['max_abs_weight_diff'] == 0.0
    # the model trains: three different batches give three losses
    assert len(set(res['eager_losses'])) == 3
    assert 'within rtol' in capsys.readouterr().out


def test_a_diverging_fast_copy_fails(tool, monkeypatch, capsys):

    def perturbed_copy(src, dst):
        dst.load_state_dict(src.state_dict())
        with torch.no_grad():
            for p in dst.parameters():
                p.add_(0.05)

    monkeypatch.setattr(tool, '_copy_weights', perturbed_copy)
    code = tool.main(_args(*REGIONS, '--iters', '2', options=EAGER_BACKEND))
    assert code == 1
    text = capsys.readouterr().out
    assert 'OUTSIDE rtol' in text
