# Copyright (c) mmvp contributors. All rights reserved.
"""Sphinx configuration of the mmvp documentation.

Build offline, warnings as errors::

    sphinx-build -W --keep-going -b html docs/en docs/en/_build/html

Intersphinx needs the network, so it is only enabled when the environment
variable ``MMVP_DOCS_INTERSPHINX=1`` is set. The model-zoo page is generated
from ``model-index.yml`` and the metafiles it imports every time the docs
are built (``_scripts/gen_model_zoo.py``).
"""
import os
import os.path as osp
import re
import sys

DOCS_DIR = osp.dirname(osp.abspath(__file__))
REPO_ROOT = osp.dirname(osp.dirname(DOCS_DIR))
# autodoc imports mmvp from this checkout, installed or not
sys.path.insert(0, REPO_ROOT)
sys.path.insert(0, osp.join(DOCS_DIR, '_scripts'))

import gen_model_zoo  # noqa: E402

from mmvp import __version__  # noqa: E402

# -- Project information ---------------------------------------------------
project = 'mmvp'
copyright = '2025, mmvp contributors'
author = 'mmvp contributors'
version = __version__
release = __version__

# -- General configuration -------------------------------------------------
extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.autosummary',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
    'sphinx_copybutton',
]
if os.environ.get('MMVP_DOCS_INTERSPHINX') == '1':
    extensions.append('sphinx.ext.intersphinx')
    intersphinx_mapping = {
        'python': ('https://docs.python.org/3', None),
        'numpy': ('https://numpy.org/doc/stable', None),
        'torch': ('https://pytorch.org/docs/stable', None),
        'mmengine': ('https://mmengine.readthedocs.io/en/latest', None),
    }

source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = [
    '_build', '_scripts', '_templates', 'Thumbs.db', '.DS_Store'
]
templates_path = ['_templates']

# MyST: ::: fences and $...$ maths; anchors for ## and ### headings
myst_enable_extensions = ['colon_fence', 'dollarmath']
myst_heading_anchors = 3

# autodoc / autosummary / napoleon
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {
    'members': True,
    'show-inheritance': True,
}
autodoc_member_order = 'bysource'
autodoc_typehints = 'description'
autoclass_content = 'class'
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# sphinx_copybutton: do not copy the prompts
copybutton_prompt_text = r'>>> |\.\.\. |\$ '
copybutton_prompt_is_regexp = True

# -- HTML output -----------------------------------------------------------
html_theme = 'furo'
html_title = f'mmvp {__version__}'
html_static_path = ['_static']
html_css_files = ['css/mmvp.css']
html_theme_options = {
    'source_repository': '',
    'navigation_with_keys': True,
}

_SECTION_RE = re.compile(r'^(\s*)(Args|Arguments|Parameters):\s*$')
_PARAM_RE = re.compile(r'^\*{0,2}\w[\w.]*(,\s*\w[\w.]*)*(\s*\(.*?\))?:(\s|$)')


def _move_notes_out_of_args(app, what, name, obj, options, lines):
    """Move free-text lines such as "See :class:`Base` for the others." out
    of a Google-style ``Args:`` section (napoleon would read them as a broken
    field) into a paragraph after the section. Runs before napoleon."""
    i = 0
    while i < len(lines):
        m = _SECTION_RE.match(lines[i])
        if not m:
            i += 1
            continue
        indent = len(m.group(1))
        item_indent = None
        end = i + 1
        notes, keep = [], []
        in_note = False
        while end < len(lines) and (not lines[end].strip() or len(lines[end]) -
                                    len(lines[end].lstrip()) > indent):
            line = lines[end]
            cur = len(line) - len(line.lstrip())
            if line.strip() and item_indent is None:
                item_indent = cur
            if line.strip() and cur == item_indent:
                in_note = not _PARAM_RE.match(line.strip())
            (notes if in_note and line.strip() else keep).append(line)
            end += 1
        if notes:
            text = [' ' * indent + n.strip() for n in notes]
            lines[i + 1:end] = keep + [''] + text + ['']
            end = i + 1 + len(keep) + len(text) + 2
        i = end


def _generate_model_zoo(app):
    """Write ``model_zoo.md`` from the metafiles before reading sources."""
    gen_model_zoo.write_model_zoo(REPO_ROOT, osp.join(DOCS_DIR,
                                                      'model_zoo.md'))


def setup(app):
    app.connect('builder-inited', _generate_model_zoo)
    # before napoleon (priority 500) turns the sections into fields
    app.connect(
        'autodoc-process-docstring', _move_notes_out_of_args, priority=400)
