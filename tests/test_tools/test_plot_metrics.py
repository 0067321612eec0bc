# Copyright (c) mmvp contributors. All rights reserved.
"""tools/analysis_tools/plot_metrics.py: result formats, key matching,
the figure."""
import csv
import importlib.util
import json
import os.path as osp

import cv2
import pytest
from tools_helpers import REPO, assert_ok, run_tool


def _load_tool():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'plot_metrics.py')
    spec = importlib.util.spec_from_file_location('mmvp_plot_metrics', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _metrics(values, prefix='vmnist'):
    out = {f'{prefix}/mse_frame_sum': sum(values) / len(values)}
    for t, v in enumerate(values):
        out[f'{prefix}/mse_frame_sum_t{t + 1}'] = v
        out[f'{prefix}/ssim_t{t + 1}'] = 1 - v / 100
    out[f'{prefix}/ssim'] = 1 - out[f'{prefix}/mse_frame_sum'] / 100
    return out


@pytest.fixture
def results(tmp_path):
    a = tmp_path / 'predrnn.json'  # the tools/test.py --out JSON
    a.write_text(
        json.dumps(
            dict(
                config='c.py',
                checkpoint='k.pth',
                metrics=_metrics([10.0, 20.0, 30.0]),
                per_sample=[])))
    b = tmp_path / 'motionrnn.csv'  # the tools/test.py --out CSV
    with open(b, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(('sample_idx', 'metric', 'value'))
        for k, v in _metrics([8.0, 15.0, 21.0]).items():
            writer.writerow(('all', k, v))
        writer.writerow((0, 'vmnist/gdl_t1', 3.0))  # per-sample rows ignored
    c = tmp_path / 'scalars.json'  # an MMEngine log: the last record wins
    c.write_text('\n'.join(
        json.dumps(dict(step=s, **_metrics([v, v, v])))
        for s, v in ((10, 50.0), (20, 40.0))) + '\n')
    return a, b, c


def test_curves_from_every_format(results, tmp_path):
    tool = _load_tool()
    a, b, c = results
    assert tool.find_curve(tool.load_metrics(str(a)), 'mse_frame_sum',
                           'a') == ('vmnist/mse_frame_sum', [10, 20, 30], 20)
    assert tool.find_curve(
        tool.load_metrics(str(b)), 'vmnist/mse_frame_sum',
        'b')[1] == [8, 15, 21]
    assert tool.find_curve(tool.load_metrics(str(c)), 'ssim',
                           'c')[1] == pytest.approx([0.6] * 3)
    out = tmp_path / 'figs' / 'mse.png'
    assert tool.main([
        str(a),
        str(b),
        str(c), '--key', 'mse_frame_sum', '--key', 'ssim', '--out',
        str(out), '--labels', 'PredRNN', 'MotionRNN', 'log'
    ]) == str(out)
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > image.shape[1]  # 2 rows
    assert sorted(p.name for p in out.parent.iterdir()) == ['mse.png']


def test_key_errors(results, tmp_path):
    tool = _load_tool()
    a, _, _ = results
    with pytest.raises(
            ValueError,
            match='per-timestep metrics there: '
            'vmnist/mse_frame_sum, vmnist/ssim'):
        tool.main([str(a), '--key', 'gdl', '--out', str(tmp_path / 'x.png')])
    two = tmp_path / 'two.json'
    two.write_text(
        json.dumps({
            **_metrics([1.0, 2.0]),
            **_metrics([3.0, 4.0], 'h36m')
        }))
    with pytest.raises(ValueError, match='give the prefix too'):
        tool.find_curve(tool.load_metrics(str(two)), 'ssim', 'two')
    assert tool.find_curve(tool.load_metrics(str(two)), 'h36m/ssim',
                           'two')[1] == pytest.approx([0.97, 0.96])
    with pytest.raises(FileNotFoundError, match='result file not found'):
        tool.load_metrics(str(tmp_path / 'none.json'))
    bad = tmp_path / 'bad.csv'
    bad.write_text('a,b,c\n')
    with pytest.raises(ValueError, match='columns sample_idx, metric'):
        tool.load_metrics(str(bad))
    with pytest.raises(SystemExit):
        tool.parse_args([str(a), '--key', 'x', '--out', 'fig.jpg'])
    with pytest.raises(SystemExit):
        tool.parse_args(
            [str(a), '--key', 'x', '--out', 'f.png', '--labels', 'p', 'q'])


def test_command_line(results, tmp_path):
    a, b, _ = results
    out = tmp_path / 'cli.png'
    proc = run_tool([
        'analysis_tools/plot_metrics.py', a, b, '--key', 'mse_frame_sum',
        '--out', out
    ], tmp_path)
    assert_ok(proc)
    assert 'predrnn: vmnist/mse_frame_sum mean 20' in proc.stdout
    assert cv2.imread(str(out)) is not None
    proc = run_tool(
        ['analysis_tools/plot_metrics.py', a, '--key', 'lpips', '--out', out],
        tmp_path)
    assert proc.returncode == 1
    assert 'no per-timestep values for --key lpips' in proc.stderr
