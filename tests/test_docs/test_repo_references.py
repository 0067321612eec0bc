# Copyright (c) mmvp contributors. All rights reserved.
"""Every reference written in the repository points inside it.

Code comments, docstrings and pages cite documentation pages
(``docs/en/advanced_guides/model_equations.md#motiongru``, or just
``model_equations.md#motiongru``), repository files (``tools/train.py``,
``configs/_base_/default_runtime.py``), the paper's equations ("Eq. (4)")
or upstream issue URLs. This test scans the text files of the checkout
(``git ls-files``: ``.py``, ``.md``, ``.rst``, ``.yml``, ``.yaml``, ``.txt``,
``.cfg``) and fails with a ``file:line: reference`` list for

1. references to documents that are not part of the repository: a
   Markdown file (``notes/x.md``, ``GUIDE.md``) that no file of the
   repository is named like, unless the line names another code base; a
   ``../`` path that climbs out of the repository; numbered "trap" or
   "spec" items, bare "section N" numbers that name no page, and the
   bracketed source tags of outside notes (``[MR]``, ``[OS]``...);
2. relative references to a page or file of the repository that does not
   exist, or to a heading anchor that the page does not have. Anchors follow
   MyST's GitHub-style slugs (lower case, spaces to ``-``, punctuation
   dropped) for headings of levels 1 to 3 (``myst_heading_anchors = 3`` in
   ``docs/en/conf.py``), plus explicit ``(label)=`` targets.

In ``.py`` files the second check reads comments and docstrings only, so
that paths built by tests (``configs/a.py`` in a temporary folder) are not
mistaken for references; the first check reads everything, error messages
included.
"""
import ast
import io
import os
import os.path as osp
import re
import subprocess
import tokenize
from functools import lru_cache
from typing import Iterator, List, Optional, Set, Tuple

import pytest
from docs_helpers import DOCS, REPO, runnable_blocks

TEXT_EXTS = ('.py', '.md', '.rst', '.yml', '.yaml', '.txt', '.cfg')
SKIP_DIRS = ('.git', '.venv', 'build', 'dist', 'work_dirs', 'data',
             osp.join('docs', 'en',
                      '_build'), osp.join('docs', 'en', 'api', 'generated'))

# -- 1. documents outside the repository -----------------------------------
OUTSIDE: List[Tuple[str, 're.Pattern']] = [
    ('numbered trap of an outside note', re.compile(r'\btraps? \d', re.I)),
    ('numbered item of an outside note',
     re.compile(r"\bspec(?:'s)?(?: section| table)? \d", re.I)),
    ('outside note named in prose',
     re.compile(r'\bthe spec\b(?:\'s)?|\bspec "', re.I)),
    ('section number that names no page',
     re.compile(r'(?<![\w.-])(?:s\.|sections?) ?\d+(?:\.\d+)*\b')),
    ('source tag of an outside note',
     re.compile(r'\[(?:MR|OS|PP|PR|E3D|MIM|P)\]')),
]

# -- 2. relative references ---------------------------------------------------
# A path-like token ending in a text extension, with an optional anchor.
REF_RE = re.compile(r'(?<![\w./~$-])((?:\.\.?/)*(?:[\w.-]+/)*[\w.-]*\w'
                    r'\.(?:md|rst|py|yml|yaml|txt|cfg|sh))'
                    r'(#[\w-]+)?(?![\w/])')
# First path components that belong to this repository.
REPO_DIRS = ('docs', 'mmvp', 'tools', 'configs', 'tests', 'requirements')
DOC_DIRS = ('advanced_guides', 'user_guides', 'get_started', '_scripts')
# A line naming another code base cites that code base's files, not ours.
EXTERNAL_RE = re.compile(
    r'OpenSTL|openstl|thuml|predrnn-pytorch|mmpose|mmaction|mmagic|'
    r'mmpretrain|mmdet|mmengine/|mmcv/|torchvision/|HKO-7|StyleGAN|'
    r'Yunbo426|e3d_lstm|google-research|universome|emansim|pytorch/')
HEADING_RE = re.compile(r'^(#{1,6})\s+(.*?)\s*#*\s*$')
LABEL_RE = re.compile(r'^\(([\w-]+)\)=\s*$')
FENCE_RE = re.compile(r'^\s*(`{3,}|~{3,})')
SLUG_CLEAN = re.compile(r'[^\w\u4e00-\u9fff\- ]')
MAX_ANCHOR_LEVEL = 3


