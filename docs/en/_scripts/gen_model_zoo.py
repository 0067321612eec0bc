# Copyright (c) mmvp contributors. All rights reserved.
"""Generate the model-zoo page of the docs from the metafiles.

``docs/en/conf.py`` calls :func:`write_model_zoo` at every build, so the page
always matches ``model-index.yml`` and the metafiles it imports. It can also
be run by hand::

    python docs/en/_scripts/gen_model_zoo.py            # print the page
    python docs/en/_scripts/gen_model_zoo.py --out model_zoo.md  # write it

Only what the metafiles say is shown: an entry without ``Results`` or
``Weights`` is listed without metrics or checkpoint.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Tuple

import yaml

REPO_ROOT = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

HEADER = """\
# Model zoo

```{{note}}
This page is generated from `model-index.yml` and the metafiles it imports
when the documentation is built. Edit the metafiles, not this page.
```

**No paper-scale checkpoints are released yet.** The only trained weights
are those of the small CPU-scale study ({{doc}}`cpu_study`, files in
`checkpoints/study`). None of the configs below has been trained at its full
schedule, so the tables list the configs with their size
and training settings only; results, weights and logs will be added to the
metafiles (and appear here) together with the checkpoints. The paper's own
numbers are quoted, with the differences between paper, official code and
mmvp, in {{doc}}`advanced_guides/reproduction_notes`.

How to read the tables:

- **Schedule** is `GPUs x batch per GPU, iterations`; the batch size in a
  config is per GPU (see {{doc}}`user_guides/train_test`).
- **Params** counts every parameter of the model built from the config.
- **FLOPs** are the multiply-accumulates of one batch-1 sequence at the
  config's own setting (for example V-MNIST: 64x64 grey frames, 10 to 10,
  19 recurrent steps; Human3.6M: 128x128 RGB, 4 to 4, 7 steps): executed
  convolutions, transposed convolutions and MotionGRU warps; element-wise
  operations and attention are not counted. Recount them with
  `python tools/analysis_tools/get_flops.py CONFIG`.

{total} configs in {num_collections} {collection_word}.
"""


def load_yaml(path: str):
    """Read a YAML file, naming the file in any error."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'metafile not found: {path}')
    with open(path, encoding='utf-8') as f:
        try:
            return yaml.safe_load(f) or {}
        except yaml.YAMLError as err:
            raise ValueError(f'{path}: not valid YAML ({err})') from err


def load_model_index(repo_root: str = REPO_ROOT) -> Tuple[List, List]:
    """Collections and models of ``model-index.yml`` and its imports.

    Returns:
        tuple[list, list]: ``(collections, models)``; every model dict gets
        a ``_metafile`` key (path relative to ``repo_root``).
    """
    index = load_yaml(osp.join(repo_root, 'model-index.yml'))
    imports = index.get('Import')
    if not isinstance(imports, list) or not imports:
        raise ValueError(f'{osp.join(repo_root, "model-index.yml")}: '
                         "expected a non-empty 'Import' list of metafiles")
    collections, models = [], []
    for rel in imports:
        meta = load_yaml(osp.join(repo_root, rel))
        for key in ('Collections', 'Models'):
            if not isinstance(meta.get(key), list):
                raise ValueError(f'{rel}: expected a {key!r} list')
        collections += meta['Collections']
        for model in meta['Models']:
            model = dict(model)
            model['_metafile'] = rel
            models.append(model)
    return collections, models


def _fmt_count(value, unit: float, digits: int) -> str:
    if value is None:
        return 'n/a'
    return f'{float(value) / unit:.{digits}f}'


def _metrics(model: dict) -> str:
    results = model.get('Results') or []
    parts = []
    for result in results:
        for name, value in (result.get('Metrics') or {}).items():
            parts.append(f'{name} {value}')
    return '<br>'.join(parts) if parts else 'not trained yet'


def _link(label: str, target: str) -> str:
    """A URL becomes a link; a path in the repository (relative to
    ``model-index.yml``) is shown as code, since the docs site does not
    serve the repository's files."""
    if target.startswith(('https://', 'http://')):
        return f'[{label}]({target})'
    return f'{label}: `{target}`'


def _weights(model: dict) -> str:
    links = [
        _link(label, model[key])
        for label, key in (('model', 'Weights'), ('log', 'Training Log'))
        if model.get(key)
    ]
    return ' \\| '.join(links) if links else '-'


def _gpus(resources: str) -> str:
    """'8x V100' -> '8'; anything without a leading count -> '1'."""
    head = str(resources or '').split('x', 1)[0].strip()
    return head if head.isdigit() else '1'


