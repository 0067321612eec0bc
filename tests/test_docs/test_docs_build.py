# Copyright (c) mmvp contributors. All rights reserved.
"""Build the Sphinx site with warnings as errors, as CI does.

Skipped, with the reason, when the packages of ``requirements/docs.txt``
are not installed. The build is offline (intersphinx off) and writes its
output to a temporary folder; like ``make html`` it regenerates
``docs/en/model_zoo.md`` and ``docs/en/api/generated/`` (both ignored by
git).
"""
import importlib.util
import os
import subprocess
import sys

import pytest
from docs_helpers import DOCS, REPO
from test_docs_metafile import MODELS

DOC_PACKAGES = ('sphinx', 'myst_parser', 'furo', 'sphinx_copybutton')
MISSING = [p for p in DOC_PACKAGES if importlib.util.find_spec(p) is None]


def load_conf():
    spec = importlib.util.spec_from_file_location(
        'mmvp_docs_conf', os.path.join(DOCS, 'conf.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.docs_build
@pytest.mark.skipif(
    bool(MISSING),
    reason=f'docs build needs {", ".join(MISSING)} '
    '(pip install -r requirements/docs.txt)')
def test_sphinx_build_without_warnings(tmp_path):
    env = dict(os.environ)
    env.pop('MMVP_DOCS_INTERSPHINX', None)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    out = tmp_path / 'html'
    proc = subprocess.run([
        sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q', '-b',
        'html', '-d',
        str(tmp_path / 'doctrees'), DOCS,
        str(out)
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, (
        f'sphinx-build -W failed:\n{proc.stderr[-6000:]}')
    for page in ('index', 'overview', 'model_zoo', 'api',
                 'advanced_guides/customize_models',
                 'advanced_guides/reproduction_notes'):
        assert (out / f'{page}.html').is_file(), page
    zoo = (out / 'model_zoo.html').read_text(encoding='utf-8')
    for model in MODELS:
        assert model['Name'] in zoo
    api = (out / 'api.html').read_text(encoding='utf-8')
    assert 'MotionRNNNeck' in api and 'VideoPredictor' in api


def test_conf_moves_notes_out_of_args():
    """The docstring fix-up in conf.py: a free-text line in an ``Args:``
    section becomes a paragraph after it; parameter lines stay."""
    conf = load_conf()
    lines = [
        'Summary.', '', 'Args:', '    a (int): First.', '        Continued.',
        '    b, c: see :class:`X`.', '    See :class:`Base` for the others.',
        '', 'Returns:', '    int: Value.'
    ]
    conf._move_notes_out_of_args(None, 'class', 'x', None, {}, lines)
    assert lines[:6] == [
        'Summary.', '', 'Args:', '    a (int): First.', '        Continued.',
        '    b, c: see :class:`X`.'
    ]
    assert 'See :class:`Base` for the others.' in lines
    assert '    See :class:`Base` for the others.' not in lines
    assert lines[-2:] == ['Returns:', '    int: Value.']
