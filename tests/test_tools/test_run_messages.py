# Copyright (c) mmvp contributors. All rights reserved.
"""What the tools print on a fresh run, on ``--resume`` without a
checkpoint, and for a test set smaller than one batch."""
import pytest
from tools_helpers import (assert_ok, last_error, run_tool, unique_name,
                           write_tiny_config)

NOT_FOUND = 'Did not find last_checkpoint'


@pytest.fixture(scope='module')
def fresh(tmp_path_factory):
    root = tmp_path_factory.mktemp('fresh')
    cfg = write_tiny_config(root)
    work = root / 'work'
    proc = run_tool([
        'train.py', cfg, '--work-dir', work, '--cfg-options',
        f'experiment_name={unique_name("fresh")}'
    ], root)
    assert_ok(proc)
    return root, cfg, work, proc.stdout + proc.stderr


def test_fresh_run_does_not_mention_resuming(fresh):
    _, _, work, log = fresh
    assert (work / 'iter_4.pth').exists()
    assert 'Saving checkpoint at 2 iterations' in log
    assert NOT_FOUND not in log


def test_resume_without_checkpoint_trains_from_scratch(fresh):
    root, cfg, _, _ = fresh
    work = root / 'empty'
    proc = run_tool([
        'train.py', cfg, '--work-dir', work, '--resume', '--cfg-options',
        'train_cfg.max_iters=2', f'experiment_name={unique_name("empty")}'
    ], root)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert f'--resume: no last_checkpoint in {work}; training from scratch' \
        in log
    assert NOT_FOUND not in log
    assert 'latest checkpoint None' not in log
    assert (work / 'iter_2.pth').exists()


def test_test_set_smaller_than_a_batch(fresh):
    root, cfg, work, _ = fresh
    # the tiny test set has 5 clips
    proc = run_tool([
        'test.py', cfg, work / 'iter_4.pth', '--work-dir', root / 'small',
        '--cfg-options', 'test_dataloader.batch_size=8',
        'test_dataloader.drop_last=True'
    ], root)
    assert last_error(proc) == (
        'mmvp.utils.config_check.ConfigError: the test set has 5 clips, '
        'fewer than batch_size=8 with drop_last=True; set '
        'test_dataloader.drop_last=False or a smaller batch_size')
