# Copyright (c) mmvp contributors. All rights reserved.
"""Timing of training steps and inference of a video predictor.

Helpers of ``tools/analysis_tools/benchmark.py`` and
``benchmark_suite.py`` (imported from this folder, not part of the
``mmvp`` package):

* :func:`summarize`: median and spread of per-iteration times;
* :func:`time_iterations`: warm-up, then wall-clock and process CPU time
  per iteration, synchronising CUDA before reading the clock;
* :class:`PeakMemory`: peak memory over a block (CUDA
  ``max_memory_allocated``; on CPU the process peak RSS, reset through
  ``/proc/self/clear_refs`` where Linux allows it);
* :func:`benchmark_train` / :func:`benchmark_infer`: one training step is
  the model's own ``train_step`` with an ``OptimWrapper`` (data
  preprocessing, scheduled sampling, forward, backward, optimiser step);
  inference is ``test_step`` under ``torch.no_grad``;
* :func:`step_flops`: FLOPs of a step from the MAC count of
  ``count_complexity`` (``complexity.py`` beside this file).

FLOP convention: 2 FLOPs per multiply-accumulate, MACs in the ``'true'``
convention (the multiplications transposed convolutions really perform),
only convolutions and the MotionGRU warp counted
(model_equations.md#counting-parameters-and-macs). A training step is
counted as 3x the forward pass (forward, plus gradients with respect to
inputs and weights), per optimiser update.
"""
import contextlib
import os
import platform
import resource
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.logging import MessageHub

from mmvp.models.utils import channels_last_inputs, to_channels_last

__all__ = [
    'summarize', 'synchronize', 'time_iterations', 'PeakMemory',
    'random_batch', 'build_optim_wrapper', 'autocast_context',
    'to_channels_last', 'channels_last_inputs', 'benchmark_train',
    'benchmark_infer', 'train_step_fn', 'infer_step_fn', 'time_paired',
    'profile_step', 'step_flops', 'machine_info', 'loadavg', 'format_seconds',
    'format_bytes', 'format_table', 'AMP_DTYPES'
]

#: ``--amp`` names and their dtypes.
AMP_DTYPES = {'bf16': torch.bfloat16, 'fp16': torch.float16}


def summarize(times: Sequence[float]) -> dict:
    """Median and spread of per-iteration times (seconds).

    Returns:
        dict: ``median, mean, min, max, q1, q3`` (quartiles, inclusive
        method), ``iqr_rel`` (``(q3 - q1) / median``), ``n`` and the raw
        ``times``.
    """
    times = [float(t) for t in times]
    if not times:
        raise ValueError('no timings to summarize (iters must be >= 1)')
    if len(times) >= 2:
        q1, _, q3 = statistics.quantiles(times, n=4, method='inclusive')
    else:
        q1 = q3 = times[0]
    median = statistics.median(times)
    return dict(
        median=median,
        mean=statistics.fmean(times),
        min=min(times),
        max=max(times),
        q1=q1,
        q3=q3,
        iqr_rel=(q3 - q1) / median if median > 0 else 0.0,
        n=len(times),
        times=times)


def _device_type(device) -> str:
    return torch.device(device).type


def synchronize(device) -> None:
    """Wait for queued kernels of ``device`` (no-op on CPU)."""
    if _device_type(device) == 'cuda':
        torch.cuda.synchronize(device)


def time_iterations(fn: Callable[[int], object],
                    iters: int,
                    warmup: int,
                    device='cpu') -> Dict[str, dict]:
    """Call ``fn(i)`` ``warmup`` times untimed, then ``iters`` times timed.

    The device is synchronised before and after every timed call so that
    each wall time covers the work queued by the call.

    Returns:
        dict: ``wall`` and ``cpu`` (process CPU time of all threads, which
        a busy shared machine inflates less than wall time), each a
        :func:`summarize` dict; ``warmup_wall``: the wall time of each
        warm-up call (the first includes any compilation).
    """
    if iters < 1 or warmup < 0:
        raise ValueError(f'need iters >= 1 and warmup >= 0, got iters='
                         f'{iters}, warmup={warmup}')
    warm = dict(wall=[], cpu=[])
    for i in range(warmup):
        _timed_call(fn, i, device, warm)
    times = dict(wall=[], cpu=[])
    for i in range(warmup, warmup + iters):
        _timed_call(fn, i, device, times)
    out = {k: summarize(v) for k, v in times.items()}
    out['warmup_wall'] = warm['wall']
    return out


