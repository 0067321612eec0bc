# Copyright (c) mmvp contributors. All rights reserved.
"""Plot per-timestep metric curves of several test results in one figure.

Examples::

    python tools/analysis_tools/plot_metrics.py \
        predrnn.json motionrnn.json --key mse_frame_sum --out mse.png
    python tools/analysis_tools/plot_metrics.py a.csv b.csv \
        --key mse_frame_sum --key ssim --labels PredRNN MotionRNN \
        --out curves.png

A result file is what ``tools/test.py --out`` writes (``.json`` with a
``metrics`` dict, or ``.csv`` with ``sample_idx, metric, value`` rows whose
``sample_idx`` is ``all``), a flat JSON dict of metrics, or an MMEngine
``scalars.json`` log (JSON lines; the last record holding the key is used).
``--key NAME`` selects ``NAME_t1 .. NAME_tT``; ``NAME`` may carry the
metric prefix (``vmnist/mse_frame_sum``) and must when several prefixes
match. One subplot per key; the legend gives each file's mean over time
steps. The figure is written atomically (``.png``, ``.pdf`` or ``.svg``).

Baselines are drawn on the same axes as the models, dashed: where a result
file also holds ``NAME_copy_last_t*`` or ``NAME_zeros_t*`` (metrics built
with ``baselines=('copy_last', 'zeros')``), the curves of the naive
predictions "copy the last input frame" and "all black"; identical curves
of several files are drawn once. ``--no-baselines`` leaves them out.
"""
import argparse
import csv
import json
import os.path as osp
import re
from typing import Dict, List, Tuple

from mmvp.utils.atomic_io import atomic_write_file
from mmvp.utils.cli import run_tool_main