def github_slug(title: str) -> str:
    """MyST's default heading slug (``myst_parser.slugs.github_slugify``),
    applied to the heading's text as rendered."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', title)  # links
    text = text.replace('`', '')
    return SLUG_CLEAN.sub('', text.lower().replace(' ', '-'))


@lru_cache(maxsize=None)
def anchors(path: str) -> Set[str]:
    """Heading slugs (levels 1-3, with ``-1``, ``-2`` for repeats) and
    ``(label)=`` targets of a Markdown page."""
    found, counts = set(), {}
    fence = None
    for line in _read(path).splitlines():
        m = FENCE_RE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1).startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        label = LABEL_RE.match(line)
        if label:
            found.add(label.group(1))
            continue
        head = HEADING_RE.match(line)
        if head and len(head.group(1)) <= MAX_ANCHOR_LEVEL:
            slug = github_slug(head.group(2))
            n = counts.get(slug, 0)
            counts[slug] = n + 1
            found.add(slug if n == 0 else f'{slug}-{n}')
    return found


@lru_cache(maxsize=None)
def _read(path: str) -> str:
    with open(path, encoding='utf-8', errors='replace') as f:
        return f.read()


def text_files(root: str = REPO) -> List[str]:
    """Repository-relative paths of the text files to scan: tracked and
    untracked-but-not-ignored files of the git checkout, or a walk of the
    tree (without build and data folders) outside git."""
    try:
        out = subprocess.run([
            'git', 'ls-files', '-z', '--cached', '--others',
            '--exclude-standard'
        ],
                             cwd=root,
                             capture_output=True,
                             check=True).stdout.decode('utf-8')
        names = [n for n in out.split('\0') if n]
    except (OSError, subprocess.CalledProcessError):
        names = []
        for dirpath, dirnames, filenames in os.walk(root):
            reldir = osp.relpath(dirpath, root)
            dirnames[:] = [
                d for d in dirnames
                if osp.normpath(osp.join(reldir, d)) not in SKIP_DIRS
                and not d.endswith('.egg-info')
            ]
            names += [osp.normpath(osp.join(reldir, f)) for f in filenames]
    return sorted(
        n for n in set(names)
        if n.endswith(TEXT_EXTS) and osp.isfile(osp.join(root, n)))


def python_prose(source: str) -> Iterator[Tuple[int, str]]:
    """``(line, text)`` of the comments and docstrings of a Python file."""
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                yield tok.start[0], tok.string
    except (tokenize.TokenError, SyntaxError):
        pass
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    nodes = [tree] + [
        n for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    ]
    for node in nodes:
        body = getattr(node, 'body', [])
        if body and isinstance(body[0], ast.Expr) and isinstance(
                body[0].value, ast.Constant) and isinstance(
                    body[0].value.value, str):
            first = body[0].lineno
            for i, line in enumerate(body[0].value.value.splitlines()):
                yield first + i, line


def markdown_prose(path: str, text: str) -> Iterator[Tuple[int, str]]:
    """Lines of a page outside its runnable blocks (which run in a scratch
    folder and may name files they create there)."""
    skip = set()
    if path.endswith('.md'):
        for block in runnable_blocks(path):
            n = block.code.count('\n') + 1
            skip.update(range(block.line, block.line + n))
    for i, line in enumerate(text.splitlines(), 1):
        if i not in skip:
            yield i, line


# a Markdown file named in a line, with or without its folder
MARKDOWN_RE = re.compile(r'(?<![\w./~$-])((?:\.\.?/)*(?:[\w.-]+/)*'
                         r'[\w.-]*\w\.md)(?![\w/])')
# a path that starts by climbing folders
CLIMB_RE = re.compile(r'(?<![\w./~$-])((?:\.\./)+[\w.-]+)')


@lru_cache(maxsize=None)
def repo_markdown_names() -> Set[str]:
    """File names of the repository's Markdown files, and of the page the
    docs build generates (``model_zoo.md``)."""
    names = {osp.basename(n) for n in text_files() if n.endswith('.md')}
    return names | {'model_zoo.md'}


def _climbs_to_repo_folder(base: str, path: str) -> bool:
    """Whether ``path`` (``../`` steps and one name), taken from the folder
    ``base``, names something inside the repository: a file or folder, or
    a page named without its extension (``{doc}`../benchmarks` ``)."""
    target = osp.normpath(osp.join(base, path))
    return target.startswith(REPO + os.sep) and (
        osp.exists(target) or osp.isfile(target + '.md')
        or osp.isfile(target + '.rst')
        or osp.basename(target) + '.md' in repo_markdown_names())


# a Markdown file name as a string literal of code: a file the code writes
# or reads (``'suite.md'``), not a document it cites
MARKDOWN_LITERAL_RE = re.compile(r"""['"]([\w.-]+\.md)['"]""")


