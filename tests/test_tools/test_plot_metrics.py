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


VAL_STEPS = (100, 200, 300)


def _write_log(path, val_values, x_key='step', prefix='vmnist'):
    """A scalars.json of training records interleaved with validation
    records at VAL_STEPS (x under ``x_key``)."""
    lines = []
    for i, (step, value) in enumerate(zip(VAL_STEPS, val_values)):
        for it in (step - 50, step):
            lines.append(
                dict(loss=1.0 / it, lr=1e-3, iter=it, step=it, epoch=1))
        val = {f'{prefix}/mse_frame_sum': value, f'{prefix}/ssim': 0.5 + i}
        # per-timestep keys of the same metric must not match the plain key
        val[f'{prefix}/mse_frame_sum_t1'] = value / 2
        val[x_key] = step
        lines.append(val)
    path.write_text('\n'.join(json.dumps(r) for r in lines) + '\n')
    return path


@pytest.fixture
def logs(tmp_path):
    a = _write_log(tmp_path / 'predrnn_scalars.json', [109.1, 107.0, 105.3])
    # validation records holding only iter (no step)
    b = _write_log(
        tmp_path / 'motionrnn_scalars.json', [99.5, 90.25, 88.0], x_key='iter')
    return a, b


def _capture_figures(tool, monkeypatch):
    """Record every figure the tool saves (and still write it)."""
    figures = []
    save = tool.save_figure

    def recording(fig, *args, **kwargs):
        figures.append(fig)
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(tool, 'save_figure', recording)
    return figures


def test_series_over_iterations(logs):
    tool = _load_tool()
    a, b = logs
    records = tool.load_scalars(str(a))
    assert tool.find_series(records, 'mse_frame_sum',
                            'a') == ('vmnist/mse_frame_sum', [(100, 109.1),
                                                              (200, 107.0),
                                                              (300, 105.3)])
    assert tool.find_series(records, 'vmnist/ssim',
                            'a') == ('vmnist/ssim', [(100, 0.5), (200, 1.5),
                                                     (300, 2.5)])
    # iter stands in for a missing step
    assert tool.find_series(tool.load_scalars(str(b)), 'mse_frame_sum',
                            'b')[1] == [(100, 99.5), (200, 90.25), (300, 88.0)]
    # step wins over iter
    assert tool.find_series([dict(step=5, iter=9, x=1.5)], 'x',
                            'm') == ('x', [(5, 1.5)])
    # the training records' own keys are series too
    assert tool.find_series(records, 'loss', 'a')[1][:2] == [(50, 1 / 50),
                                                             (100, 1 / 100)]


def test_figure_over_iterations(logs, tmp_path, monkeypatch):
    tool = _load_tool()
    figures = _capture_figures(tool, monkeypatch)
    a, b = logs
    out = tmp_path / 'figs' / 'val.png'
    assert tool.main([
        '--over-iterations',
        str(a),
        str(b), '--key', 'mse_frame_sum', '--key', 'ssim', '--labels',
        'PredRNN s0', 'MotionRNN s0', '--out',
        str(out)
    ]) == str(out)
    image = cv2.imread(str(out))
    assert image is not None and image.shape[0] > image.shape[1]  # 2 rows
    assert sorted(p.name for p in out.parent.iterdir()) == ['val.png']
    (fig, ) = figures
    mse_ax, ssim_ax = fig.axes[:2]
    assert mse_ax.get_xlabel() == 'iteration'
    assert mse_ax.get_ylabel() == 'vmnist/mse_frame_sum'
    assert [t.get_text() for t in mse_ax.get_legend().get_texts()
            ] == ['PredRNN s0 (last 105.3)', 'MotionRNN s0 (last 88)']
    assert [t.get_text() for t in ssim_ax.get_legend().get_texts()
            ] == ['PredRNN s0 (last 2.5)', 'MotionRNN s0 (last 2.5)']
    lines = mse_ax.get_lines()
    assert len(lines) == 2  # no baselines
    assert lines[0].get_xydata().tolist() == [[100, 109.1], [200, 107.0],
                                              [300, 105.3]]
    assert lines[1].get_marker() != lines[0].get_marker()
    # an explicit --xlabel wins; default labels are the file names
    tool.main([
        '--over-iterations',
        str(a), '--key', 'mse_frame_sum', '--xlabel', 'training step', '--out',
        str(out)
    ])
    ax = figures[1].axes[0]
    assert ax.get_xlabel() == 'training step'
    assert [t.get_text() for t in ax.get_legend().get_texts()
            ] == ['predrnn_scalars (last 105.3)']


