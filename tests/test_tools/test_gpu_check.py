# Copyright (c) mmvp contributors. All rights reserved.
"""tools/analysis_tools/gpu_check.sh: its steps, listed with DRY_RUN=1, fit
in ten minutes and pass options their tools accept (checked here by the
tools' own parsers, without a GPU)."""
import os
import os.path as osp
import shlex
import subprocess
import sys

import pytest
from mmengine.config import Config
from tools_helpers import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools', 'analysis_tools')
SCRIPT = osp.join(TOOLS, 'gpu_check.sh')
sys.path.insert(0, TOOLS)


def _tool(name):
    return load_tool(f'tools/analysis_tools/{name}.py', f'mmvp_{name}_tool')


@pytest.fixture(scope='module')
def steps(tmp_path_factory):
    out = tmp_path_factory.mktemp('gpu_check')
    env = dict(os.environ, DRY_RUN='1')
    res = subprocess.run(['bash', SCRIPT, str(out)],
                         env=env,
                         capture_output=True,
                         text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    rows = [shlex.split(line) for line in res.stdout.splitlines()]
    # a dry run runs nothing and writes nothing
    assert os.listdir(out) == []
    return {row[0]: (int(row[1]), row[2:]) for row in rows}


def test_the_steps_and_their_time_limits(steps):
    assert list(steps) == [
        'cuda_tests', 'loss_regions_tf32', 'loss_graphs_bf16', 'suite',
        'loader_config_workers', 'loader_all_cores'
    ]
    assert sum(limit for limit, _ in steps.values()) <= 600


def test_the_cuda_tests_exist(steps):
    _, cmd = steps['cuda_tests']
    assert cmd[:3] == ['python', '-m', 'pytest']
    path = osp.join(REPO, cmd[3])
    with open(path) as f:
        assert 'cuda' in f.read()


def test_the_loss_comparisons_parse(steps):
    tool = _tool('compare_fast_path')
    for name in ('loss_regions_tf32', 'loss_graphs_bf16'):
        _, cmd = steps[name]
        assert cmd[1] == 'tools/analysis_tools/compare_fast_path.py'
        own, eager, fast = tool.parse_args(cmd[2:])
        assert own.iters == 50
        assert fast.compile_regions and not eager.compile_regions
    _, cmd = steps['loss_graphs_bf16']
    own, eager, fast = tool.parse_args(cmd[2:])
    assert fast.compile_mode == 'reduce-overhead'
    assert eager.compile_mode is None and eager.amp == fast.amp == 'bf16'


def test_the_suite_parses(steps):
    limit, cmd = steps['suite']
    args = _tool('benchmark_suite').parse_args(cmd[2:])
    assert args.batch_sizes == [8, 32]
    assert set(
        args.variants) == {'fp32', 'fp32-regions', 'bf16', 'bf16-regions'}
    assert '--profile' in args.passthrough
    # the suite stops starting entries before its step's limit
    assert args.time_budget < limit


def test_the_loader_steps_parse(steps):
    tool = _tool('benchmark_loader')
    workers = []
    for name in ('loader_config_workers', 'loader_all_cores'):
        _, cmd = steps[name]
        workers.append(tool.parse_args(cmd[2:]).num_workers)
    # the worker count the Human3.6M configs set, then one per core
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py'))
    assert workers[0] == cfg.train_dataloader.num_workers
    assert workers[1] == len(os.sched_getaffinity(0))
