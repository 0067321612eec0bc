# Copyright (c) mmvp contributors. All rights reserved.
"""atomic_write_file: writers that take a file name (OpenCV, Matplotlib)."""
import os

import pytest

from mmvp.utils.atomic_io import (atomic_write_file, remove_stale_temps,
                                  temp_path_for)


def test_temp_names_keep_the_extension_on_request(tmp_path):
    target = str(tmp_path / 'clip.mp4')
    plain = os.path.basename(temp_path_for(target))
    kept = os.path.basename(temp_path_for(target, keep_ext=True))
    assert plain.startswith('.clip.mp4.') and plain.endswith('.tmp')
    assert kept.startswith('.clip.mp4.') and kept.endswith('.tmp.mp4')
    # both kinds of leftovers are removed, nothing else
    for name in (plain, kept, 'other.mp4', '.clip.mp4x.1.tmp'):
        (tmp_path / name).write_bytes(b'x')
    assert remove_stale_temps(target) == 2
    assert sorted(os.listdir(tmp_path)) == ['.clip.mp4x.1.tmp', 'other.mp4']


def test_atomic_write_file_publishes_or_keeps_the_old_file(tmp_path):
    target = tmp_path / 'sub' / 'fig.png'
    seen = []

    def write(name):
        seen.append(name)
        with open(name, 'wb') as f:
            f.write(b'new')

    atomic_write_file(str(target), write)
    assert target.read_bytes() == b'new'
    assert seen[0].endswith('.tmp.png')
    assert os.listdir(target.parent) == ['fig.png']
    # a normal file mode, not the private one of mkstemp
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(target).st_mode & 0o777 == 0o666 & ~umask

    def fail(name):
        with open(name, 'wb') as f:
            f.write(b'half')
        raise RuntimeError('writer died')

    with pytest.raises(RuntimeError, match='writer died'):
        atomic_write_file(str(target), fail)
    with pytest.raises(RuntimeError, match='empty file'):
        atomic_write_file(str(target), lambda name: open(name, 'wb').close())
    with pytest.raises(RuntimeError, match='empty file'):
        atomic_write_file(str(target), lambda name: None)
    assert target.read_bytes() == b'new'
    assert os.listdir(target.parent) == ['fig.png']
