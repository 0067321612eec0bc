# Copyright (c) mmvp contributors. All rights reserved.
"""Time every backbone against its MotionRNN version, over batch sizes and
precisions, in one process.

Each entry of the suite is one paired run of ``benchmark.py`` (``CONFIG
--baseline BASELINE``): the MotionRNN config and its backbone config
alternate steps, and the per-round time ratio is MotionRNN's overhead. The
suite runs every pair for every batch size and variant, in this order::

    for batch size: for variant: for pair

so that a ``--time-budget`` drops the entries at the end of the list.
Variants are a precision, optionally followed by ``-compile``
(``torch.compile`` of ``train_step``/``test_step``) or ``-regions``
(``torch.compile`` of each cell and MotionGRU block, the model's
``compile_regions``): ``fp32``, ``bf16``, ``fp16``, ``fp32-compile``,
``fp32-regions``, ... A ``--compile-mode`` given to the suite applies to
both.

Arguments this tool does not know are passed to every ``benchmark.py``
run (``--h36m``, ``--cudnn-benchmark``, ``--channels-last``,
``--threads``, ``--cfg-options``...); they are checked before the first
run.

After every entry the results so far are written atomically to
``OUT_DIR/suite.json`` (the full ``benchmark.py`` output of each entry)
and ``OUT_DIR/suite.md`` (a Markdown table), so a suite that is stopped
keeps what finished. An entry that fails is recorded with its error and
the suite goes on.

Examples::

    # every Human3.6M pair on a GPU, batch 8 and 32, fp32 and bf16
    python tools/analysis_tools/benchmark_suite.py --batch-sizes 8 32 \\
        --variants fp32 bf16 --cudnn-benchmark
    # two pairs on the CPU, batch 2, training only
    python tools/analysis_tools/benchmark_suite.py --device cpu \\
        --pairs configs/motionrnn_predrnn_h36m.py configs/predrnn_h36m.py \\
        --pairs configs/motionrnn_mim_h36m.py configs/mim_h36m.py \\
        --batch-sizes 2 --threads 2
"""
import argparse
import gc
import json
import os
import os.path as osp
import sys
import textwrap
import time
import traceback

import torch

from mmvp.utils import atomic_write_text

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import benchmark  # noqa: E402 (the benchmark tool beside this file)
from benchmark_utils import format_bytes, format_seconds  # noqa: E402

#: The paper-setting (Human3.6M) config of each backbone with MotionRNN,
#: and the backbone's own.
DEFAULT_PAIRS = tuple(
    (f'configs/motionrnn_{name}_h36m.py', f'configs/{name}_h36m.py')
    for name in ('convlstm', 'predrnn', 'predrnnpp', 'predrnnv2', 'mim',
                 'e3dlstm'))

#: benchmark.py options that the suite sets for each entry itself.
OWN_FLAGS = ('--amp', '--compile', '--compile-regions', '--baseline',
             '--batch-size', '--json', '--mode', '--iters', '--warmup')

#: variant suffix -> the benchmark.py flag it adds
COMPILE_SUFFIXES = {'compile': '--compile', 'regions': '--compile-regions'}
PRECISIONS = ('fp32', 'bf16', 'fp16')
VARIANTS = PRECISIONS + tuple(f'{precision}-{suffix}'
                              for suffix in COMPILE_SUFFIXES
                              for precision in PRECISIONS)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time every backbone against its MotionRNN version '
        '(paired benchmark.py runs) over batch sizes and precisions',
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=textwrap.fill(
            'Other arguments are passed to every benchmark.py run: ' +
            ', '.join(passthrough_flags()) + '.',
            break_on_hyphens=False))
    parser.add_argument(
        '--pairs',
        nargs=2,
        action='append',
        metavar=('CONFIG', 'BASELINE'),
        help='a MotionRNN config and the config it is compared with; '
        'repeat for several (default: the six Human3.6M pairs)')
    parser.add_argument(
        '--batch-sizes',
        type=int,
        nargs='+',
        default=[8],
        help='batch sizes, in the order they run (8)')
    parser.add_argument(
        '--variants',
        nargs='+',
        choices=VARIANTS,
        default=['fp32'],
        help='precisions (with -compile: torch.compile of the step; with '
        '-regions: of each cell and block), in the order they run (fp32)')
    parser.add_argument(
        '--mode',
        choices=['train', 'infer', 'both'],
        default='train',
        help='what each run times (train)')
    parser.add_argument(
        '--iters', type=int, default=20, help='timed rounds per run (20)')
    parser.add_argument(
        '--warmup', type=int, default=3, help='warm-up steps per run (3)')
    parser.add_argument(
        '--time-budget',
        type=float,
        help='seconds: no entry starts after this much time has passed; '
        'the rest are recorded as skipped')
    parser.add_argument(
        '--out-dir',
        default='work_dirs/benchmark_suite',
        help='where suite.json and suite.md are written')
    args, passthrough = parser.parse_known_args(argv)
    bad = [b for b in args.batch_sizes if b < 1]
    if bad:
        parser.error(f'--batch-sizes must be >= 1, got {bad}')
    for flag in OWN_FLAGS:
        if any(a == flag or a.startswith(flag + '=') for a in passthrough):
            parser.error(f'{flag} is set by the suite for each entry; use '
                         '--variants, --batch-sizes, --pairs, --mode, '
                         '--iters or --warmup')
    args.pairs = [tuple(p)
                  for p in args.pairs] if args.pairs else list(DEFAULT_PAIRS)
    for config, baseline in args.pairs:
        for path in (config, baseline):
            if not osp.isfile(path):
                parser.error(f'config file not found: {path}')
    args.passthrough = passthrough
    # unknown or malformed benchmark.py arguments fail now, not after an
    # hour of runs
    entry_argv(args, args.pairs[0], args.batch_sizes[0], args.variants[0])
    return args