def outside_references(text: str,
                       source: Optional[str] = None) -> List[Tuple[int, str]]:
    """``(line, match)`` of every reference to a document outside the
    repository in ``text`` (of the repository file ``source``, which
    places ``../`` paths; without it they are not checked). Markdown names
    that the text's own code quotes as strings are files it makes."""
    hits = []
    base = osp.dirname(osp.join(REPO, source)) if source else None
    known = repo_markdown_names() | set(MARKDOWN_LITERAL_RE.findall(text))
    for i, line in enumerate(text.splitlines(), 1):
        found = [(m.start(), m.group(0)) for _, pattern in OUTSIDE
                 for m in pattern.finditer(line)]
        if not EXTERNAL_RE.search(line):
            found += [(m.start(), m.group(1))
                      for m in MARKDOWN_RE.finditer(line)
                      if osp.basename(m.group(1)) not in known]
        if base is not None:
            found += [(m.start(), m.group(1)) for m in CLIMB_RE.finditer(line)
                      if not _climbs_to_repo_folder(base, m.group(1))]
        hits += [(i, hit) for _, hit in sorted(set(found))]
    return hits


def resolve(ref: str, source: str) -> Optional[str]:
    """The file a relative reference names, or None when it names none.

    Tried in order: relative to the citing file's folder, to the
    repository root and to ``docs/en``; a bare file name matches a file of
    that name under ``docs/en`` or at the root.
    """
    base = osp.dirname(osp.join(REPO, source))
    for root in (base, REPO, DOCS):
        candidate = osp.normpath(osp.join(root, ref))
        if osp.isfile(candidate):
            return candidate
    if '/' not in ref:
        for root in (DOCS, REPO):
            for dirpath, _, filenames in os.walk(root):
                if '_build' in dirpath or 'generated' in dirpath:
                    continue
                if ref in filenames:
                    return osp.join(dirpath, ref)
                if root == REPO:
                    break
    return None


def is_checked(ref: str) -> bool:
    """Whether a path-like token claims to name a file of this repository:
    it starts with one of the repository's folders or documentation
    sections, climbs with ``../``, or is a bare page name."""
    parts = ref.split('/')
    while parts and parts[0] in ('..', '.'):
        parts = parts[1:]
    if not parts:
        return False
    if len(parts) == 1:
        return ref.endswith(('.md', '.rst'))
    return parts[0] in REPO_DIRS + DOC_DIRS or ref.startswith('../')


def dangling_references(source: str, lines) -> List[Tuple[int, str]]:
    """``(line, reference)`` of the relative references in ``lines`` (of
    the repository file ``source``) that name no file or a missing
    anchor."""
    hits = []
    created = ''
    if source.endswith('.md') and osp.isfile(osp.join(REPO, source)):
        created = ' '.join(b.code + ' ' + b.mark
                           for b in runnable_blocks(osp.join(REPO, source)))
    for i, line in lines:
        if EXTERNAL_RE.search(line):
            continue
        for m in REF_RE.finditer(line):
            ref, anchor = m.group(1), m.group(2)
            stem = osp.splitext(osp.basename(ref))[0]
            if not is_checked(ref) or len(stem) == 1 or ref in created or \
                    any(p.search(ref) for _, p in OUTSIDE):
                continue  # placeholders, tutorial files, reported above
            target = resolve(ref, source)
            if target is None:
                hits.append((i, m.group(0)))
            elif anchor and target.endswith('.md') and \
                    anchor[1:] not in anchors(target):
                hits.append((i, m.group(0)))
    return hits


def scan(files: List[str]) -> Tuple[List[str], List[str]]:
    outside, dangling = [], []
    for name in files:
        try:
            text = _read(osp.join(REPO, name))
        except FileNotFoundError:  # removed since it was listed
            continue
        outside += [
            f'{name}:{i}: {hit}' for i, hit in outside_references(text, name)
        ]
        if name.endswith('.py'):
            lines = python_prose(text)
        else:
            lines = markdown_prose(osp.join(REPO, name), text)
        dangling += [
            f'{name}:{i}: {hit}'
            for i, hit in dangling_references(name, lines)
        ]
    return sorted(set(outside)), sorted(set(dangling))


