# Copyright (c) mmvp contributors. All rights reserved.
"""tools/model_converters/publish_model.py: a training checkpoint reduced to
weights and meta, named after its SHA-256, and clear refusals."""
import hashlib
import os.path as osp
import re

import pytest
import torch
from tools_helpers import (assert_ok, last_error, run_tool,
                           save_model_checkpoint, write_tiny_config)

from mmvp.utils import publish_checkpoint, safe_load


@pytest.fixture
def training_checkpoint(tmp_path):
    """A tiny model's checkpoint as the runner writes it: weights, meta and
    the resume-only states (optimizer, schedulers, message hub)."""
    cfg = write_tiny_config(tmp_path)
    path = tmp_path / 'iter_4.pth'
    save_model_checkpoint(cfg, path, meta={'iter': 4, 'seed': 7})
    ckpt = torch.load(path, weights_only=False)
    first = next(iter(ckpt['state_dict'].values()))
    ckpt['optimizer'] = {
        'state': {
            0: {
                'exp_avg': torch.ones_like(first)
            }
        },
        'param_groups': [{
            'lr': 1e-3,
            'params': [0]
        }]
    }
    ckpt['param_schedulers'] = [{'last_epoch': 4}]
    ckpt['message_hub'] = {'log_scalars': {}}
    torch.save(ckpt, path)
    return path, ckpt


def test_publish_keeps_weights_and_meta_only(training_checkpoint, tmp_path):
    src, ckpt = training_checkpoint
    out, sha256 = publish_checkpoint(src, tmp_path / 'zoo' / 'tiny.pth')
    # named <stem>-<first 8 hex digits>.pth after the bytes written
    assert re.fullmatch(r'tiny-[0-9a-f]{8}\.pth', osp.basename(out))
    with open(out, 'rb') as f:
        assert hashlib.sha256(f.read()).hexdigest() == sha256
    assert osp.basename(out) == f'tiny-{sha256[:8]}.pth'
    published = safe_load(out)
    assert set(published) == {'state_dict', 'meta'}
    assert published['meta'] == {'iter': 4, 'seed': 7}
    assert published['state_dict'].keys() == ckpt['state_dict'].keys()
    for key, value in ckpt['state_dict'].items():
        assert torch.equal(published['state_dict'][key], value), key
    # the same input gives the same file (the hash is reproducible)
    again, sha_again = publish_checkpoint(src, tmp_path / 'zoo' / 'tiny.pth')
    assert (again, sha_again) == (out, sha256)


def test_publish_refuses_bad_input(tmp_path):
    bare = tmp_path / 'bare.pth'
    torch.save({'meta': {'iter': 1}}, bare)
    with pytest.raises(ValueError, match=r'bare\.pth.*"state_dict"'):
        publish_checkpoint(bare, tmp_path / 'out.pth')
    with pytest.raises(ValueError, match=r'out\.ckpt.*\.pth'):
        publish_checkpoint(bare, tmp_path / 'out.ckpt')
    assert not list(tmp_path.glob('out*'))


def test_publish_model_tool(training_checkpoint, tmp_path):
    src, _ = training_checkpoint
    proc = run_tool(['model_converters/publish_model.py', src, 'w.pth'],
                    cwd=tmp_path)
    assert_ok(proc)
    path, sha_line = proc.stdout.strip().splitlines()[-2:]
    sha256 = sha_line.split()[-1]
    assert path == f'w-{sha256[:8]}.pth' and (tmp_path / path).is_file()
    # a missing file is one clear line, not a traceback
    proc = run_tool(['model_converters/publish_model.py', 'nope.pth', 'w.pth'],
                    cwd=tmp_path)
    assert proc.returncode == 1
    assert 'nope.pth' in last_error(proc) and 'Traceback' not in proc.stderr
