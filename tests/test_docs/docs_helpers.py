# Copyright (c) mmvp contributors. All rights reserved.
"""Parsing helpers for the documentation tests.

**Runnable code blocks.** A fenced ``python`` block in ``docs/`` whose
opening fence directly follows a line ``<!-- runnable -->`` (blank lines in
between are allowed) is executed by ``test_docs_runnable.py``; a block after
``<!-- runnable-file: PATH -->`` is not executed but written to ``PATH`` (a
module the following blocks import, as the page tells the reader to save
it). The HTML comments are invisible in the rendered page. All marked blocks
of one page run in order in one fresh Python process, so later blocks can use
names defined by earlier ones, like a reader following the page. The process
runs in a temporary directory (also on ``sys.path``) that holds a copy of
``configs/``, so files a block writes never reach the repository; the
repository is importable and everything runs on CPU. Keep marked blocks to a
few seconds and make them check what they claim with ``assert``.

**Commands.** :func:`iter_commands` finds shell commands (fenced shell or
text blocks, and inline code spans) and :func:`tool_flags` the ``--flags``
given to a ``tools/*.py`` script in them, so that ``test_docs_cli_flags.py``
can compare them with the script's ``--help``.
"""
import glob
import os.path as osp
import re
from typing import Iterator, List, NamedTuple, Tuple

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOCS = osp.join(REPO, 'docs', 'en')

RUNNABLE_MARK = '<!-- runnable -->'
RUNNABLE_FILE_RE = re.compile(r'^<!-- runnable-file: ([\w./-]+) -->$')
# Shell wrappers that forward their extra arguments to a Python tool.
SHELL_TO_TOOL = {
    'tools/dist_train.sh': 'tools/train.py',
    'tools/slurm_train.sh': 'tools/train.py',
    'tools/dist_test.sh': 'tools/test.py',
    'tools/slurm_test.sh': 'tools/test.py',
}
TOOL_RE = re.compile(r'(?<![\w./-])(tools/[\w/]+\.(?:py|sh))\b')
CONFIG_RE = re.compile(r'(?<![\w-])(configs/[\w/]+\.(?:py|yml|md))\b')
FLAG_RE = re.compile(r'(?<![\w-])(--[A-Za-z][\w-]*)')
FENCE_RE = re.compile(r'^(\s*)(`{3,}|~{3,}|:{3,})\s*(\{[\w-]+\})?\s*([\w+-]*)')
INLINE_RE = re.compile(r'(`+)(.+?)\1')
SHELL_LANGS = {'', 'bash', 'sh', 'shell', 'console', 'text', 'none'}


class CodeBlock(NamedTuple):
    """A fenced block: file, line of its first code line, language, code."""
    path: str
    line: int
    lang: str
    code: str
    mark: str  # '' (plain), 'run', or the file a block is written to

    @property
    def runnable(self) -> bool:
        return bool(self.mark)


def doc_files(include_readmes: bool = True) -> List[str]:
    """Markdown and reST pages of ``docs/en`` (without the build output and
    generated pages) plus the READMEs."""
    files = []
    for ext in ('md', 'rst'):
        files += glob.glob(osp.join(DOCS, '**', f'*.{ext}'), recursive=True)
    skip = (osp.join(DOCS, '_build'), osp.join(DOCS, 'api', 'generated'))
    files = [f for f in files if not f.startswith(skip)]
    if include_readmes:
        files += [
            p for p in (osp.join(REPO, 'README.md'),
                        osp.join(REPO, 'configs', 'README.md'))
            if osp.isfile(p)
        ]
    return sorted(files)


def rel(path: str) -> str:
    return osp.relpath(path, REPO)


def read(path: str) -> str:
    with open(path, encoding='utf-8') as f:
        return f.read()


def code_blocks(path: str) -> List[CodeBlock]:
    """Fenced code blocks of a markdown file (``` and ~~~ fences, and MyST
    ``{code-block} lang`` directives)."""
    lines = read(path).splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m or m.group(2).startswith(':'):
            i += 1
            continue
        fence = m.group(2)
        directive, lang = m.group(3), m.group(4).lower()
        if directive and directive not in ('{code-block}', '{code}'):
            lang = directive  # e.g. {note}, {literalinclude}: not code
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        mark = ''
        if j >= 0 and lines[j].strip() == RUNNABLE_MARK:
            mark = 'run'
        elif j >= 0 and RUNNABLE_FILE_RE.match(lines[j].strip()):
            mark = RUNNABLE_FILE_RE.match(lines[j].strip()).group(1)
        body = []
        k = i + 1
        while k < len(lines) and not lines[k].strip().startswith(fence):
            body.append(lines[k])
            k += 1
        # drop MyST directive options (":language: python") at the top
        start = 0
        while start < len(body) and body[start].startswith(':') and \
                directive:
            start += 1
        blocks.append(
            CodeBlock(path, i + 2 + start, lang, '\n'.join(body[start:]),
                      mark))
        i = k + 1
    return blocks