def test_over_iterations_errors(logs, tmp_path, results):
    tool = _load_tool()
    a, _ = logs
    out = str(tmp_path / 'x.png')
    # a key that two prefixes hold
    two = tmp_path / 'two_prefixes.json'
    two.write_text(a.read_text() + _write_log(
        tmp_path / 'h.json', [1.0, 2.0, 3.0], prefix='h36m').read_text())
    with pytest.raises(
            ValueError,
            match=r'two_prefixes\.json": --key mse_frame_sum matches '
            r"\['h36m/mse_frame_sum', 'vmnist/mse_frame_sum'\]; "
            'give the prefix too'):
        tool.main([
            '--over-iterations',
            str(two), '--key', 'mse_frame_sum', '--out', out
        ])
    assert tool.find_series(
        tool.load_scalars(str(two)), 'h36m/mse_frame_sum',
        'two')[1] == [(100, 1.0), (200, 2.0), (300, 3.0)]
    # a key no record holds
    with pytest.raises(ValueError) as err:
        tool.main(
            ['--over-iterations',
             str(a), '--key', 'lpips', '--out', out])
    message = str(err.value)
    assert f'"{a}" has no record with --key lpips' in message
    assert 'vmnist/mse_frame_sum' in message
    assert 'mse_frame_sum_t1' not in message
    # a tools/test.py result (pretty JSON) or a flat metrics dict is no log
    pretty, _, _ = results
    pretty.write_text(json.dumps(json.loads(pretty.read_text()), indent=2))
    flat = tmp_path / 'flat.json'
    flat.write_text(json.dumps(_metrics([1.0, 2.0])))
    for path in (pretty, flat):
        with pytest.raises(
                ValueError,
                match=f'"{path}" is not an MMEngine scalars.json log'):
            tool.main([
                '--over-iterations',
                str(path), '--key', 'mse_frame_sum', '--out', out
            ])
    with pytest.raises(FileNotFoundError, match='result file not found'):
        tool.load_scalars(str(tmp_path / 'none.json'))
    assert not (tmp_path / 'x.png').exists()


def test_over_iterations_command_line(logs, tmp_path):
    a, b = logs
    out = tmp_path / 'cli.png'
    proc = run_tool([
        'analysis_tools/plot_metrics.py', '--over-iterations', a, b, '--key',
        'mse_frame_sum', '--out', out
    ], tmp_path)
    assert_ok(proc)
    assert ('predrnn_scalars: vmnist/mse_frame_sum at 3 steps, last 105.3 '
            '(step 300)') in proc.stdout
    assert cv2.imread(str(out)) is not None
    proc = run_tool([
        'analysis_tools/plot_metrics.py', '--over-iterations', a, '--key',
        'lpips', '--out', tmp_path / 'none.png'
    ], tmp_path)
    assert proc.returncode == 1
    assert f'ValueError: "{a}" has no record with --key lpips' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert not (tmp_path / 'none.png').exists()


def test_time_steps_mode_unchanged(logs, tmp_path, monkeypatch):
    """Without the flag a log still gives the per-timestep curve of its
    last record holding NAME_t*, over output time steps."""
    tool = _load_tool()
    figures = _capture_figures(tool, monkeypatch)
    a, _ = logs
    out = tmp_path / 'steps.png'
    tool.main([str(a), '--key', 'mse_frame_sum', '--out', str(out)])
    assert cv2.imread(str(out)) is not None
    ax = figures[0].axes[0]
    assert ax.get_xlabel() == 'output time step'
    (line, ) = ax.get_lines()
    assert line.get_xydata().tolist() == [[1, 105.3 / 2]]
    # the legend's mean is the record's stored NAME value, as before
    assert [t.get_text() for t in ax.get_legend().get_texts()
            ] == ['predrnn_scalars (mean 105.3)']