def _columns(models: List[dict]) -> List[Tuple[str, str]]:
    """``(header, alignment)`` of the table; the training data, results and
    checkpoint columns only appear when they say something."""
    cols = [('Config', '---'), ('Architecture', '---')]
    if len({_meta(m).get('Training Data') for m in models}) > 1:
        cols.append(('Training data', '---'))
    cols += [('Schedule', '---'), ('Params (M)', '---:'),
             ('FLOPs (G)', '---:')]
    if any(m.get('Results') for m in models):
        cols.append(('Results', '---'))
    if any(m.get('Weights') or m.get('Training Log') for m in models):
        cols.append(('Checkpoint', '---'))
    return cols


def _meta(model: dict) -> dict:
    return model.get('Metadata') or {}


def _row(model: dict, columns: List[Tuple[str, str]]) -> str:
    meta = _meta(model)
    arch = meta.get('Architecture') or []
    if isinstance(arch, str):
        arch = [arch]
    batch = meta.get('Batch Size')
    batch = f'{_gpus(meta.get("Training Resources"))}x{batch}' \
        if batch is not None else 'n/a'
    iters = meta.get('Iterations')
    iters = f'{int(iters) // 1000}k' if iters and int(iters) >= 1000 \
        and int(iters) % 1000 == 0 else str(iters or 'n/a')
    cells = {
        'Config': f'`{model["Name"]}`',
        'Architecture': ', '.join(arch) or 'n/a',
        'Training data': str(meta.get('Training Data', 'n/a')),
        'Schedule': f'{batch}, {iters}',
        'Params (M)': _fmt_count(meta.get('Parameters'), 1e6, 2),
        'FLOPs (G)': _fmt_count(meta.get('FLOPs'), 1e9, 2),
        'Results': _metrics(model),
        'Checkpoint': _weights(model),
    }
    return '| ' + ' | '.join(cells[name] for name, _ in columns) + ' |'


def render_model_zoo(collections: List[dict], models: List[dict]) -> str:
    """The model-zoo page as MyST markdown."""
    by_collection: Dict[str, List[dict]] = {}
    for model in models:
        by_collection.setdefault(model.get('In Collection', 'Other'),
                                 []).append(model)
    lines = [
        HEADER.format(
            total=len(models),
            num_collections=len(by_collection),
            collection_word='collection'
            if len(by_collection) == 1 else 'collections').rstrip(), ''
    ]
    known = {c['Name']: c for c in collections}
    names = [c['Name'] for c in collections] + sorted(
        n for n in by_collection if n not in known)
    for name in names:
        if name not in by_collection:
            continue
        members = by_collection[name]
        coll = known.get(name, {})
        lines += [f'## {name}', '']
        paper = coll.get('Paper') or {}
        if paper.get('URL'):
            title = paper.get('Title', paper['URL'])
            lines += [f'Paper: [{title}]({paper["URL"]})', '']
        if coll.get('README'):
            lines += [
                f'Summary, citation and reproduction notes: '
                f'`{coll["README"]}`.', ''
            ]
        if not any(m.get('Results') for m in members):
            lines += ['Results: none yet (no model trained).', '']
        lines += ['Each config is `configs/<Config>.py`.', '']
        # one table per training set, in the order of the metafile
        groups: Dict[str, List[dict]] = {}
        for m in members:
            groups.setdefault(str(_meta(m).get('Training Data', 'n/a')),
                              []).append(m)
        for data, group in groups.items():
            if len(groups) > 1:
                lines += [f'### {data}', '']
            else:
                lines += [f'Training data: {data}.', '']
            columns = _columns(group)
            lines += [
                '| ' + ' | '.join(h for h, _ in columns) + ' |',
                '| ' + ' | '.join(a for _, a in columns) + ' |',
            ]
            lines += [_row(m, columns) for m in group]
            lines.append('')
    return '\n'.join(lines)


def write_model_zoo(repo_root: str, out_file: str) -> bool:
    """Write the page to ``out_file`` if its content changed.

    Returns:
        bool: Whether the file was (re)written.
    """
    text = render_model_zoo(*load_model_index(repo_root))
    if osp.isfile(out_file):
        with open(out_file, encoding='utf-8') as f:
            if f.read() == text:
                return False
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    with open(out_file, 'w', encoding='utf-8') as f:
        f.write(text)
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description='Generate the model-zoo page from the metafiles')
    parser.add_argument(
        '--root',
        default=REPO_ROOT,
        help='repository root (default: this '
        'checkout)')
    parser.add_argument(
        '--out', help='write the page to this file (default: print it)')
    args = parser.parse_args(argv)
    if args.out:
        write_model_zoo(args.root, args.out)
    else:
        sys.stdout.write(render_model_zoo(*load_model_index(args.root)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
