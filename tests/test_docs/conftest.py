# Copyright (c) mmvp contributors. All rights reserved.
"""Markers of the documentation tests."""


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'docs_build: builds the Sphinx site (needs the packages '
        'of requirements/docs.txt; skipped without them)')
