# Copyright (c) mmvp contributors. All rights reserved.
"""The timing helpers (benchmark_utils.py) and the benchmark tool
(tools/analysis_tools/benchmark.py) on tiny models. CUDA branches are
checked with the CUDA calls replaced by recorders; no timing is asserted.
"""
import importlib.util
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
# the helper modules beside the tools
import benchmark_utils as bm  # noqa: E402
import complexity as cx  # noqa: E402

TOOL = osp.join(REPO, 'tools', 'analysis_tools', 'benchmark.py')
DEMO = osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist_demo.py')
H36M = osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py')
TINY = [
    '--shape', '16', '16', '1', '--frames', '2', '2', '--batch-size', '1',
    '--iters', '2', '--warmup', '1', '--device', 'cpu', '--cfg-options',
    'model.backbone.hidden_channels=8', 'model.backbone.num_layers=2'
]


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('mmvp_benchmark_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_summarize():
    s = bm.summarize([4.0, 1.0, 3.0, 2.0, 5.0])
    assert s['median'] == 3.0 and s['min'] == 1.0 and s['max'] == 5.0
    assert (s['q1'], s['q3']) == (2.0, 4.0)
    assert s['iqr_rel'] == pytest.approx(2 / 3)
    assert s['n'] == 5 and s['mean'] == 3.0
    one = bm.summarize([0.5])
    assert one['q1'] == one['q3'] == one['median'] == 0.5
    with pytest.raises(ValueError, match='no timings'):
        bm.summarize([])


def test_time_iterations_warmup_and_counts():
    calls = []
    out = bm.time_iterations(calls.append, iters=3, warmup=2)
    assert calls == [0, 1, 2, 3, 4]  # warm-up first, then timed
    assert out['wall']['n'] == 3 and out['cpu']['n'] == 3
    assert len(out['warmup_wall']) == 2  # the compile time shows here
    assert all(t >= 0 for t in out['wall']['times'])
    with pytest.raises(ValueError, match='iters >= 1'):
        bm.time_iterations(calls.append, iters=0, warmup=0)


def test_time_paired_alternates_and_takes_ratios_per_round(monkeypatch):
    calls = []
    clock = [0.0]

    def timed(name, seconds):

        def fn(i):
            calls.append((name, i))
            clock[0] += seconds * (1 + i)  # the machine slows down

        return fn

    monkeypatch.setattr(bm.time, 'perf_counter', lambda: clock[0])
    out = bm.time_paired(timed('a', 1.2), timed('b', 1.0), iters=3, warmup=1)
    # each warms up alone (its memory is measured there), then they
    # alternate round by round (ABBA) with the same iteration numbers
    assert calls == [('a', 0), ('b', 0), ('a', 1), ('b', 1), ('b', 2),
                     ('a', 2), ('a', 3), ('b', 3)]
    assert out['main']['wall']['times'] == pytest.approx([2.4, 3.6, 4.8])
    assert out['baseline']['wall']['times'] == pytest.approx([2., 3., 4.])
    assert out['main']['warmup_wall'] == pytest.approx([1.2])
    assert out['baseline']['warmup_wall'] == pytest.approx([1.0])
    # a drift that separate runs would mistake for overhead cancels here
    assert out['ratio']['times'] == pytest.approx([1.2] * 3)
    # CPU: one resident set for both, so no per-model figure
    assert out['main']['peak_memory_bytes'] is None
    assert 'not separable' in out['baseline']['peak_memory_scope']
    with pytest.raises(ValueError, match='warmup >= 1'):
        bm.time_paired(timed('a', 1), timed('b', 1), iters=2, warmup=0)


def test_cuda_branch_synchronizes_every_timed_call(monkeypatch):
    events = []
    monkeypatch.setattr(
        torch.cuda, 'synchronize', lambda device=None: events.append('sync'))
    bm.time_iterations(lambda i: events.append(i), 2, 1, device='cuda')
    # after the warm-up, and after each timed call
    assert events == [0, 'sync', 1, 'sync', 2, 'sync']
    events.clear()
    bm.time_iterations(lambda i: events.append(i), 2, 1, device='cpu')
    assert 'sync' not in events


def test_peak_memory_cpu_sees_a_large_allocation():
    with bm.PeakMemory('cpu') as peak:
        big = torch.ones(64 * 2**20 // 4)  # 64 MiB
        big.add_(1)
    del big
    assert peak.kind == 'cpu_peak_rss'
    assert peak.bytes >= 64 * 2**20


def test_peak_memory_cuda_branch(monkeypatch):
    calls = []
    monkeypatch.setattr(
        torch.cuda,
        'reset_peak_memory_stats',
        lambda device=None: calls.append('reset'))
    monkeypatch.setattr(
        torch.cuda, 'max_memory_allocated', lambda device=None: 12345)
    with bm.PeakMemory('cuda:0') as peak:
        calls.append('work')
    assert calls == ['reset', 'work']
    assert peak.bytes == 12345
    assert peak.kind == 'cuda_max_memory_allocated'


def test_step_flops_convention():
    f = bm.step_flops(10, batch_size=2)
    assert f['forward'] == f['infer'] == 40  # 2 FLOPs per MAC
    assert f['train'] == 120  # 3 x forward
    assert bm.step_flops(10, 2, updates_per_step=2)['train'] == 240


def test_autocast_context():
    assert bm.autocast_context(None).__class__.__name__ == 'nullcontext'
    with bm.autocast_context('bf16', 'cpu'):
        assert torch.get_autocast_dtype('cpu') == torch.bfloat16
        assert torch.is_autocast_enabled('cpu')
    with pytest.raises(ValueError, match='bfloat16'):
        bm.autocast_context('fp16', 'cpu')
    with pytest.raises(ValueError, match='amp must be'):
        bm.autocast_context('int8', 'cpu')


def test_channels_last_helpers_keep_values():
    conv = torch.nn.Conv2d(4, 6, 3)
    conv3d = torch.nn.Conv3d(4, 6, (2, 3, 3))
    model = torch.nn.ModuleList([conv, conv3d])
    before = {k: v.clone() for k, v in model.state_dict().items()}
    bm.to_channels_last(model)
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert conv3d.weight.is_contiguous(memory_format=torch.channels_last_3d)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    clip = torch.rand(2, 3, 4, 5, 6)
    cl = bm.channels_last_inputs(clip)
    assert torch.equal(cl, clip)
    assert cl[:, 1].stride(1) == 1  # channels innermost per frame
    with pytest.raises(ValueError, match='B, T, C, H, W'):
        bm.channels_last_inputs(clip[0])


def test_tool_resolves_settings(tool):
    args = tool.parse_args([DEMO, '--h36m'])
    s = tool.resolve_settings(Config.fromfile(DEMO), args)
    assert (s['height'], s['width'], s['img_channels']) == (128, 128, 3)
    assert (s['in_frames'], s['out_frames']) == (4, 4)
    # V-MNIST: the dataset class default size, the model's frames
    args = tool.parse_args([DEMO])
    cfg = Config.fromfile(DEMO)
    s = tool.resolve_settings(cfg, args)
    assert (s['height'], s['img_channels']) == (64, 1)
    assert s['in_frames'] == cfg.model.in_frames != 4
    if osp.exists(H36M):  # the size comes from the ResizeFrames step
        args = tool.parse_args([H36M])
        s = tool.resolve_settings(Config.fromfile(H36M), args)
        assert (s['height'], s['width'], s['img_channels']) == (128, 128, 3)
        assert s['input_shape'] == (1, 8, 48, 32, 32)


def test_tool_end_to_end_json(tool, tmp_path):
    out_path = tmp_path / 'bench.json'
    out = tool.main([DEMO, *TINY, '--json', str(out_path)])
    saved = json.loads(out_path.read_text())
    assert saved['results'][0]['mode'] == 'train'
    assert saved['results'][1]['mode'] == 'infer'
    # the FLOPs come from the MAC count of get_flops (true convention)
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({
        'model.backbone.hidden_channels': 8,
        'model.backbone.num_layers': 2
    })
    settings = cx.sequence_settings(cfg.model, 16, 16, 2, 2, 1)
    model = cx.build_model_for_counting(cfg.model, settings, 'meta')
    macs = cx.count_complexity(
        model, torch.empty(settings['input_shape'], device='meta'))
    assert saved['macs_per_sequence'] == macs.macs_true
    train, infer = saved['results']
    assert train['flops'] == 3 * 2 * macs.macs_true
    assert infer['flops'] == 2 * macs.macs_true
    for row in (train, infer):
        assert row['wall']['n'] == 2
        assert row['gflops_per_s'] > 0
        assert row['peak_memory_bytes'] > 0
    assert infer['sequences_per_s'] == pytest.approx(1 /
                                                     infer['wall']['median'])
    assert saved['updates_per_step'] == 1
    assert saved['machine']['threads'] == 1
    assert out['batch_size'] == 1
    assert 'GFLOP/s' in tool.format_report(out)


def test_tool_options_bf16_channels_last_train_only(tool):
    out = tool.main(
        [DEMO, *TINY, '--amp', 'bf16', '--channels-last', '--mode', 'train'])
    assert [r['mode'] for r in out['results']] == ['train']
    assert out['amp'] == 'bf16' and out['channels_last']
    assert out['results'][0]['loss'] > 0


def test_tool_channels_last_follows_the_config_unless_told(tool):
    # the paper configs store NHWC; --no-channels-last overrides them
    out = tool.main([DEMO, *TINY, '--mode', 'infer'])
    assert out['channels_last'] is True
    out = tool.main([DEMO, *TINY, '--mode', 'infer', '--no-channels-last'])
    assert out['channels_last'] is False


def test_tool_baseline_reports_the_overhead_ratio(tool, tmp_path):
    baseline = osp.join(REPO, 'configs', 'predrnn_vmnist.py')
    out_path = tmp_path / 'pair.json'
    # (TINY ends in --cfg-options: the demo's kernel for both)
    out = tool.main([
        DEMO, *TINY, 'model.backbone.kernel_size=3', '--baseline', baseline,
        '--json',
        str(out_path)
    ])
    saved = json.loads(out_path.read_text())
    base = saved['baseline']
    assert base['config'] == baseline and base['model'] == 'PredRNN'
    # --cfg-options shrink both models alike
    assert 0 < base['params'] < saved['params'] < 100_000
    assert base['macs_per_sequence'] < saved['macs_per_sequence']
    assert [r['mode'] for r in base['results']] == ['train', 'infer']
    for row, brow in zip(saved['results'], base['results']):
        ratio = row['ratio_to_baseline']
        assert ratio['n'] == 2
        assert ratio['times'] == pytest.approx([
            a / b for a, b in zip(row['wall']['times'], brow['wall']['times'])
        ])
        assert brow['flops'] < row['flops']
    assert saved['results'][0]['loss'] > 0 and base['results'][0]['loss'] > 0
    report = tool.format_report(out)
    assert 'train (baseline)' in report and 'x the baseline' in report
    with pytest.raises(SystemExit, match='warmup'):
        tool.main([DEMO, *TINY, '--baseline', baseline, '--warmup', '0'])


def test_tool_baseline_options_time_a_config_against_itself(tool):
    out = tool.main([
        DEMO, *TINY, '--mode', 'infer', '--baseline', DEMO,
        '--baseline-cfg-options', 'model.channels_last=False'
    ])
    assert out['channels_last'] is True
    assert out['baseline']['channels_last'] is False
    assert out['baseline']['params'] == out['params']
    assert out['baseline']['cfg_options'] == {'model.channels_last': False}
    assert 'model.channels_last=False' in tool.format_report(out)
    with pytest.raises(SystemExit, match='needs --baseline'):
        tool.main(
            [DEMO, *TINY, '--baseline-cfg-options', 'model.channels_last=0'])


def test_tool_reverse_input_counts_two_updates(tool):
    out = tool.main([
        DEMO, *TINY, '--mode', 'train', '--reverse-input', '--cfg-options',
        'model.reverse_input=True'
    ])
    assert out['updates_per_step'] == 2
    assert out['results'][0]['flops'] == 2 * 3 * 2 * out['macs_per_sequence']


def test_tool_refuses_bad_requests(tool):
    with pytest.raises(SystemExit, match='bfloat16'):
        tool.main([DEMO, *TINY, '--amp', 'fp16'])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match='no CUDA device'):
            tool.main([DEMO, *TINY, '--device', 'cuda'])
    with pytest.raises(SystemExit, match='batch-size'):
        tool.main([DEMO, *TINY, '--batch-size', '0'])
    with pytest.raises(SystemExit, match='not divisible'):
        tool.main([DEMO, '--shape', '18', '18', '1'])


def test_tool_compile_regions(tool):
    # the eager backend captures the regions' graphs without generating
    # code, so this checks the plumbing in seconds
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    out = tool.main([
        DEMO, *TINY, '--mode', 'train', '--compile-regions', '--cfg-options',
        'model.compile_regions.backend=eager'
    ])
    assert out['compile_regions'] and not out['compile']
    assert counters['stats']['unique_graphs'] > 0
    assert len(out['results'][0]['warmup_wall']) == 1
    report = tool.format_report(out)
    assert 'compile=regions (default mode)' in report
    assert 'train: first step' in report
    # a config that compiles its regions itself is reported as such
    out = tool.main([
        DEMO, *TINY, '--mode', 'infer', '--cfg-options',
        'model.compile_regions.backend=eager'
    ])
    assert out['compile_regions'] and not out['compile']
    out = tool.main([DEMO, *TINY, '--mode', 'infer'])
    assert not out['compile_regions']
    assert 'compile=False' in tool.format_report(out)
    torch._dynamo.reset()


def test_tool_refuses_bad_compile_requests(tool):
    with pytest.raises(SystemExit, match='exclude each other'):
        tool.main([DEMO, *TINY, '--compile', '--compile-regions'])
    with pytest.raises(SystemExit, match='needs --compile or'):
        tool.main([DEMO, *TINY, '--compile-mode', 'max-autotune'])
    with pytest.raises(SystemExit, match='bogus'):
        tool.main(
            [DEMO, *TINY, '--compile-regions', '--compile-mode', 'bogus'])
    with pytest.raises(SystemExit, match='--compile-mode bogus'):
        tool.main([DEMO, *TINY, '--compile', '--compile-mode', 'bogus'])


def test_profile_step_counts_operators_on_cpu():
    x = torch.randn(4, 4)
    out = bm.profile_step(lambda i: (x @ x).relu().sum(), 0, 'cpu')
    # matmul (mm), relu and sum at least; nested calls are not counted
    assert 3 <= out['host_ops'] <= 6
    assert out['device_events'] is None and out['device_time_s'] is None


def test_tool_profile_reports_operator_counts(tool):
    out = tool.main([
        DEMO, *TINY, '--mode', 'train', '--profile', '--baseline',
        osp.join(REPO, 'configs', 'predrnn_vmnist.py')
    ])
    main_ops = out['results'][0]['profile']['host_ops']
    base_ops = out['baseline']['results'][0]['profile']['host_ops']
    # MotionGRU adds operators to every step of the same backbone
    assert main_ops > base_ops > 100
    report = tool.format_report(out)
    assert f'dispatched {main_ops:,} ATen operators' in report
    assert 'train (baseline): one profiled step' in report


def test_tool_cudnn_benchmark_follows_the_config_on_cuda(tool, monkeypatch):
    cfg = Config(dict(env_cfg=dict(cudnn_benchmark=True)))
    args = tool.parse_args([DEMO])
    monkeypatch.setattr(torch.backends.cudnn, 'benchmark', False)
    assert tool._cudnn_benchmark(cfg, args, torch.device('cuda')) is True
    assert torch.backends.cudnn.benchmark is True
    args = tool.parse_args([DEMO, '--no-cudnn-benchmark'])
    assert tool._cudnn_benchmark(cfg, args, torch.device('cuda')) is False
    assert torch.backends.cudnn.benchmark is False
    # untouched on the CPU, and refused when asked for there
    assert tool._cudnn_benchmark(cfg, args, torch.device('cpu')) is None
    with pytest.raises(SystemExit, match='needs --device cuda'):
        tool.main([DEMO, *TINY, '--cudnn-benchmark'])
