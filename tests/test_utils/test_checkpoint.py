# Copyright (c) mmvp contributors. All rights reserved.
"""Safe checkpoint loading (torch>=2.6, weights_only=True) and the strict
checkpoint/model fit check
(dependency_notes.md#checkpoints-and-weights_only)."""
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer, MessageHub

import mmvp  # noqa: F401  registers the allow-list
from mmvp.utils import (CheckpointMismatchError, UnsafeCheckpointError,
                        check_checkpoint_compatibility, safe_load)


def _message_hub_state():
    hub = MessageHub.get_instance('mmvp-test-checkpoint-hub')
    for i in range(4):
        hub.update_scalar('train/loss', np.float64(1.0 / (i + 1)))
        hub.update_scalar('train/lr', np.float32(1e-3))
        hub.update_scalar('train/time', 0.5 + i)
        hub.update_scalar('val/count', np.int64(i))
    hub.update_info('best_score', np.float64(0.25))
    hub.update_info('flag', np.bool_(True))
    hub.update_info('hist', np.arange(5, dtype=np.uint8))
    return hub.state_dict()


def test_mmengine_checkpoint_round_trips(tmp_path):
    model = nn.Conv2d(2, 3, 3)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    model(torch.rand(1, 2, 5, 5)).sum().backward()
    optimizer.step()
    ckpt = dict(
        meta=dict(epoch=0, iter=20, seed=np.int64(3)),
        state_dict=model.state_dict(),
        message_hub=_message_hub_state(),
        optimizer=optimizer.state_dict())
    path = tmp_path / 'iter_20.pth'
    torch.save(ckpt, path)

    loaded = safe_load(path)
    assert torch.equal(loaded['state_dict']['weight'], model.weight)
    hub = MessageHub.get_instance('mmvp-test-checkpoint-hub-restored')
    hub.load_state_dict(loaded['message_hub'])
    loss = hub.get_scalar('train/loss')
    assert isinstance(loss, HistoryBuffer)
    # the statistics methods restored through the getattr stand-in work
    assert loss.current() == pytest.approx(0.25)
    assert loss.mean(2) == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert loss.min() == pytest.approx(0.25)
    assert loss.max() == pytest.approx(1.0)
    assert hub.get_info('best_score') == pytest.approx(0.25)
    assert hub.get_info('hist').tolist() == [0, 1, 2, 3, 4]
    assert loaded['meta']['seed'] == 3
    assert loaded['optimizer']['state'][0]['step'] == 1


class _CallsSystem:
    """Pickles as ``os.system(<cmd>)``."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


class _GetsAttribute:
    """Pickles as ``getattr(obj, name)``."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


def test_pickle_calling_os_system_is_refused(tmp_path):
    marker = tmp_path / 'executed'
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'x': _CallsSystem(marker)}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_load(path)
    assert 'evil.pth' in str(info.value)
    assert 'system' in str(info.value)
    assert isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists()


@pytest.mark.parametrize('name', ['__init__', '__class__', 'update'])
def test_arbitrary_getattr_is_refused(tmp_path, name):
    path = tmp_path / 'getattr.pth'
    torch.save({'x': _GetsAttribute(HistoryBuffer, name)}, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_load(path)
    msg = str(info.value)
    assert 'getattr.pth' in msg and repr(name) in msg


def test_getattr_on_other_objects_is_refused(tmp_path):
    path = tmp_path / 'getattr_np.pth'
    torch.save({'x': _GetsAttribute(np.ndarray, 'mean')}, path)
    with pytest.raises(UnsafeCheckpointError, match='getattr_np.pth'):
        safe_load(path)


@pytest.mark.parametrize('name', ['min', 'max', 'current', 'mean'])
def test_history_buffer_statistics_getattr_is_allowed(tmp_path, name):
    path = tmp_path / 'stat.pth'
    torch.save({'x': _GetsAttribute(HistoryBuffer, name)}, path)
    assert safe_load(path)['x'] is getattr(HistoryBuffer, name)


def test_numpy1_alias_names_load(tmp_path):
    """Files written under numpy 1.x name ``numpy.core.multiarray``."""
    obj = {
        'arr': np.arange(6, dtype=np.float32).reshape(2, 3),
        'best': np.float64(0.5),
        'n': np.int64(7)
    }
    src = tmp_path / 'np2.pth'
    torch.save(obj, src, _use_new_zipfile_serialization=False)
    raw = src.read_bytes()
    assert b'numpy._core.multiarray' in raw or \
        b'numpy.core.multiarray' in raw
    old = tmp_path / 'np1.pth'
    old.write_bytes(
        raw.replace(b'numpy._core.multiarray', b'numpy.core.multiarray'))
    assert b'numpy._core' not in old.read_bytes()
    loaded = safe_load(old)
    np.testing.assert_array_equal(loaded['arr'], obj['arr'])
    assert loaded['best'] == 0.5 and loaded['n'] == 7


def test_missing_and_corrupt_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        safe_load(tmp_path / 'nothing.pth')
    bad = tmp_path / 'garbage.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises((RuntimeError, pickle.UnpicklingError),
                       match='garbage.pth'):
        safe_load(bad)
    good = tmp_path / 'good.pth'
    torch.save({'w': torch.zeros(1000)}, good)
    cut = tmp_path / 'truncated.pth'
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(RuntimeError, match='truncated.pth'):
        safe_load(cut)


def _net(hidden):
    return nn.Sequential(nn.Conv2d(1, hidden, 3), nn.Conv2d(hidden, 1, 1))


def test_compatible_checkpoints_pass(tmp_path):
    model = _net(4)
    plain = tmp_path / 'plain.pth'
    torch.save(model.state_dict(), plain)
    check_checkpoint_compatibility(_net(4), plain)
    wrapped = tmp_path / 'wrapped.pth'
    torch.save(
        {
            'state_dict': {
                f'module.{k}': v
                for k, v in model.state_dict().items()
            },
            'meta': {}
        }, wrapped)
    check_checkpoint_compatibility(_net(4), wrapped)


def test_shape_mismatch_names_file_key_and_shapes(tmp_path):
    path = tmp_path / 'other_config.pth'
    torch.save(
        {
            'state_dict': _net(8).state_dict(),
            'meta': {
                'experiment_name': 'big'
            }
        }, path)
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_compatibility(_net(4), path)
    msg = str(info.value)
    assert 'other_config.pth' in msg
    assert 'parameter "0.weight": expected shape (4, 1, 3, 3), found ' \
        '(8, 1, 3, 3)' in msg
    assert '3 problem(s)' in msg and '"big"' in msg


def test_missing_and_unexpected_keys(tmp_path):
    state = _net(4).state_dict()
    state.pop('1.bias')
    state['extra.weight'] = torch.zeros(2)
    path = tmp_path / 'partial.pth'
    torch.save(state, path)
    with pytest.raises(CheckpointMismatchError) as info:
        check_checkpoint_compatibility(_net(4), path)
    msg = str(info.value)
    assert 'parameter "1.bias": expected shape (1,), missing from the ' \
        'checkpoint' in msg
    assert 'unexpected parameter "extra.weight" with shape (2,)' in msg


def test_in_memory_checkpoint_and_non_dict(tmp_path):
    with pytest.raises(CheckpointMismatchError, match='mine.pth'):
        check_checkpoint_compatibility(
            _net(4), {'state_dict': _net(2).state_dict()}, filename='mine.pth')
    path = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(3), path)
    with pytest.raises(CheckpointMismatchError, match='holds a Tensor'):
        check_checkpoint_compatibility(_net(4), path)
