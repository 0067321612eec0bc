# Copyright (c) mmvp contributors. All rights reserved.
"""tools/test.py: metrics dumped as CSV, --show-dir, argument checks."""
import csv
import importlib.util
import json
import os.path as osp
from types import SimpleNamespace

import pytest
from mmengine.config import Config
from tools_helpers import (REPO, assert_ok, last_error, run_tool,
                           save_model_checkpoint, unique_name,
                           write_tiny_config)


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('test_tool')
    cfg = write_tiny_config(root)
    ckpt = save_model_checkpoint(cfg, root / 'untrained.pth')
    return root, cfg, ckpt


def test_out_csv(setup):
    root, cfg, ckpt = setup
    out = root / 'metrics.csv'
    proc = run_tool([
        'test.py', cfg, ckpt, '--work-dir', root / 'work', '--out', out,
        '--cfg-options', f'experiment_name={unique_name("csv")}'
    ], root)
    assert_ok(proc)
    with open(out) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['sample_idx', 'metric', 'value']
    summary = {r[1]: float(r[2]) for r in rows[1:] if r[0] == 'all'}
    assert {
        'vmnist/mse_frame_sum', 'vmnist/ssim', 'vmnist/psnr',
        'vmnist/mse_frame_sum_t1'
    } <= set(summary)
    assert summary['vmnist/mse_frame_sum'] > 0
    # the log shows the same number
    assert f'vmnist/mse_frame_sum: {summary["vmnist/mse_frame_sum"]:.4f}' \
        in proc.stdout + proc.stderr


def test_show_dir(setup):
    root, cfg, ckpt = setup
    show = root / 'show'
    proc = run_tool([
        'test.py', cfg, ckpt, '--work-dir', root / 'work', '--show-dir', show,
        '--cfg-options', f'experiment_name={unique_name("show")}'
    ], root)
    if 'visualization' in Config.fromfile(cfg).get('default_hooks', {}):
        assert_ok(proc)
        # strips land in DIR (an absolute DIR is kept as given)
        assert list(show.rglob('*.png')), proc.stdout[-2000:]
    else:  # no hook in the config: a clear refusal, not a silent no-op
        msg = last_error(proc)
        assert '--show-dir needs a visualization hook' in msg
        assert 'tiny_demo.py' in msg


def test_out_needs_json_or_csv(setup):
    root, cfg, ckpt = setup
    proc = run_tool(['test.py', cfg, ckpt, '--out', root / 'x.pkl'], root)
    assert proc.returncode == 2
    assert 'x.pkl: the file must end with .json or .csv' in proc.stderr


def _load_test_tool():
    path = osp.join(REPO, 'tools', 'test.py')
    spec = importlib.util.spec_from_file_location('mmvp_test_tool', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_per_sample_records_are_dumped(tmp_path):
    """Metrics that expose ``per_sample_results`` get one row per sample
    and time step in the CSV and a list in the JSON."""
    tool = _load_test_tool()

    class Metric:
        prefix = 'vmnist'
        per_sample_results = [
            dict(sample_idx=0, mse_frame_sum=[1.0, 2.0]),
            dict(sample_idx=1, mse_frame_sum=[3.0, 4.0], ssim=0.5),
        ]

    class Runner:
        test_evaluator = SimpleNamespace(metrics=[Metric()])

    records = tool.collect_per_sample(Runner())
    metrics = {'vmnist/mse_frame_sum': 2.5}
    tool.dump_results(
        str(tmp_path / 'r.csv'), metrics, records, 'c.py', 'k.pth')
    with open(tmp_path / 'r.csv') as f:
        rows = list(csv.reader(f))[1:]
    assert rows[0] == ['all', 'vmnist/mse_frame_sum', '2.5']
    assert ['0', 'vmnist/mse_frame_sum_t2', '2.0'] in rows
    assert ['1', 'vmnist/ssim', '0.5'] in rows
    tool.dump_results(
        str(tmp_path / 'r.json'), metrics, records, 'c.py', 'k.pth')
    result = json.loads((tmp_path / 'r.json').read_text())
    assert result['per_sample'][1]['mse_frame_sum'] == [3.0, 4.0]
    assert result['per_sample'][1]['metric_prefix'] == 'vmnist'
