# Copyright (c) mmvp contributors. All rights reserved.
"""Plot per-timestep metric curves of several test results in one figure.

Examples::

    python tools/analysis_tools/plot_metrics.py \
        predrnn.json motionrnn.json --key mse_frame_sum --out mse.png
    python tools/analysis_tools/plot_metrics.py a.csv b.csv \
        --key mse_frame_sum --key ssim --labels PredRNN MotionRNN \
        --out curves.png
    python tools/analysis_tools/plot_metrics.py --over-iterations \
        work_dirs/predrnn/20240101_000000/vis_data/scalars.json \
        --key mse_frame_sum --labels PredRNN --out val_mse.png

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

With ``--over-iterations`` every result file must be an MMEngine
``scalars.json`` log and ``--key NAME`` selects the plain key ``NAME``
(same prefix rules): each record holding it gives a point at the record's
``step`` (or ``iter``), one line per file, validation curves over training.
The legend gives each file's last value; baselines are not drawn and the x
label defaults to ``iteration``.
"""
import argparse
import csv
import json
import os.path as osp
import re
from typing import Callable, Dict, List, Optional, Tuple

from mmvp.utils.atomic_io import atomic_write_file
from mmvp.utils.cli import run_tool_main

FIG_FORMATS = ('.png', '.pdf', '.svg')
MARKERS = 'osd^v<>px*'
BASELINES = {
    'copy_last': ('copy last input', '#555555', '--'),
    'zeros': ('all black', '#000000', ':'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-timestep metric curves of several result files')
    parser.add_argument(
        'results',
        nargs='+',
        help='result files (.json or .csv; scalars.json logs with '
        '--over-iterations)')
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
        '--xlabel',
        default=None,
        help='x axis label (default: "output time step", or "iteration" '
        'with --over-iterations)')
    parser.add_argument('--dpi', type=int, default=120)
    parser.add_argument(
        '--no-baselines',
        action='store_true',
        help='do not draw the copy-last and all-black baselines')
    parser.add_argument(
        '--over-iterations',
        action='store_true',
        help='plot the plain key NAME of scalars.json logs against the '
        'training step (validation curves) instead of NAME_t1..NAME_tT; '
        'no baselines')
    args = parser.parse_args(argv)
    if args.xlabel is None:
        args.xlabel = ('iteration'
                       if args.over_iterations else 'output time step')
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


def _require_file(path: str) -> None:
    if not osp.isfile(path):
        raise FileNotFoundError(f'result file not found: "{path}"')


def read_json_lines(path: str, text: str) -> List[Dict[str, float]]:
    """Numeric fields of each record of a JSON-lines text (MMEngine
    ``scalars.json``: one JSON object per line)."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f'"{path}" line {number} is not JSON: '
                             f'{err}') from err
        if not isinstance(record, dict):
            raise ValueError(f'"{path}" line {number} is not a JSON object')
        records.append(_numeric(record))
    return records


def load_metrics(path: str) -> List[Dict[str, float]]:
    """Candidate metric dicts of a result file (last one wins for logs)."""
    _require_file(path)
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
        return read_json_lines(path, text)
    if isinstance(data, dict) and isinstance(data.get('metrics'), dict):
        return [_numeric(data['metrics'])]
    if isinstance(data, dict):
        return [_numeric(data)]
    raise ValueError(f'"{path}": expected a JSON object of metrics')


def load_scalars(path: str) -> List[Dict[str, float]]:
    """The records of an MMEngine ``scalars.json`` log (JSON lines, some
    holding ``step`` or ``iter``), in file order."""
    _require_file(path)
    with open(path) as f:
        text = f.read()
    what = (f'"{path}" is not an MMEngine scalars.json log (one JSON record '
            'per line, with "step" or "iter"), as --over-iterations needs')
    try:
        records = read_json_lines(path, text)
    except ValueError as err:
        raise ValueError(f'{what}: {err}') from err
    if not any('step' in r or 'iter' in r for r in records):
        raise ValueError(f'{what}: no record holds "step" or "iter"')
    return records


def key_matcher(key: str,
                suffix: str = '') -> Callable[[str], Optional[re.Match]]:
    """Match the metric names ``key`` selects: ``[prefix/]NAME`` followed
    by the regex ``suffix``; the prefix is group 1 and must equal the one
    ``key`` gives, if any."""
    pattern = re.compile(r'^(?:(.+)/)?' + re.escape(key.split('/')[-1]) +
                         suffix + '$')
    want_prefix = key.rsplit('/', 1)[0] if '/' in key else None

    def match(name: str) -> Optional[re.Match]:
        found = pattern.match(name)
        if found is None or (want_prefix is not None
                             and found.group(1) != want_prefix):
            return None
        return found

    return match


def _ambiguous(path: str, key: str, names) -> ValueError:
    return ValueError(f'"{path}": --key {key} matches {sorted(names)}; '
                      'give the prefix too')


def find_curve(candidates: List[Dict[str, float]], key: str,
               path: str) -> Tuple[str, List[float], float]:
    """``(full key, per-step values, table value)`` of ``key``."""
    match = key_matcher(key, r'_t(\d+)')
    for metrics in reversed(candidates):
        steps: Dict[str, Dict[int, float]] = {}
        for name, value in metrics.items():
            found = match(name)
            if found is None:
                continue
            base = name[:found.start(2) - 2]
            steps.setdefault(base, {})[int(found.group(2))] = value
        if not steps:
            continue
        if len(steps) > 1:
            raise _ambiguous(path, key, steps)
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


def find_series(records: List[Dict[str, float]], key: str,
                path: str) -> Tuple[str, List[Tuple[int, float]]]:
    """``(full key, [(step, value), ...])`` of the plain key ``key`` over
    the records of a ``scalars.json`` log, in file order; the x of a record
    is its ``step``, else its ``iter``."""
    match = key_matcher(key)
    names = {n for r in records for n in r if match(n)}
    if not names:
        known = sorted({
            n
            for r in records
            for n in r
            if n not in ('step', 'iter') and not re.search(r'_t\d+$', n)
        })
        raise ValueError(f'"{path}" has no record with --key {key}; keys '
                         f'there: {", ".join(known) if known else "none"}')
    if len(names) > 1:
        raise _ambiguous(path, key, names)
    name = names.pop()
    series = []
    for record in records:
        if name not in record:
            continue
        x = record.get('step', record.get('iter'))
        if x is None:
            raise ValueError(f'"{path}": a record with {name} has no '
                             '"step" or "iter"')
        series.append((int(x), record[name]))
    return name, series


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
    fig, axes = new_figure(len(keys), dpi)
    baselines = baselines or [[] for _ in keys]
    for ax, key, per_file, naive in zip(axes, keys, curves, baselines):
        for i, ((name, values, table),
                label) in enumerate(zip(per_file, labels)):
            steps = list(range(1, len(values) + 1))
            ax.plot(
                steps,
                values,
                marker=MARKERS[i % len(MARKERS)],
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
        style_axes(ax, xlabel, per_file[0][0])
        longest = max(len(v) for _, v, _ in per_file)
        ax.set_xticks(range(1, longest + 1))
    return save_figure(fig, out, title, dpi)


def plot_series(series,
                keys,
                labels,
                out,
                title=None,
                xlabel='iteration',
                dpi=120):
    """Draw ``series[k][i] = (name, [(step, value), ...])``, one line with
    markers per file and the last value in the legend; save atomically."""
    fig, axes = new_figure(len(keys), dpi)
    for ax, per_file in zip(axes, series):
        for i, ((name, points), label) in enumerate(zip(per_file, labels)):
            ax.plot([x for x, _ in points], [y for _, y in points],
                    marker=MARKERS[i % len(MARKERS)],
                    markersize=4,
                    label=f'{label} (last {points[-1][1]:.4g})')
        style_axes(ax, xlabel, per_file[0][0])
    return save_figure(fig, out, title, dpi)


def style_axes(ax, xlabel: str, ylabel: str) -> None:
    """Axis labels, a light grid and the legend of one subplot."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def new_figure(rows: int, dpi: int):
    """A figure of ``rows`` stacked subplots and its axes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 3.6 * rows), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, fig.subplots(rows, 1, squeeze=False)[:, 0]


def save_figure(fig, out: str, title: Optional[str], dpi: int) -> str:
    """Title, lay out and write ``fig`` atomically to ``out``."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    ext = osp.splitext(out)[1].lower()
    atomic_write_file(out,
                      lambda tmp: fig.savefig(tmp, format=ext[1:], dpi=dpi))
    return out


def main_over_iterations(args, labels: List[str]) -> str:
    """``--over-iterations``: validation curves of ``scalars.json`` logs."""
    loaded = [load_scalars(p) for p in args.results]
    series = []
    for key in args.key:
        per_file = [
            find_series(r, key, p) for r, p in zip(loaded, args.results)
        ]
        series.append(per_file)
        for (name, points), label in zip(per_file, labels):
            print(f'{label}: {name} at {len(points)} steps, last '
                  f'{points[-1][1]:.6g} (step {points[-1][0]})')
    return plot_series(series, args.key, labels, args.out, args.title,
                       args.xlabel, args.dpi)


def main_time_steps(args, labels: List[str]) -> str:
    """Per-timestep curves (and baselines) of test results."""
    loaded = [load_metrics(p) for p in args.results]
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
    return plot(curves, args.key, labels, args.out, args.title, args.xlabel,
                args.dpi, baselines)


def main(argv=None):
    args = parse_args(argv)
    labels = args.labels or default_labels(args.results)
    if args.over_iterations:
        main_over_iterations(args, labels)
    else:
        main_time_steps(args, labels)
    print(f'figure written to {args.out}')
    return args.out


if __name__ == '__main__':
    run_tool_main(main, errors=(FileNotFoundError, ValueError))