@lru_cache(maxsize=None)
def _scan_repo() -> Tuple[Tuple[str, ...], Tuple[str, ...]]:
    outside, dangling = scan([
        n for n in text_files()
        if n != osp.join('tests', 'test_docs', 'test_repo_references.py')
    ])
    return tuple(outside), tuple(dangling)


def test_no_reference_to_documents_outside_the_repository():
    outside, _ = _scan_repo()
    assert not outside, (
        f'{len(outside)} references to documents that are not in the '
        'repository; cite a page of docs/en (with its anchor), the paper\'s '
        'equation number or an upstream issue URL instead:\n  ' +
        '\n  '.join(outside))


def test_relative_references_exist():
    _, dangling = _scan_repo()
    assert not dangling, (
        f'{len(dangling)} references to files or heading anchors that do '
        'not exist:\n  ' + '\n  '.join(dangling))


# -- the checker itself ------------------------------------------------------


@pytest.mark.parametrize('title, slug', [
    ('MotionGRU', 'motiongru'),
    ('ST-LSTM (PredRNN)', 'st-lstm-predrnn'),
    ('Human3.6M', 'human36m'),
    ('V-MNIST (`vmnist-v1`)', 'v-mnist-vmnist-v1'),
    ('Pitfall: re-encoded JPEGs', 'pitfall-re-encoded-jpegs'),
    ('Checkpoints and `weights_only`', 'checkpoints-and-weights_only'),
    ('See [the paper](https://example.org) now', 'see-the-paper-now'),
])
def test_github_slug(title, slug):
    assert github_slug(title) == slug


@pytest.mark.parametrize('line, found', [
    ('# as in notes/models.md section 2.2', ['notes/models.md', 'section 2.2'
                                             ]),
    ('"""Conventions (spec 4.5, trap 21):', ['spec 4', 'trap 2']),
    ('(SETUP.md s.4)', ['SETUP.md', 's.4']),
    ('see GUIDE.md and ../../../outside/x', ['GUIDE.md', '../../../outside']),
    ('data in ../missing/x', ['../missing']),
    ('see ../../docs/en/index.rst and README.md', []),
    ('OpenSTL documents it in docs/en/install.md', []),
    ('Writes OUT/report.md.\nopen("report.md")', []),
    ('after [E3D], traps 13-14', ['[E3D]', 'traps 1']),
    ('Spec "data and metrics" 2.2', ['Spec "']),
    ("from the spec's equations", ["the spec's"]),
    ('paper Eq. (4), Sec. 4, Table 2', []),
    ('model_equations.md#motiongru, section "Warp"', []),
])
def test_outside_references_are_found(line, found):
    source = osp.join('mmvp', 'models', 'x.py')
    assert [hit for _, hit in outside_references(line, source)] == found


def test_dangling_references_are_found(tmp_path):
    page = osp.join('docs', 'en', 'advanced_guides', 'model_equations.md')
    assert 'motiongru' in anchors(osp.join(REPO, page))
    lines = list(
        enumerate([
            'see model_equations.md#motiongru and tools/train.py',
            'see model_equations.md#no-such-heading',
            'see docs/en/advanced_guides/no_such_page.md',
            'see tools/no_such_tool.py and user_guides/config.md',
            'OpenSTL reads tools/prepare_data/resize_image.py',
            'the official core/trainer.py, train.py and configs/*.py',
        ], 1))
    hits = dangling_references(osp.join('mmvp', 'x.py'), lines)
    assert hits == [(2, 'model_equations.md#no-such-heading'),
                    (3, 'docs/en/advanced_guides/no_such_page.md'),
                    (4, 'tools/no_such_tool.py')]
    # relative to the citing page's folder
    doc = osp.join('docs', 'en', 'user_guides', 'x.md')
    assert dangling_references(doc, [(1, '[a](../contributing.md)')]) == []


def test_python_prose_reads_comments_and_docstrings_only():
    source = ('"""Module doc: tools/a.py."""\n'
              'x = "tools/b.py"  # comment: tools/c.py\n'
              'def f():\n'
              '    """Doc: tools/d.py."""\n')
    text = ' '.join(t for _, t in python_prose(source))
    assert 'tools/a.py' in text and 'tools/c.py' in text
    assert 'tools/d.py' in text and 'tools/b.py' not in text