FIG_FORMATS = ('.png', '.pdf', '.svg')
BASELINES = {
    'copy_last': ('copy last input', '#555555', '--'),
    'zeros': ('all black', '#000000', ':'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-timestep metric curves of several result files')
    parser.add_argument(
        'results', nargs='+', help='result files (.json or .csv)')
    parser.add_argument(
        '--key',
        action='append',
        required=True,
        help='metric name, e.g. mse_frame_sum or vmnist/ssim (repeatable)')
    parser.add_argument(
        '--labels', nargs='+', help='legend labels, one per result file')
    parser.add_argument('--out', required=True, help='figure file')
    parser.add_argument('--title', default=None, help='figure title')
    parser.add_argument(
        '--xlabel', default='output time step', help='x axis label')
    parser.add_argument('--dpi', type=int, default=120)
    parser.add_argument(
        '--no-baselines',
        action='store_true',
        help='do not draw the copy-last and all-black baselines')
    args = parser.parse_args(argv)
    if osp.splitext(args.out)[1].lower() not in FIG_FORMATS:
        parser.error(f'--out {args.out}: the file must end with '
                     f'{", ".join(FIG_FORMATS)}')
    if args.labels is not None and len(args.labels) != len(args.results):
        parser.error(f'--labels: {len(args.labels)} labels for '
                     f'{len(args.results)} result files')
    return args


def _numeric(metrics: dict) -> Dict[str, float]:
    out = {}
    for key, value in metrics.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            out[str(key)] = float(value)
    return out


def load_metrics(path: str) -> List[Dict[str, float]]:
    """Candidate metric dicts of a result file (last one wins for logs)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'result file not found: "{path}"')
    ext = osp.splitext(path)[1].lower()
    if ext == '.csv':
        with open(path, newline='') as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None or [h.strip() for h in header[:3]
                                  ] != ['sample_idx', 'metric', 'value']:
                raise ValueError(f'"{path}": expected the CSV of tools/'
                                 'test.py --out (columns sample_idx, '
                                 f'metric, value), got header {header}')
            metrics = {}
            for row in reader:
                if len(row) >= 3 and row[0] == 'all':
                    try:
                        metrics[row[1]] = float(row[2])
                    except ValueError:
                        continue
        return [metrics]
    if ext != '.json':
        raise ValueError(f'"{path}": result files must be .json or .csv')
    with open(path) as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # MMEngine scalars.json: one JSON record per line
        records = []
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(_numeric(json.loads(line)))
            except json.JSONDecodeError as err:
                raise ValueError(f'"{path}" line {number} is not JSON: '
                                 f'{err}') from err
        return records
    if isinstance(data, dict) and isinstance(data.get('metrics'), dict):
        return [_numeric(data['metrics'])]
    if isinstance(data, dict):
        return [_numeric(data)]
    raise ValueError(f'"{path}": expected a JSON object of metrics')


def find_curve(candidates: List[Dict[str, float]], key: str,
               path: str) -> Tuple[str, List[float], float]:
    """``(full key, per-step values, table value)`` of ``key``."""
    pattern = re.compile(r'^(?:(.+)/)?' + re.escape(key.split('/')[-1]) +
                         r'_t(\d+)$')
    want_prefix = key.rsplit('/', 1)[0] if '/' in key else None
    for metrics in reversed(candidates):
        steps: Dict[str, Dict[int, float]] = {}
        for name, value in metrics.items():
            match = pattern.match(name)
            if match is None:
                continue
            prefix = match.group(1)
            if want_prefix is not None and prefix != want_prefix:
                continue
            base = name[:match.start(2) - 2]
            steps.setdefault(base, {})[int(match.group(2))] = value
        if not steps:
            continue
        if len(steps) > 1:
            raise ValueError(f'"{path}": --key {key} matches '
                             f'{sorted(steps)}; give the prefix too')
        base, per_step = next(iter(steps.items()))
        values = [per_step[t] for t in sorted(per_step)]
        if sorted(per_step) != list(range(1, len(values) + 1)):
            raise ValueError(f'"{path}": time steps of {base} are not '
                             f'1..T: {sorted(per_step)}')
        table = metrics.get(base, sum(values) / len(values))
        return base, values, table
    known = sorted({
        re.sub(r'_t\d+$', '', n)
        for m in candidates
        for n in m if re.search(r'_t\d+$', n)
    })
    raise ValueError(f'"{path}" has no per-timestep values for --key {key} '
                     f'(keys <name>_t1..); per-timestep metrics there: '
                     f'{", ".join(known) if known else "none"}')


def find_baselines(candidates: List[Dict[str, float]], base: str,
                   path: str) -> Dict[str, Tuple[str, List[float], float]]:
    """The baseline curves stored beside the curve ``base`` (full key),
    ``{baseline: (key, values, table)}``."""
    found = {}
    for name in BASELINES:
        try:
            found[name] = find_curve(candidates, f'{base}_{name}', path)
        except ValueError:
            continue
    return found


def unique_baselines(per_file: List[Dict], labels: List[str]) -> List:
    """``(label, baseline, values, table)`` to draw: a curve shared by all
    files once, differing curves once per file."""
    out = []
    for name in BASELINES:
        curves = [(label, found[name])
                  for found, label in zip(per_file, labels) if name in found]
        distinct = {tuple(round(v, 12) for v in c[1]) for _, c in curves}
        for label, (_, values, table) in curves:
            text = BASELINES[name][0]
            if len(distinct) > 1:
                text = f'{text} ({label})'
            out.append((text, name, values, table))
            if len(distinct) == 1:
                break
    return out


def default_labels(paths: List[str]) -> List[str]:
    labels = [osp.splitext(osp.basename(p))[0] for p in paths]
    if len(set(labels)) < len(labels):
        labels = [
            osp.join(osp.basename(osp.dirname(osp.abspath(p))), label)
            for p, label in zip(paths, labels)
        ]
    return labels


def plot(curves,
         keys,
         labels,
         out,
         title=None,
         xlabel='output time step',
         dpi=120,
         baselines=None):
    """Draw ``curves[k][i] = (name, values, table)`` and, dashed, the
    ``baselines[k] = [(label, baseline, values, table), ...]``; save
    atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6 * len(keys)), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(keys), 1, squeeze=False)[:, 0]
    markers = 'osd^v<>px*'
    baselines = baselines or [[] for _ in keys]
    for ax, key, per_file, naive in zip(axes, keys, curves, baselines):
        for i, ((name, values, table),
                label) in enumerate(zip(per_file, labels)):
            steps = list(range(1, len(values) + 1))
            ax.plot(
                steps,
                values,
                marker=markers[i % len(markers)],
                markersize=4,
                label=f'{label} (mean {table:.4g})')
        for label, name, values, table in naive:
            _, colour, style = BASELINES[name]
            ax.plot(
                list(range(1,
                           len(values) + 1)),
                values,
                linestyle=style,
                color=colour,
                linewidth=1.2,
                label=f'{label} (mean {table:.4g})')
        ax.set_xlabel(xlabel)
        ax.set_ylabel(per_file[0][0])
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
        longest = max(len(v) for _, v, _ in per_file)
        ax.set_xticks(range(1, longest + 1))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    ext = osp.splitext(out)[1].lower()
    atomic_write_file(out,
                      lambda tmp: fig.savefig(tmp, format=ext[1:], dpi=dpi))
    return out


def main(argv=None):
    args = parse_args(argv)
    loaded = [load_metrics(p) for p in args.results]
    labels = args.labels or default_labels(args.results)
    curves, baselines = [], []
    for key in args.key:
        per_file = [
            find_curve(c, key, p) for c, p in zip(loaded, args.results)
        ]
        curves.append(per_file)
        for (name, values, table), label in zip(per_file, labels):
            shown = ', '.join(f'{v:.4g}' for v in values)
            print(f'{label}: {name} mean {table:.6g} per step [{shown}]')
        naive = []
        if not args.no_baselines:
            found = [
                find_baselines(c, name, p)
                for c, (name, _, _), p in zip(loaded, per_file, args.results)
            ]
            naive = unique_baselines(found, labels)
            for label, name, values, table in naive:
                shown = ', '.join(f'{v:.4g}' for v in values)
                print(f'baseline {label}: mean {table:.6g} per step '
                      f'[{shown}]')
        baselines.append(naive)
    plot(curves, args.key, labels, args.out, args.title, args.xlabel, args.dpi,
         baselines)
    print(f'figure written to {args.out}')
    return args.out


if __name__ == '__main__':
    run_tool_main(main, errors=(FileNotFoundError, ValueError))
