# Copyright (c) mmvp contributors. All rights reserved.
"""Packaging for mmvp.

``add_mim_extension`` places ``configs/``, ``tools/``, ``model-index.yml``
and ``checkpoints/`` (the small weights-only checkpoints the model index
points at) inside the package as ``mmvp/.mim/`` (symlinks in develop mode,
copies for sdist/wheel builds), so ``mim train mmvp <config>`` and the
inferencer's model names work after a pip install.
"""
import os
import os.path as osp
import re
import shutil
import sys
import warnings
from setuptools import find_packages, setup

PACKAGE = 'mmvp'
HERE = osp.dirname(osp.abspath(__file__))


def readme():
    path = osp.join(HERE, 'README.md')
    if not osp.exists(path):
        return ''
    with open(path, encoding='utf-8') as f:
        return f.read()


def get_version():
    """Read ``__version__`` from mmvp/version.py without importing mmvp."""
    with open(osp.join(HERE, PACKAGE, 'version.py')) as f:
        match = re.search(r"^__version__ = ['\"]([^'\"]+)['\"]", f.read(),
                          re.M)
    if match is None:
        raise RuntimeError('__version__ not found in mmvp/version.py')
    return match.group(1)


def parse_requirements(fname='requirements.txt', with_version=True):
    """Parse a requirements file, following ``-r other.txt`` lines.

    Args:
        fname (str): Path relative to the repository root.
        with_version (bool): Keep the version specifiers.

    Returns:
        list[str]: Requirement strings for setuptools.
    """
    path = osp.join(HERE, fname)
    packages = []
    if not osp.exists(path):
        return packages
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            if line.startswith('-r '):
                target = osp.join(osp.dirname(fname), line[3:].strip())
                packages.extend(parse_requirements(target, with_version))
                continue
            if line.startswith(('-', 'git+', 'http')):
                continue  # options and VCS/URL requirements are skipped
            if not with_version:
                line = re.split(r'[\s;<>=!~\[]', line, maxsplit=1)[0]
            if line not in packages:
                packages.append(line)
    return packages


def add_mim_extension():
    """Expose configs/, tools/, model-index.yml and checkpoints/ as
    ``mmvp/.mim``.

    Develop installs (``pip install -e .``) get symlinks, so edits in the
    repository are seen at once; sdist/wheel builds get copies.
    """
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'  # `pip install -e .` / `python setup.py develop`
    elif any(
            cmd in sys.argv
            for cmd in ('sdist', 'bdist_wheel', 'install', 'build')):
        mode = 'copy'
    else:
        return

    filenames = ['tools', 'configs', 'model-index.yml', 'checkpoints']
    mim_path = osp.join(HERE, PACKAGE, '.mim')
    os.makedirs(mim_path, exist_ok=True)

    for filename in filenames:
        src_path = osp.join(HERE, filename)
        if not osp.exists(src_path):
            continue
        tar_path = osp.join(mim_path, filename)
        if osp.isfile(tar_path) or osp.islink(tar_path):
            os.remove(tar_path)
        elif osp.isdir(tar_path):
            shutil.rmtree(tar_path)

        if mode == 'symlink':
            src_relpath = osp.relpath(src_path, osp.dirname(tar_path))
            try:
                os.symlink(src_relpath, tar_path)
            except OSError:
                # e.g. Windows without symlink rights: fall back to a copy
                mode = 'copy'
                warnings.warn(f'Failed to create a symbolic link for '
                              f'{src_relpath}, copying it instead.')
        if mode == 'copy':
            if osp.isfile(src_path):
                shutil.copyfile(src_path, tar_path)
            else:
                shutil.copytree(
                    src_path,
                    tar_path,
                    ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name=PACKAGE,
        version=get_version(),
        description='MotionRNN and recurrent video prediction on MMEngine',
        long_description=readme(),
        long_description_content_type='text/markdown',
        author='mmvp contributors',
        keywords='video prediction, MotionRNN, PredRNN, MMEngine',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'docs')),
        include_package_data=True,
        classifiers=[
            'Development Status :: 3 - Alpha',
            'License :: OSI Approved :: Apache Software License',
            'Operating System :: OS Independent',
            'Programming Language :: Python :: 3',
            'Programming Language :: Python :: 3.9',
            'Programming Language :: Python :: 3.10',
            'Programming Language :: Python :: 3.11',
            'Programming Language :: Python :: 3.12',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        license='Apache License 2.0',
        python_requires='>=3.9',
        install_requires=parse_requirements('requirements/runtime.txt'),
        extras_require={
            'all':
            list(
                dict.fromkeys(
                    parse_requirements('requirements.txt') +
                    parse_requirements('requirements/optional.txt'))),
            'tests':
            parse_requirements('requirements/tests.txt'),
            'optional':
            parse_requirements('requirements/optional.txt'),
            'docs':
            parse_requirements('requirements/docs.txt'),
            'mim':
            parse_requirements('requirements/mminstall.txt'),
        },
        zip_safe=False)
