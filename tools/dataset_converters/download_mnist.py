# Copyright (c) mmvp contributors. All rights reserved.
"""Download the four MNIST files (for Moving MNIST and V-MNIST).

Usage::

    python tools/dataset_converters/download_mnist.py --out-dir data/mnist
    python tools/dataset_converters/download_mnist.py --out-dir data/mnist \
        --mirror https://example.org/mnist/

Each file is tried on every mirror in turn, md5-verified (see
``docs/en/advanced_guides/dataset_protocols.md#mnist-digit-files``) and
written atomically (temporary file, then rename). Files already present with
the right md5 are skipped. When every mirror fails the tool exits with
status 1 and explains how to place the files by hand; note that
``digit_source='glyphs'`` needs no download at all.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
import tempfile
import urllib.request
from typing import Callable, Dict, List, Optional, Sequence

# file name -> md5 (dataset_protocols.md#mnist-digit-files; the same as
# torchvision's MNIST resources)
MNIST_MD5 = {
    'train-images-idx3-ubyte.gz': 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    'train-labels-idx1-ubyte.gz': 'd53e105ee54ea40749a09fcbcd1e9432',
    't10k-images-idx3-ubyte.gz': '9fb629c4189551a2d022fa330f9573f3',
    't10k-labels-idx1-ubyte.gz': 'ec29112dd5afa0611ce80d1b7f02629c',
}

# tried in this order; the original host often refuses downloads
MIRRORS = [
    'https://ossci-datasets.s3.amazonaws.com/mnist/',
    'https://storage.googleapis.com/cvdf-datasets/mnist/',
    'http://yann.lecun.com/exdb/mnist/',
]

CHUNK = 1 << 16


class DownloadError(RuntimeError):
    """Raised when a file cannot be fetched from any mirror."""


def md5sum(path: str, chunk: int = CHUNK) -> str:
    """md5 hex digest of a file."""
    h = hashlib.md5()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


class _Progress:
    """A one-line byte counter on stderr."""

    def __init__(self, name: str, total: Optional[int], stream=sys.stderr):
        self.name, self.total, self.done = name, total, 0
        self.stream = stream

    def update(self, n: int) -> None:
        self.done += n
        if self.total:
            pct = 100.0 * self.done / self.total
            bar = '#' * int(pct // 4)
            msg = (f'\r{self.name}: [{bar:<25}] {pct:5.1f}% '
                   f'({self.done / 1e6:.1f}/{self.total / 1e6:.1f} MB)')
        else:
            msg = f'\r{self.name}: {self.done / 1e6:.1f} MB'
        self.stream.write(msg)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write('\n')
        self.stream.flush()


def download_file(url: str,
                  dst: str,
                  md5: Optional[str] = None,
                  opener: Callable = urllib.request.urlopen,
                  timeout: float = 60.0,
                  progress: bool = True) -> str:
    """Download ``url`` to ``dst`` atomically, checking ``md5``.

    The data go to a temporary file in the destination folder, which is
    renamed to ``dst`` only when the md5 matches; on any failure it is
    removed and ``dst`` is left untouched.

    Args:
        url (str): Source URL (``file://`` works too).
        dst (str): Destination file.
        md5 (str, optional): Expected md5 hex digest.
        opener (callable): ``opener(url, timeout=...)`` returning a
            file-like response (``urllib.request.urlopen`` by default).
        timeout (float): Seconds.
        progress (bool): Show a progress line.

    Returns:
        str: ``dst``.
    """
    out_dir = osp.dirname(osp.abspath(dst))
    os.makedirs(out_dir, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix='.' + osp.basename(dst) + '.', suffix='.part', dir=out_dir)
    try:
        h = hashlib.md5()
        with os.fdopen(fd, 'wb') as out, opener(url, timeout=timeout) as r:
            total = None
            headers = getattr(r, 'headers', None)
            if headers is not None and headers.get('Content-Length'):
                total = int(headers.get('Content-Length'))
            bar = _Progress(osp.basename(dst), total) if progress else None
            for block in iter(lambda: r.read(CHUNK), b''):
                out.write(block)
                h.update(block)
                if bar is not None:
                    bar.update(len(block))
            if bar is not None:
                bar.close()
        got = h.hexdigest()
        if md5 is not None and got != md5:
            raise DownloadError(f'md5 mismatch for {url}: got {got}, '
                                f'expected {md5}')
        os.replace(tmp, dst)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return dst


def download_mnist(out_dir: str,
                   mirrors: Optional[Sequence[str]] = None,
                   files: Optional[Dict[str, str]] = None,
                   opener: Callable = urllib.request.urlopen,
                   timeout: float = 60.0,
                   progress: bool = True,
                   log: Callable = print) -> List[str]:
    """Fetch the MNIST files into ``out_dir``.

    Args:
        out_dir (str): Destination folder.
        mirrors (Sequence[str], optional): Base URLs tried in order;
            defaults to :data:`MIRRORS`.
        files (dict, optional): ``{file name: md5}``; defaults to
            :data:`MNIST_MD5`.
        opener (callable): See :func:`download_file`.
        timeout (float): Seconds per request.
        progress (bool): Show progress lines.
        log (callable): Message sink.

    Returns:
        list[str]: Paths of the files (downloaded or already present).

    Raises:
        DownloadError: A file failed on every mirror (the message lists the
            errors and how to place the files manually).
    """
    mirrors = list(mirrors or MIRRORS)
    files = dict(files or MNIST_MD5)
    os.makedirs(out_dir, exist_ok=True)
    paths, failed = [], {}
    for name, md5 in files.items():
        dst = osp.join(out_dir, name)
        if osp.isfile(dst):
            if md5sum(dst) == md5:
                log(f'{dst}: present, md5 ok, skipped')
                paths.append(dst)
                continue
            log(f'{dst}: present but md5 differs, downloading again')
        errors = []
        for mirror in mirrors:
            url = mirror.rstrip('/') + '/' + name
            try:
                download_file(url, dst, md5, opener, timeout, progress)
            except Exception as e:  # network errors, md5 mismatch, ...
                errors.append(f'{url}: {e}')
                log(f'failed: {url}: {e}')
                continue
            log(f'{dst}: downloaded, md5 ok')
            paths.append(dst)
            break
        else:
            failed[name] = errors
    if failed:
        raise DownloadError(_manual_help(out_dir, files, failed))
    return paths


def _manual_help(out_dir: str, files: Dict[str, str],
                 failed: Dict[str, List[str]]) -> str:
    lines = ['Could not download MNIST (offline, or every mirror failed):']
    for name, errors in failed.items():
        lines.append(f'  {name}:')
        lines.extend(f'    {e}' for e in errors)
    lines += [
        '',
        'To place the files manually, copy them (gzip-compressed, names '
        f'unchanged) into {out_dir}:',
    ]
    lines += [f'  {name}  md5 {md5}' for name, md5 in files.items()]
    lines += [
        'and run this tool again to verify them (files with the right md5 '
        'are skipped), or pass --mirror URL for a reachable copy.',
        "Alternatively use digit_source='glyphs' in the Moving MNIST / "
        'V-MNIST dataset configs: it draws digits with OpenCV fonts and '
        'needs no download.',
    ]
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Download the MNIST IDX files (md5-verified).')
    parser.add_argument(
        '--out-dir', required=True, help='folder for the four .gz files')
    parser.add_argument(
        '--mirror',
        action='append',
        default=None,
        help='base URL to try first (repeatable); the built-in mirrors are '
        'tried after it')
    parser.add_argument(
        '--timeout', type=float, default=60.0, help='seconds per request')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide progress lines')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    mirrors = list(args.mirror or []) + MIRRORS
    try:
        download_mnist(
            args.out_dir,
            mirrors,
            timeout=args.timeout,
            progress=not args.no_progress)
    except DownloadError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f'MNIST files ready in {args.out_dir}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
