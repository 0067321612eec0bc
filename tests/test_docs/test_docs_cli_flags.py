# Copyright (c) mmvp contributors. All rights reserved.
"""Every tool, config and ``--flag`` the docs name must exist.

Commands are read from shell blocks and inline code of ``docs/en`` and the
READMEs (see ``docs_helpers``); a flag given to ``tools/X.py`` (or to a shell
wrapper that forwards to it, e.g. ``tools/dist_train.sh``) must appear in
``python tools/X.py --help``.
"""
import functools
import os
import os.path as osp
import subprocess
import sys

import pytest
from docs_helpers import (CONFIG_RE, REPO, TOOL_RE, doc_files, help_flags,
                          iter_commands, prose_flags, read, rel,
                          runnable_blocks, tool_flags)


@functools.lru_cache(maxsize=None)
def tool_help(tool: str) -> str:
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    proc = subprocess.run([sys.executable,
                           osp.join(REPO, tool), '--help'],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=120)
    assert proc.returncode == 0, (f'`python {tool} --help` failed:\n'
                                  f'{proc.stderr[-3000:]}')
    return proc.stdout


def documented_flags():
    """``{(tool, flag): [where, ...]}`` over all documentation files."""
    found = {}
    for path in doc_files():
        for line, command in iter_commands(path):
            for tool, flag in tool_flags(command):
                found.setdefault((tool, flag),
                                 []).append(f'{rel(path)}:{line}')
        for line, tool, flag in prose_flags(path):
            found.setdefault((tool, flag), []).append(f'{rel(path)}:{line}')
    return found


def test_docs_name_tool_flags():
    found = documented_flags()
    # the docs do document the main tools' flags
    assert ('tools/train.py', '--cfg-options') in found
    assert ('tools/train.py', '--resume') in found
    missing = []
    for (tool, flag), where in sorted(found.items()):
        if not osp.isfile(osp.join(REPO, tool)):
            continue  # reported by test_docs_name_existing_tools
        if flag not in help_flags(tool_help(tool)):
            missing.append(f'{tool} {flag} (named in {", ".join(where)})')
    assert not missing, ('flags named in the docs but missing from the '
                         "tool's --help:\n  " + '\n  '.join(missing))


def test_docs_name_existing_tools():
    missing = []
    for path in doc_files():
        for m in TOOL_RE.finditer(read(path)):
            if not osp.isfile(osp.join(REPO, m.group(1))):
                missing.append(f'{m.group(1)} (named in {rel(path)})')
    assert not missing, 'tools named in the docs do not exist:\n  ' + \
        '\n  '.join(sorted(set(missing)))


def test_docs_name_existing_configs():
    """Config paths in the docs exist, except those that a runnable block of
    the same page creates (tutorials)."""
    missing = []
    for path in doc_files():
        created = ' '.join(b.code + ' ' + b.mark
                           for b in runnable_blocks(path)) \
            if path.endswith('.md') else ''
        for m in CONFIG_RE.finditer(read(path)):
            name = m.group(1)
            if osp.isfile(osp.join(REPO, name)) or name in created:
                continue
            missing.append(f'{name} (named in {rel(path)})')
    assert not missing, 'configs named in the docs do not exist:\n  ' + \
        '\n  '.join(sorted(set(missing)))


@pytest.mark.parametrize('command, expected', [
    ('python tools/train.py configs/a.py --amp --cfg-options x=1', [
        ('tools/train.py', '--amp'), ('tools/train.py', '--cfg-options')
    ]),
    ('NNODES=2 tools/dist_train.sh configs/a.py 8 --resume', [
        ('tools/train.py', '--resume')
    ]),
    ('python -m torch.distributed.run --nproc_per_node=2 tools/test.py a b',
     []),
    ('tools/slurm_test.sh p j configs/a.py x.pth --out r.json', [
        ('tools/test.py', '--out')
    ]),
])
def test_tool_flags_parser(command, expected):
    assert tool_flags(command) == expected