def runnable_blocks(path: str) -> List[CodeBlock]:
    blocks = [b for b in code_blocks(path) if b.runnable]
    for b in blocks:
        if b.mark != 'run' and (osp.isabs(b.mark) or '..' in b.mark):
            raise ValueError(f'{rel(path)}:{b.line}: runnable-file paths '
                             f'must stay in the scratch folder: {b.mark}')
        if b.lang not in ('python', 'py', 'python3'):
            raise ValueError(f'{rel(path)}:{b.line}: a runnable mark must '
                             f'precede a python block, not {b.lang!r}')
    return blocks


def iter_commands(path: str) -> Iterator[Tuple[int, str]]:
    """``(line, command)`` for every shell command of a page: the commands
    of shell/text blocks (backslash continuations joined, split at ``&&``,
    ``;`` and ``|``) and every inline code span outside code blocks."""
    text = read(path)
    lines = text.splitlines()
    in_block = set()
    for block in code_blocks(path):
        n = block.code.count('\n') + 1
        in_block.update(range(block.line - 1, block.line + n + 1))
        if block.lang not in SHELL_LANGS:
            continue
        joined, start = '', None
        for offset, line in enumerate(block.code.splitlines()):
            if start is None:
                start = block.line + offset
            stripped = line.rstrip()
            if stripped.endswith('\\'):
                joined += stripped[:-1] + ' '
                continue
            joined += stripped
            for part in re.split(r'&&|;|\|\|?', joined):
                if part.strip():
                    yield start, part.strip()
            joined, start = '', None
    for lineno, line in enumerate(lines, 1):
        if lineno in in_block:
            continue
        for m in INLINE_RE.finditer(line):
            yield lineno, m.group(2).strip()


def tool_flags(command: str) -> List[Tuple[str, str]]:
    """``(tool, flag)`` pairs: the flags that follow a ``tools/`` script in
    ``command`` (flags before it belong to the launcher). Shell wrappers are
    mapped to the Python tool they forward their arguments to."""
    pairs = []
    matches = list(TOOL_RE.finditer(command))
    for n, m in enumerate(matches):
        tool = SHELL_TO_TOOL.get(m.group(1), m.group(1))
        end = matches[n + 1].start() if n + 1 < len(matches) else None
        tail = command[m.end():end]
        if tool.endswith('.py'):
            pairs += [(tool, f) for f in FLAG_RE.findall(tail)]
    return pairs


def help_flags(help_text: str) -> set:
    """The ``--flags`` an argparse ``--help`` output lists."""
    return set(FLAG_RE.findall(help_text))


def _units(path: str) -> Iterator[Tuple[int, str]]:
    """Prose units outside code blocks: paragraphs and list items (ended by
    a blank line or the next item) and single table rows."""
    lines = read(path).splitlines()
    skip = set()
    for block in code_blocks(path):
        n = block.code.count('\n') + 1
        skip.update(range(block.line - 1, block.line + n + 1))
    unit, start = [], None
    item_re = re.compile(r'^\s*([-*+]|\d+[.)])\s')
    for lineno, line in enumerate(lines, 1):
        boundary = (
            lineno in skip or not line.strip() or line.lstrip().startswith('|')
            or item_re.match(line))
        if boundary and unit:
            yield start, ' '.join(unit)
            unit, start = [], None
        if lineno in skip or not line.strip():
            continue
        if line.lstrip().startswith('|'):
            yield lineno, line
            continue
        if start is None:
            start = lineno
        unit.append(line)
    if unit:
        yield start, ' '.join(unit)


def prose_flags(path: str) -> Iterator[Tuple[int, str, str]]:
    """``(line, tool, flag)`` for inline-code flags (`` `--amp` ``) in a
    paragraph, list item or table row that names exactly one tool; units
    naming several tools are ambiguous and skipped."""
    for lineno, unit in _units(path):
        tools = {SHELL_TO_TOOL.get(t, t) for t in TOOL_RE.findall(unit)}
        if len(tools) != 1:
            continue
        tool = tools.pop()
        if not tool.endswith('.py'):
            continue
        for m in INLINE_RE.finditer(unit):
            span = m.group(2).strip()
            flag = FLAG_RE.match(span)
            if flag and not TOOL_RE.search(span):
                yield lineno, tool, flag.group(1)
