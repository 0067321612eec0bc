# Copyright (c) mmvp contributors. All rights reserved.
"""``docs/en/api.rst`` documents every public name of every subpackage.

A name listed in the ``__all__`` of an ``mmvp`` package must appear in
``api.rst`` (in an ``autosummary`` table, or as a ``py:data`` entry for
constants). When this fails, add the name to the table of its subpackage.
"""
import importlib
import os.path as osp
import pkgutil
import re

from docs_helpers import DOCS

import mmvp

API = osp.join(DOCS, 'api.rst')


def public_packages():
    """``{package: __all__}`` for mmvp and all its subpackages."""
    found = {}
    for info in pkgutil.walk_packages(mmvp.__path__, 'mmvp.'):
        if not info.ispkg:
            continue
        module = importlib.import_module(info.name)
        names = getattr(module, '__all__', None)
        if names:
            found[info.name] = list(names)
    return found


def documented_names():
    with open(API, encoding='utf-8') as f:
        text = f.read()
    entries = set(re.findall(r'^ {3}(\w+)\s*$', text, re.M))
    entries |= set(re.findall(r'^\.\. py:data:: (\w+)', text, re.M))
    # the registries are listed in a table
    entries |= set(re.findall(r'``([A-Z_]+)``', text))
    modules = set(
        re.findall(r'^\.\. (?:currentmodule|automodule):: (\S+)', text, re.M))
    return entries, modules


def test_api_lists_every_public_name():
    entries, _ = documented_names()
    missing = []
    for package, names in sorted(public_packages().items()):
        missing += [f'{package}.{n}' for n in names if n not in entries]
    assert not missing, ('public names missing from docs/en/api.rst (add '
                         'them to the table of their subpackage):\n  ' +
                         '\n  '.join(missing))


def test_api_modules_exist():
    _, modules = documented_names()
    assert 'mmvp.models.necks' in modules
    for name in modules:
        importlib.import_module(name)
