# Copyright (c) mmvp contributors. All rights reserved.
"""Each layer of mmvp imports only the layers below it:
registry < utils < structures < models, datasets, evaluation < engine,
visualization < apis. Checked for mmvp.models, mmvp.engine and mmvp.utils
(module-level and function-level imports, absolute and relative)."""
import ast
import importlib.util
import os
import os.path as osp

import pytest

import mmvp

ROOT = osp.dirname(mmvp.__file__)
RANK = {
    'registry': 0,
    'version': 0,
    'utils': 1,
    'structures': 2,
    'models': 3,
    'datasets': 3,
    'evaluation': 3,
    'engine': 4,
    'visualization': 4,
    'apis': 5,
}
# register_all_modules imports every package to fill the registries, the
# entry point OpenMMLab puts in utils; nothing below it calls it.
ALLOWED = {('mmvp.utils.setup_env', 'register_all_modules')}


def _modules(package):
    for root, _, files in os.walk(osp.join(ROOT, package)):
        for name in sorted(files):
            if name.endswith('.py'):
                path = osp.join(root, name)
                rel = osp.relpath(path, osp.dirname(ROOT))[:-3]
                module = rel.replace(os.sep, '.')
                is_pkg = name == '__init__.py'
                if is_pkg:
                    module = module[:-len('.__init__')]
                yield path, module, is_pkg


def _imports(path, module, is_pkg):
    """``(imported module, enclosing function)`` of every import."""
    tree = ast.parse(open(path, encoding='utf-8').read())
    package = module if is_pkg else module.rpartition('.')[0]

    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            name = func
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = child.name
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, name
            elif isinstance(child, ast.ImportFrom):
                target = child.module or ''
                if child.level:
                    target = importlib.util.resolve_name(
                        '.' * child.level + target, package)
                yield target, name
            yield from visit(child, name)

    yield from visit(tree, None)


def _layer(module):
    parts = module.split('.')
    if parts[0] != 'mmvp' or len(parts) < 2:
        return None
    return parts[1]


@pytest.mark.parametrize('package', ['models', 'engine', 'utils'])
def test_imports_go_downwards(package):
    wrong = []
    for path, module, is_pkg in _modules(package):
        for target, func in _imports(path, module, is_pkg):
            layer = _layer(target)
            if layer is None or layer == package:
                continue
            assert layer in RANK, f'{module} imports unknown layer {target}'
            if RANK[layer] >= RANK[package] and \
                    (module, func) not in ALLOWED:
                wrong.append(f'{module} ({func or "module level"}) -> '
                             f'{target}')
    assert not wrong, 'imports of a layer at or above this one:\n' + \
        '\n'.join(wrong)


def test_the_check_sees_relative_and_nested_imports():
    path = osp.join(ROOT, 'utils', 'setup_env.py')
    found = set(_imports(path, 'mmvp.utils.setup_env', False))
    assert ('mmvp.models', 'register_all_modules') in found
    path = osp.join(ROOT, 'models', 'backbones', 'convlstm.py')
    found = {
        t
        for t, _ in _imports(path, 'mmvp.models.backbones.convlstm', False)
    }
    assert 'mmvp.models.cells' in found  # from ..cells import ...