def _timed_call(fn: Callable[[int], object], i: int, device,
                times: Dict[str, list]) -> None:
    """Run ``fn(i)`` and append its wall and process CPU time (seconds)
    to ``times['wall']`` and ``times['cpu']``; CUDA is synchronised before
    the clocks are read."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    fn(i)
    synchronize(device)
    times['wall'].append(time.perf_counter() - t0)
    times['cpu'].append(time.process_time() - c0)


def _read_hwm_bytes() -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class PeakMemory:
    """Peak memory of the block it wraps.

    * CUDA: ``torch.cuda.max_memory_allocated`` after
      ``reset_peak_memory_stats`` (tensor memory of the device).
    * CPU: the peak resident set size of the process. On Linux the peak is
      reset on entry by writing ``5`` to ``/proc/self/clear_refs`` and read
      from ``VmHWM``; elsewhere it is the lifetime peak
      (``getrusage``), reported with ``scope='process'``.

    After the block ``bytes`` holds the peak and ``kind`` says which.
    """

    def __init__(self, device='cpu'):
        self.device = torch.device(device)
        self.bytes: Optional[int] = None
        self.kind = ''
        self.scope = 'block'

    def __enter__(self):
        if self.device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(self.device)
            self.kind = 'cuda_max_memory_allocated'
        else:
            self.kind = 'cpu_peak_rss'
            try:
                with open('/proc/self/clear_refs', 'w') as f:
                    f.write('5')
            except OSError:
                self.scope = 'process'
        return self

    def __exit__(self, *exc):
        if self.device.type == 'cuda':
            self.bytes = int(torch.cuda.max_memory_allocated(self.device))
            return False
        hwm = _read_hwm_bytes() if self.scope == 'block' else None
        if hwm is None:
            self.scope = 'process'
            maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            # Linux reports KiB, macOS bytes
            hwm = maxrss if platform.system() == 'Darwin' else maxrss * 1024
        self.bytes = int(hwm)
        return False


def random_batch(batch_size: int,
                 frames: int,
                 img_channels: int,
                 height: int,
                 width: int,
                 seed: int = 0) -> dict:
    """A packed batch as the dataloader gives it: ``inputs`` a list of
    uint8 clips ``[T, C, H, W]``, no data samples."""
    gen = torch.Generator().manual_seed(seed)
    clips = torch.randint(
        0,
        256, (batch_size, frames, img_channels, height, width),
        generator=gen,
        dtype=torch.uint8)
    return dict(inputs=list(clips))


def build_optim_wrapper(model: nn.Module,
                        amp: Optional[str] = None,
                        device='cpu',
                        lr: float = 3e-4,
                        cfg: Optional[dict] = None):
    """The optimizer wrapper a training step runs with.

    Args:
        model (nn.Module): The model to optimise.
        amp (str, optional): ``'bf16'`` or ``'fp16'``: wrap the optimizer
            in mmvp's ``DeviceAmpOptimWrapper`` (autocast to that dtype,
            dynamic loss scale); it refuses fp16 on CPU with an
            explanation (PyTorch autocasts only to bf16 there).
        device: Where the model runs (for the AMP wrapper).
        lr (float): Learning rate of the default Adam.
        cfg (dict, optional): A config's ``optim_wrapper`` (e.g. with a
            ``fused`` or ``foreach`` Adam); default ``Adam(lr)`` in an
            ``OptimWrapper``. ``amp`` replaces its wrapper type (by the
            AMP flavour of ``NonFiniteSkipOptimWrapper`` for that one).
    """
    if amp is not None and amp not in AMP_DTYPES:
        raise ValueError(f'amp must be one of {sorted(AMP_DTYPES)} or None, '
                         f'got {amp!r}')
    from mmengine.optim import build_optim_wrapper as build_wrapper
    cfg = dict(cfg) if cfg else dict(
        type='OptimWrapper', optimizer=dict(type='Adam', lr=lr))
    if amp is not None:
        # the config's non-finite skipping stays, in its AMP flavour
        skip = cfg.get('type') in ('NonFiniteSkipOptimWrapper',
                                   'NonFiniteSkipAmpOptimWrapper')
        cfg.update(
            type='NonFiniteSkipAmpOptimWrapper'
            if skip else 'DeviceAmpOptimWrapper',
            dtype='bfloat16' if amp == 'bf16' else 'float16',
            device=_device_type(device))
    from mmengine.registry import DefaultScope

    import mmvp.engine  # noqa: F401 (registers DeviceAmpOptimWrapper)
    with DefaultScope.overwrite_default_scope('mmvp'):
        return build_wrapper(model, cfg)


def autocast_context(amp: Optional[str], device='cpu'):
    """``torch.autocast`` for inference with ``amp`` (or a null context).
    """
    if amp is None:
        return contextlib.nullcontext()
    if amp not in AMP_DTYPES:
        raise ValueError(f'amp must be one of {sorted(AMP_DTYPES)} or None, '
                         f'got {amp!r}')
    device_type = _device_type(device)
    if device_type == 'cpu' and amp == 'fp16':
        raise ValueError('fp16 autocast is not supported on CPU (PyTorch '
                         'autocasts only to bfloat16 there); use --amp bf16')
    return torch.autocast(device_type, dtype=AMP_DTYPES[amp])


def _set_iter(i: int):
    # the scheduled-sampling masks are a function of the iteration
    MessageHub.get_current_instance().update_info('iter', i)


def train_step_fn(model: nn.Module,
                  data: dict,
                  optim_wrapper,
                  losses: Optional[list] = None) -> Callable[[int], None]:
    """``fn(i)``: set the iteration to ``i`` and run
    ``model.train_step(data, optim_wrapper)``; appends the logged loss to
    ``losses`` when given."""

    def step(i):
        model.train()
        _set_iter(i)
        log_vars = model.train_step(data, optim_wrapper)
        if losses is not None:
            # detached: a logged loss may still hold its autograd graph
            losses.append(torch.as_tensor(log_vars['loss']).detach())

    return step


def infer_step_fn(model: nn.Module,
                  data: dict,
                  device='cpu',
                  amp: Optional[str] = None) -> Callable[[int], None]:
    """``fn(i)``: ``model.test_step(data)`` in eval mode under
    ``torch.no_grad`` and optional autocast."""

    def step(i):
        model.eval()
        with torch.no_grad(), autocast_context(amp, device):
            model.test_step(data)

    return step


def _with_peak(out: dict, peak: 'PeakMemory') -> dict:
    out.update(
        peak_memory_bytes=peak.bytes,
        peak_memory_kind=peak.kind,
        peak_memory_scope=peak.scope)
    return out


def benchmark_train(model: nn.Module,
                    data: dict,
                    optim_wrapper,
                    iters: int = 10,
                    warmup: int = 2,
                    device='cpu') -> dict:
    """Time ``model.train_step(data, optim_wrapper)``.

    Returns:
        dict: :func:`time_iterations`'s ``wall`` and ``cpu``, the peak
        memory (``peak_memory_bytes``, ``peak_memory_kind``,
        ``peak_memory_scope``) and the mean logged ``loss``.
    """
    losses = []
    with PeakMemory(device) as peak:
        out = time_iterations(
            train_step_fn(model, data, optim_wrapper, losses), iters, warmup,
            device)
    out['loss'] = float(torch.stack([v.float().cpu() for v in losses]).mean())
    return _with_peak(out, peak)


def benchmark_infer(model: nn.Module,
                    data: dict,
                    iters: int = 10,
                    warmup: int = 2,
                    device='cpu',
                    amp: Optional[str] = None) -> dict:
    """Time ``model.test_step(data)`` (preprocessing and the predict-mode
    rollout) under ``torch.no_grad`` and optional autocast.

    Returns:
        dict: ``wall``, ``cpu``, the peak memory and
        ``sequences_per_s`` (batch size / median wall time).
    """
    with PeakMemory(device) as peak:
        out = time_iterations(
            infer_step_fn(model, data, device, amp), iters, warmup, device)
    out['sequences_per_s'] = len(data['inputs']) / out['wall']['median']
    return _with_peak(out, peak)


def time_paired(fn: Callable[[int], object],
                baseline_fn: Callable[[int], object],
                iters: int,
                warmup: int,
                device='cpu') -> Dict[str, dict]:
    """Time ``fn`` against ``baseline_fn``, alternating them call by call.

    On a shared or thermally throttled machine the speed drifts over
    seconds; two separate runs then compare different machines. Here
    round ``i`` runs ``fn(i)`` and ``baseline_fn(i)`` back to back (in
    ABBA order: main first in even rounds, baseline first in odd ones) and
    the ratio of the two times is taken per round, so a drift slower than
    one round cancels. The peak memory of each is measured over its own warm-up
    calls (``warmup >= 1``), before the alternation.

    Returns:
        dict: ``main`` and ``baseline``, each with ``wall``, ``cpu``,
        ``warmup_wall`` (see :func:`time_iterations`) and the peak memory;
        ``ratio``: a :func:`summarize` dict of the per-round
        ``main / baseline`` wall time ratios.
    """
    if iters < 1 or warmup < 1:
        raise ValueError('paired timing needs iters >= 1 and warmup >= 1 '
                         f'(warm-up calls measure memory), got iters={iters}'
                         f', warmup={warmup}')
    peaks, warm = {}, {}
    for name, f in (('main', fn), ('baseline', baseline_fn)):
        warm[name] = dict(wall=[], cpu=[])
        with PeakMemory(device) as peak:
            for i in range(warmup):
                _timed_call(f, i, device, warm[name])
        peaks[name] = peak
    times = {name: dict(wall=[], cpu=[]) for name in peaks}
    pair = (('main', fn), ('baseline', baseline_fn))
    for i in range(warmup, warmup + iters):
        # ABBA order: whichever runs second in a round (warm caches, the
        # other's freed memory) does so in every other round
        for name, f in pair if (i - warmup) % 2 == 0 else pair[::-1]:
            _timed_call(f, i, device, times[name])
    out = {
        name:
        _with_peak(
            dict(
                wall=summarize(t['wall']),
                cpu=summarize(t['cpu']),
                warmup_wall=warm[name]['wall']), peaks[name])
        for name, t in times.items()
    }
    if _device_type(device) != 'cuda':
        # The CPU peak is the process's resident set, and the allocator
        # keeps what the first model freed: the second would be charged
        # with it. Not separable here; time each alone for memory.
        for name in peaks:
            out[name].update(
                peak_memory_bytes=None,
                peak_memory_scope='not separable in a paired CPU run')
    out['ratio'] = summarize([
        a / b for a, b in zip(times['main']['wall'], times['baseline']['wall'])
    ])
    return out


def profile_step(fn: Callable[[int], object], i: int, device='cpu') -> dict:
    """Run ``fn(i)`` once under ``torch.profiler``: where a step goes.

    Returns:
        dict: ``host_ops``, the top-level ATen operators the step
        dispatched (each costs host time in PyTorch's dispatcher and, in
        eager mode, launches its own kernels), and on CUDA
        ``device_events`` (kernels, copies and fills) and
        ``device_time_s``, their summed duration. A device time far below
        the step's wall time means the step is bound by the host, i.e. by
        the number of operators rather than their arithmetic.
    """
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile
    cuda = _device_type(device) == 'cuda'
    activities = [ProfilerActivity.CPU]
    if cuda:
        activities.append(ProfilerActivity.CUDA)
    synchronize(device)
    with profile(activities=activities) as prof:
        fn(i)
        synchronize(device)
    events = prof.events()

    def nested(event):
        parent = event.cpu_parent
        return parent is not None and parent.name.startswith('aten::')

    out = dict(
        host_ops=sum(1 for e in events
                     if e.name.startswith('aten::') and not nested(e)),
        device_events=None,
        device_time_s=None)
    if cuda:
        on_device = [e for e in events if e.device_type == DeviceType.CUDA]
        out.update(
            device_events=len(on_device),
            device_time_s=sum(e.time_range.elapsed_us()
                              for e in on_device) / 1e6)
    return out


def step_flops(macs_per_sequence: int,
               batch_size: int,
               updates_per_step: int = 1) -> dict:
    """FLOPs of one inference call and one training step.

    ``forward = 2 * MACs * batch``; ``train = 3 * forward *
    updates_per_step`` (the usual forward + backward convention; a
    ``reverse_input`` model makes two updates per step).
    """
    forward = 2 * int(macs_per_sequence) * int(batch_size)
    return dict(
        forward=forward,
        infer=forward,
        train=3 * forward * int(updates_per_step),
        convention='2 FLOPs per true MAC (convs and the warp only); '
        'train = 3 x forward per optimiser update')


def machine_info(device='cpu') -> dict:
    """What the figures depend on: torch, threads, CPU, load, GPU."""
    info = dict(
        torch=torch.__version__,
        device=str(device),
        threads=torch.get_num_threads(),
        omp_num_threads=os.environ.get('OMP_NUM_THREADS'),
        cpu=platform.processor() or platform.machine(),
        cpu_count=os.cpu_count())
    try:
        info['loadavg_1min'] = os.getloadavg()[0]
    except (AttributeError, OSError):
        info['loadavg_1min'] = None
    if _device_type(device) == 'cuda':
        info.update(
            gpu=torch.cuda.get_device_name(device),
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
            # fp32 convolutions use TF32 tensor cores when this is on
            # (PyTorch's default); fp32 matrix products when the next is
            cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
            matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
            cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info


def loadavg() -> Optional[float]:
    """The 1-minute load average, or None where unavailable."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def format_seconds(value: float) -> str:
    """``0.01234 -> '12.3 ms'``, ``2.5 -> '2.500 s'``."""
    if value < 1:
        return f'{value * 1e3:.1f} ms'
    return f'{value:.3f} s'


def format_bytes(value: Optional[int]) -> str:
    if value is None:
        return 'n/a'
    return f'{value / 2**20:.0f} MiB'


def format_table(rows: List[dict]) -> str:
    """A plain-text table of benchmark rows (see the tool's JSON)."""
    header = ('mode', 'median', 'q1..q3', 'cpu', 'GFLOP/s', 'seq/s',
              'peak mem', 'load')
    lines = []
    body = []
    for row in rows:
        wall = row['wall']
        body.append(
            (row['mode'], format_seconds(wall['median']),
             f'{format_seconds(wall["q1"])}..'
             f'{format_seconds(wall["q3"])}',
             format_seconds(row['cpu']['median']),
             f'{row["gflops_per_s"]:.1f}', f'{row["sequences_per_s"]:.2f}',
             format_bytes(row['peak_memory_bytes']),
             '' if row.get('load') is None else f'{row["load"]:.2f}'))
    widths = [
        max(len(str(r[i])) for r in body + [header])
        for i in range(len(header))
    ]

    def fmt(r):
        return '  '.join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(r, widths)))

    lines.append(fmt(header))
    lines.append('-' * len(lines[0]))
    lines += [fmt(r) for r in body]
    return '\n'.join(lines)
