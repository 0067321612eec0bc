# Copyright (c) mmvp contributors. All rights reserved.
"""tools/analysis_tools/benchmark_suite.py on tiny models (CPU): the plan,
its outputs after every entry, the time budget and recorded failures."""
import json
import os.path as osp

import pytest
from tools_helpers import REPO, load_tool

PAIRS = [
    '--pairs',
    osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist.py'),
    osp.join(REPO, 'configs', 'predrnn_vmnist.py'),
    '--pairs',
    osp.join(REPO, 'configs', 'motionrnn_convlstm_vmnist.py'),
    osp.join(REPO, 'configs', 'convlstm_vmnist.py'),
]
TINY = [
    '--iters', '2', '--warmup', '1', '--device', 'cpu', '--shape', '16', '16',
    '1', '--frames', '2', '2', '--cfg-options',
    'model.backbone.hidden_channels=8', 'model.backbone.num_layers=2'
]


@pytest.fixture(scope='module')
def suite():
    return load_tool('tools/analysis_tools/benchmark_suite.py',
                     'mmvp_benchmark_suite')


def test_default_pairs_are_the_paper_configs(suite):
    assert len(suite.DEFAULT_PAIRS) == 6
    for config, baseline in suite.DEFAULT_PAIRS:
        assert osp.isfile(osp.join(REPO, config))
        assert osp.isfile(osp.join(REPO, baseline))
        assert osp.basename(config) == 'motionrnn_' + osp.basename(baseline)


def test_help_lists_the_flags_passed_to_benchmark(suite):
    flags = suite.passthrough_flags()
    assert {'--h36m', '--cudnn-benchmark', '--profile',
            '--cfg-options'} <= set(flags)
    assert not set(flags) & set(suite.OWN_FLAGS)
    with pytest.raises(SystemExit):
        suite.parse_args(['--help'])


def test_suite_runs_the_plan_in_order_and_writes_tables(suite, tmp_path):
    entries = suite.main([
        *PAIRS, '--batch-sizes', '1', '2', '--variants', 'fp32', 'bf16',
        '--mode', 'both', '--out-dir',
        str(tmp_path), *TINY
    ])
    # batch size, then variant, then pair
    assert [(e['batch_size'], e['variant'], e['name']) for e in entries
            ] == [(b, v, n) for b in (1, 2) for v in ('fp32', 'bf16')
                  for n in ('predrnn_vmnist', 'convlstm_vmnist')]
    assert all(e['status'] == 'ok' for e in entries)
    saved = json.loads((tmp_path / 'suite.json').read_text())
    assert len(saved['entries']) == 8
    assert saved['passthrough'][:2] == ['--device', 'cpu']
    first = saved['entries'][0]['result']
    assert first['batch_size'] == 1 and first['amp'] is None
    assert saved['entries'][2]['result']['amp'] == 'bf16'
    assert [r['mode'] for r in first['results']] == ['train', 'infer']
    assert first['results'][0]['ratio_to_baseline']['n'] == 2
    table = (tmp_path / 'suite.md').read_text().splitlines()
    assert len(table) == 2 + 8 * 2  # header, rule, one row per mode
    assert table[2].startswith('| predrnn_vmnist | 1 | fp32 | train |')
    ratio = first['results'][0]['ratio_to_baseline']['median']
    assert f'| {ratio:.3f} (' in table[2]


def test_time_budget_skips_the_rest(suite, tmp_path):
    entries = suite.main(
        [*PAIRS, '--time-budget', '0', '--out-dir',
         str(tmp_path), *TINY])
    assert [e['status'] for e in entries] == ['skipped', 'skipped']
    table = (tmp_path / 'suite.md').read_text()
    assert 'skipped: time budget of 0 s spent' in table


def test_a_failed_entry_is_recorded_and_the_suite_goes_on(
        suite, tmp_path, monkeypatch):
    run = suite.benchmark.run
    calls = []

    def fail_first(args):
        calls.append(args.config)
        if len(calls) == 1:
            raise RuntimeError('CUDA out of memory (simulated)')
        return run(args)

    monkeypatch.setattr(suite.benchmark, 'run', fail_first)
    entries = suite.main([*PAIRS, '--out-dir', str(tmp_path), *TINY])
    assert [e['status'] for e in entries] == ['failed', 'ok']
    assert 'RuntimeError: CUDA out of memory' in entries[0]['error']
    saved = json.loads((tmp_path / 'suite.json').read_text())
    assert saved['entries'][0]['result'] is None
    assert 'failed: RuntimeError' in (tmp_path / 'suite.md').read_text()


def test_bad_requests_fail_before_any_run(suite, tmp_path, capsys):
    for extra, message in ((['--amp', 'bf16'], '--amp is set by the suite'),
                           (['--batch-sizes', '0'], 'must be >= 1'),
                           (['--pairs', 'nope.py',
                             'nope2.py'], 'config file not found: nope.py')):
        with pytest.raises(SystemExit):
            suite.parse_args([*extra, '--out-dir', str(tmp_path)])
        assert message in capsys.readouterr().err
    with pytest.raises(SystemExit, match='benchmark.py refused'):
        suite.parse_args([*PAIRS, '--bogus-flag'])
    assert not (tmp_path / 'suite.json').exists()


def test_variants_map_to_the_benchmark_flags(suite):
    args = suite.parse_args([*PAIRS, *TINY, '--compile-mode', 'max-autotune'])
    pair = (PAIRS[1], PAIRS[2])
    want = {
        'fp32': [],
        'bf16': ['--amp', 'bf16'],
        'fp16-compile': ['--amp', 'fp16', '--compile'],
        'fp32-regions': ['--compile-regions'],
        'bf16-regions': ['--amp', 'bf16', '--compile-regions'],
    }
    common = [
        pair[0], '--baseline', pair[1], '--batch-size', '8', '--mode', 'train',
        '--iters', '2', '--warmup', '1'
    ]
    for variant, flags in want.items():
        argv = suite.entry_argv(args, pair, 8, variant)
        assert argv[:len(common) + len(flags)] == common + flags
        assert argv[len(common) + len(flags)] == '--device'  # passed on
        # the mode given to the suite reaches both kinds of compile
        assert argv[-2:] == ['--compile-mode', 'max-autotune']
    with pytest.raises(SystemExit):
        suite.parse_args([*PAIRS, '--compile-regions'])
