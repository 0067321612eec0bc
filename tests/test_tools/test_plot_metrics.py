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


def _with_baselines(metrics, zeros, copy_last, prefix='vmnist'):
    out = dict(metrics)
    for name, values in (('zeros', zeros), ('copy_last', copy_last)):
        if values is None:
            continue
        out[f'{prefix}/mse_frame_sum_{name}'] = sum(values) / len(values)
        for t, v in enumerate(values):
            out[f'{prefix}/mse_frame_sum_{name}_t{t + 1}'] = v
    return out


def test_baselines_on_the_same_axes(tmp_path):
    tool = _load_tool()
    a = tmp_path / 'a.json'
    b = tmp_path / 'b.json'
    zeros, copy_last = [12.0, 12.0, 12.0], [5.0, 25.0, 40.0]
    a.write_text(
        json.dumps(
            _with_baselines(_metrics([10.0, 20.0, 30.0]), zeros, copy_last)))
    b.write_text(
        json.dumps(
            _with_baselines(_metrics([8.0, 15.0, 21.0]), zeros, copy_last)))
    loaded = tool.load_metrics(str(a))
    found = tool.find_baselines(loaded, 'vmnist/mse_frame_sum', 'a')
    assert found['zeros'] == ('vmnist/mse_frame_sum_zeros', zeros, 12.0)
    assert found['copy_last'][1] == copy_last
    # the baseline keys do not count as a second match of the model's key
    assert tool.find_curve(loaded, 'mse_frame_sum', 'a')[1] == [10, 20, 30]
    # the same baselines in both files are drawn once
    both = [
        found,
        tool.find_baselines(
            tool.load_metrics(str(b)), 'vmnist/mse_frame_sum', 'b')
    ]
    drawn = tool.unique_baselines(both, ['A', 'B'])
    assert [(label, name) for label, name, _, _ in drawn
            ] == [('copy last input', 'copy_last'), ('all black', 'zeros')]
    # different baselines (other test sets) are drawn once per file
    both[1] = dict(both[1], zeros=('k', [1.0, 1.0, 1.0], 1.0))
    drawn = tool.unique_baselines(both, ['A', 'B'])
    assert [label for label, _, _, _ in drawn
            ] == ['copy last input', 'all black (A)', 'all black (B)']
    # the figure: the dashed black baseline adds dark pixels
    with_png = tmp_path / 'with.png'
    without_png = tmp_path / 'without.png'
    tool.main(
        [str(a),
         str(b), '--key', 'mse_frame_sum', '--out',
         str(with_png)])
    tool.main([
        str(a),
        str(b), '--key', 'mse_frame_sum', '--out',
        str(without_png), '--no-baselines'
    ])
    with_img, without_img = cv2.imread(str(with_png)), cv2.imread(
        str(without_png))
    assert with_img.shape == without_img.shape
    dark = (with_img < 60).all(-1).sum()
    assert dark > (without_img < 60).all(-1).sum() + 100


def test_baselines_printed_by_the_command_line(tmp_path):
    a = tmp_path / 'a.json'
    a.write_text(
        json.dumps(_with_baselines(_metrics([10.0, 20.0]), [3.0, 4.0], None)))
    out = tmp_path / 'cli.png'
    proc = run_tool([
        'analysis_tools/plot_metrics.py', a, '--key', 'mse_frame_sum', '--out',
        out
    ], tmp_path)
    assert_ok(proc)
    assert 'baseline all black: mean 3.5 per step [3, 4]' in proc.stdout
    assert 'copy last' not in proc.stdout
