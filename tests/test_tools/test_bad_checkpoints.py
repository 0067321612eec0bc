# Copyright (c) mmvp contributors. All rights reserved.
"""A checkpoint of another config, or an unsafe pickle, must stop the tools
with an error naming the file and the first mismatching parameter."""
import os

import pytest
import torch
from tools_helpers import (last_error, run_tool, save_model_checkpoint,
                           unique_name, write_tiny_config)


class _CallsSystem:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp('bad_ckpt')
    cfg = write_tiny_config(root)  # 8 hidden channels
    # the same model with 16 hidden channels: another config's checkpoint
    other = save_model_checkpoint(
        write_tiny_config(root, 'wide.py', hidden=16), root / 'wide.pth')
    return root, cfg, other


def _assert_names_mismatch(msg, filename):
    assert 'CheckpointMismatchError' in msg
    assert filename in msg
    # first parameter of the backbone: 8 channels expected, 16 found
    assert 'parameter "' in msg and 'expected shape (' in msg
    assert 'found (' in msg
    expected = msg.split('expected shape (')[1].split(')')[0]
    found = msg.split('found (')[1].split(')')[0]
    assert expected != found


def test_test_py_refuses_other_config_checkpoint(setup):
    root, cfg, other = setup
    proc = run_tool([
        'test.py', cfg, other, '--work-dir', root / 'work', '--cfg-options',
        f'experiment_name={unique_name("bad_test")}'
    ], root)
    _assert_names_mismatch(last_error(proc), 'wide.pth')


@pytest.mark.parametrize('how', ['load_from', 'resume'])
def test_train_py_refuses_other_config_checkpoint(setup, how):
    root, cfg, other = setup
    args = ['train.py', cfg, '--work-dir', root / f'work_{how}']
    if how == 'resume':
        args += ['--resume', other, '--cfg-options']
    else:
        args += ['--cfg-options', f'load_from={other}']
    args.append(f'experiment_name={unique_name(how)}')
    proc = run_tool(args, root)
    _assert_names_mismatch(last_error(proc), 'wide.pth')
    assert 'Iter(train)' not in proc.stdout + proc.stderr


def test_unsafe_pickle_is_refused(setup):
    root, cfg, _ = setup
    marker = root / 'executed'
    evil = root / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': _CallsSystem(marker)}, evil)
    proc = run_tool([
        'test.py', cfg, evil, '--work-dir', root / 'work', '--cfg-options',
        f'experiment_name={unique_name("evil")}'
    ], root)
    msg = last_error(proc)
    assert 'UnsafeCheckpointError' in msg and 'evil.pth' in msg
    assert 'system' in msg
    assert not marker.exists()