def passthrough_flags() -> list:
    """The benchmark.py options a suite passes on to every entry."""
    flags = []
    for action in benchmark.build_parser()._actions:
        flags += [
            f for f in action.option_strings
            if f.startswith('--') and f not in OWN_FLAGS + ('--help', )
        ]
    return flags


def entry_argv(args, pair, batch_size: int, variant: str) -> list:
    """The ``benchmark.py`` arguments of one entry (checked by its
    parser)."""
    config, baseline = pair
    precision, _, compiled = variant.partition('-')
    argv = [
        config, '--baseline', baseline, '--batch-size',
        str(batch_size), '--mode', args.mode, '--iters',
        str(args.iters), '--warmup',
        str(args.warmup)
    ]
    if precision != 'fp32':
        argv += ['--amp', precision]
    if compiled:
        argv.append(COMPILE_SUFFIXES[compiled])
    argv += args.passthrough
    try:
        benchmark.parse_args(argv)
    except SystemExit as err:
        raise SystemExit(f'benchmark.py refused the arguments {argv}: exit '
                         f'status {err.code}') from None
    return argv


def run_entry(argv: list) -> dict:
    """One paired benchmark run; failures are returned, not raised."""
    t0 = time.perf_counter()
    try:
        out = benchmark.run(benchmark.parse_args(argv))
        status, error = 'ok', None
    except Exception as err:  # noqa: B902 (recorded, the suite goes on)
        out, status = None, 'failed'
        error = f'{type(err).__name__}: {err}\n' + ''.join(
            traceback.format_exc(limit=-3))
    except SystemExit as err:  # benchmark.py's own refusals
        out, status, error = None, 'failed', f'SystemExit: {err.code}'
    finally:
        release_memory()
    return dict(
        argv=argv,
        status=status,
        error=error,
        seconds=time.perf_counter() - t0,
        result=out)


def release_memory():
    """Free what the last entry's models and compiled graphs held."""
    gc.collect()
    if hasattr(torch, '_dynamo'):
        torch._dynamo.reset()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def entry_name(pair) -> str:
    return osp.splitext(osp.basename(pair[1]))[0]


def format_markdown(entries: list) -> str:
    """A Markdown table of the suite's entries, one row per mode."""
    lines = [
        '| baseline config | batch | variant | mode | baseline | '
        '+ MotionRNN | ratio (q1-q3) | MotionRNN GFLOP/s | peak memory '
        '(baseline / + MotionRNN) |', '| --- ' * 9 + '|'
    ]
    for e in entries:
        head = f'| {e["name"]} | {e["batch_size"]} | {e["variant"]} '
        if e['status'] != 'ok':
            reason = (e.get('error') or e['status']).splitlines()[0]
            lines.append(head + f'| {e["mode"]} | {e["status"]}: '
                         f'{reason[:120]} |' + ' |' * 4)
            continue
        res = e['result']
        base_rows = {r['mode']: r for r in res['baseline']['results']}
        for row in res['results']:
            base = base_rows[row['mode']]
            ratio = row['ratio_to_baseline']
            lines.append(head + f'| {row["mode"]} | '
                         f'{format_seconds(base["wall"]["median"])} | '
                         f'{format_seconds(row["wall"]["median"])} | '
                         f'{ratio["median"]:.3f} ({ratio["q1"]:.2f}-'
                         f'{ratio["q3"]:.2f}) | {row["gflops_per_s"]:.0f} | '
                         f'{format_bytes(base["peak_memory_bytes"])} / '
                         f'{format_bytes(row["peak_memory_bytes"])} |')
    return '\n'.join(lines)


def write_outputs(out_dir: str, meta: dict, entries: list) -> None:
    atomic_write_text(
        osp.join(out_dir, 'suite.json'),
        json.dumps(dict(meta, entries=entries), indent=2))
    atomic_write_text(
        osp.join(out_dir, 'suite.md'),
        format_markdown(entries) + '\n')


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    plan = [(b, v, p) for b in args.batch_sizes for v in args.variants
            for p in args.pairs]
    meta = dict(
        pairs=args.pairs,
        batch_sizes=args.batch_sizes,
        variants=args.variants,
        mode=args.mode,
        iters=args.iters,
        warmup=args.warmup,
        passthrough=args.passthrough)
    entries = []
    start = time.perf_counter()
    for k, (batch_size, variant, pair) in enumerate(plan):
        argv = entry_argv(args, pair, batch_size, variant)
        entry = dict(
            name=entry_name(pair),
            config=pair[0],
            baseline=pair[1],
            batch_size=batch_size,
            variant=variant,
            mode=args.mode)
        elapsed = time.perf_counter() - start
        if args.time_budget is not None and elapsed > args.time_budget:
            entry.update(
                argv=argv,
                status='skipped',
                error=f'time budget of {args.time_budget:g} s spent',
                result=None)
        else:
            print(
                f'[{k + 1}/{len(plan)}] {entry["name"]} + MotionRNN, '
                f'batch {batch_size}, {variant}',
                flush=True)
            entry.update(run_entry(argv))
            if entry['status'] == 'ok':
                print(benchmark.format_report(entry['result']), flush=True)
            else:
                print(entry['error'], flush=True)
        entries.append(entry)
        write_outputs(args.out_dir, meta, entries)
    table = format_markdown(entries)
    print(table)
    print(f'Wrote {osp.join(args.out_dir, "suite.json")} and suite.md')
    return entries


if __name__ == '__main__':
    main()
