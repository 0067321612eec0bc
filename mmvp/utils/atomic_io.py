# Copyright (c) mmvp contributors. All rights reserved.
"""Atomic file writes: a reader sees the old file or the new one, never a
part of the new one.

The data go to a temporary file in the target's directory (same file
system, so the final rename is atomic), which is flushed and ``fsync``-ed
before :func:`os.replace` puts it in place; the directory is ``fsync``-ed
afterwards so the rename itself survives a power loss. A process killed
at any moment leaves at most a hidden ``.<name>.<pid>.<random>.tmp`` file
next to the target; it is removed the next time the same target is
written (:func:`remove_stale_temps`).

Writers that only take a file name (OpenCV's video writer, Matplotlib,
MMEngine's checkpoint writer) use :func:`atomic_write_file`, or
:func:`temp_path_for` and :func:`commit_temp_file`.
"""
import glob
import os
import os.path as osp
import uuid
from typing import Any, Callable, Union

__all__ = [
    'atomic_write', 'atomic_write_bytes', 'atomic_write_text',
    'atomic_torch_save', 'atomic_write_file', 'commit_temp_file',
    'temp_path_for', 'fsync_dir', 'remove_stale_temps'
]

PathLike = Union[str, os.PathLike]
_TMP_SUFFIX = '.tmp'


def temp_path_for(path: PathLike, keep_ext: bool = False) -> str:
    """A fresh temporary name next to ``path`` (hidden, unique).

    ``find_latest_checkpoint`` and ``*.pth`` globs never match it: it
    starts with a dot and ends with ``.tmp``. With ``keep_ext=True`` the
    extension of ``path`` follows (``.clip.gif.<pid>.<random>.tmp.gif``),
    for writers that choose the file format from the name (OpenCV).
    """
    path = os.fspath(path)
    dirname, name = osp.split(path)
    ext = osp.splitext(name)[1] if keep_ext else ''
    return osp.join(
        dirname, f'.{name}.{os.getpid()}.'
        f'{uuid.uuid4().hex[:8]}{_TMP_SUFFIX}{ext}')


def remove_stale_temps(path: PathLike) -> int:
    """Remove temporary files left for ``path`` by killed writers.

    Returns:
        int: How many were removed.
    """
    path = os.fspath(path)
    dirname, name = osp.split(path)
    pattern = osp.join(
        glob.escape(dirname or '.'), f'.{glob.escape(name)}.*{_TMP_SUFFIX}')
    ext = glob.escape(osp.splitext(name)[1])
    stale_files = set(glob.glob(pattern))
    if ext:  # the temporary names of keep_ext=True
        stale_files.update(glob.glob(f'{pattern}{ext}'))
    removed = 0
    for stale in sorted(stale_files):
        try:
            os.remove(stale)
            removed += 1
        except OSError:  # another writer's file that just went away
            pass
    return removed


def fsync_dir(dirname: PathLike) -> None:
    """``fsync`` a directory so a rename in it is durable (POSIX only;
    a no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(os.fspath(dirname) or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: str) -> None:
    # fsync flushes the file's data whoever wrote them
    with open(path, 'rb') as f:
        os.fsync(f.fileno())


def commit_temp_file(tmp: PathLike, path: PathLike) -> None:
    """``fsync`` the complete file ``tmp`` and rename it to ``path``.

    For writers that can only be given a file name (e.g. MMEngine's
    checkpoint writer): write ``temp_path_for(path)``, then call this.
    """
    tmp, path = os.fspath(tmp), os.fspath(path)
    _fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(osp.dirname(path))


def atomic_write(path: PathLike,
                 write: Callable[[Any], None],
                 mode: str = 'wb') -> None:
    """Call ``write(fileobj)`` on a temporary file, then move it to
    ``path`` atomically.

    If ``write`` raises (or the process dies), ``path`` keeps its previous
    content and the temporary file is removed (or left hidden, see
    :func:`remove_stale_temps`).

    Args:
        path (str | PathLike): The target file.
        write (callable): Writes the content to the open file object.
        mode (str): ``'wb'`` or ``'w'``.
    """
    if mode not in ('wb', 'w'):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = os.fspath(path)
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    remove_stale_temps(path)
    tmp = temp_path_for(path)
    kwargs = {} if mode == 'wb' else dict(encoding='utf-8')
    try:
        with open(tmp, mode, **kwargs) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(dirname)


def atomic_write_file(path: PathLike,
                      write: Callable[[str], None],
                      keep_ext: bool = True) -> None:
    """Call ``write(tmp_name)`` for writers that take a file name, then
    move the file to ``path`` atomically.

    Like :func:`atomic_write`: if ``write`` raises, writes nothing or an
    empty file, ``path`` keeps its previous content and the temporary file
    is removed.

    Args:
        path (str | PathLike): The target file.
        write (callable): Writes the whole content to the given name.
        keep_ext (bool): Give the temporary name the extension of ``path``
            (see :func:`temp_path_for`). Defaults to True.
    """
    path = os.fspath(path)
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    remove_stale_temps(path)
    tmp = temp_path_for(path, keep_ext=keep_ext)
    try:
        write(tmp)
        if not osp.isfile(tmp) or osp.getsize(tmp) == 0:
            raise RuntimeError(f'writing "{path}" produced an empty file')
        commit_temp_file(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_bytes(path: PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(data), 'wb')


def atomic_write_text(path: PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda f: f.write(text), 'w')


def atomic_torch_save(obj: Any, path: PathLike) -> None:
    """:func:`torch.save` ``obj`` to ``path`` atomically."""
    import torch
    atomic_write(path, lambda f: torch.save(obj, f), 'wb')
