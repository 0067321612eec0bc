# Copyright (c) mmvp contributors. All rights reserved.
"""Run the code blocks of the docs that are marked ``<!-- runnable -->``
(and write those marked ``<!-- runnable-file: PATH -->``).

All marked blocks of a page run in order in one fresh Python process (see
``docs_helpers`` for the rules). A failure shows the page and the line of
the block in the traceback.
"""
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from docs_helpers import REPO, doc_files, rel, runnable_blocks

# Executes the blocks with file names and line numbers of the page, so a
# traceback points at the documentation source.
DRIVER = """\
import json, os, sys
blocks = json.load(open(sys.argv[1]))
namespace = {'__name__': '__main__'}
for path, line, code, mark in blocks:
    if mark != 'run':  # write the block to the file it is saved as
        os.makedirs(os.path.dirname(mark) or '.', exist_ok=True)
        with open(mark, 'w') as f:
            f.write(code + '\\n')
        continue
    source = '\\n' * (line - 1) + code
    exec(compile(source, path, 'exec'), namespace)
"""

PAGES = [p for p in doc_files(include_readmes=False) if p.endswith('.md')]
RUNNABLE_PAGES = [p for p in PAGES if runnable_blocks(p)]


def test_runnable_pages_found():
    names = {rel(p) for p in RUNNABLE_PAGES}
    # the tutorials whose code must keep working
    for page in ('docs/en/advanced_guides/customize_models.md',
                 'docs/en/advanced_guides/customize_dataset.md',
                 'docs/en/user_guides/config.md'):
        assert page in names, f'{page} has no runnable block'


@pytest.mark.parametrize('page', RUNNABLE_PAGES, ids=rel)
def test_runnable_blocks(page, tmp_path):
    blocks = [[page, b.line, b.code, b.mark] for b in runnable_blocks(page)]
    # a scratch copy of configs/: what the blocks write stays here
    shutil.copytree(
        osp.join(REPO, 'configs'),
        tmp_path / 'configs',
        ignore=shutil.ignore_patterns('__pycache__'))
    (tmp_path / 'blocks.json').write_text(json.dumps(blocks))
    (tmp_path / 'driver.py').write_text(DRIVER)
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    env['CUDA_VISIBLE_DEVICES'] = ''
    env['MPLBACKEND'] = 'Agg'
    proc = subprocess.run([sys.executable, 'driver.py', 'blocks.json'],
                          cwd=tmp_path,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (
        f'runnable blocks of {rel(page)} failed:\n{proc.stdout[-2000:]}\n'
        f'{proc.stderr[-6000:]}')
