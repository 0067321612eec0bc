# Copyright (c) mmvp contributors. All rights reserved.
"""A NaN loss on one rank of a two-process (gloo) run: every rank skips
the update together (``optim_wrapper.skip_nonfinite=True``) or every rank
stops with the error naming the iteration and the rank; the last
checkpoint stays finite either way. Rank 0's checkpoint carries both
ranks' RNG states, and a resume under DDP restores them without
warnings."""
import torch
from test_dist_faults import dist_train, write_probe_config

from mmvp.utils import safe_load

# the AMP flavour takes the keys of either wrapper the demo config may use
SKIP = ('optim_wrapper.type=NonFiniteSkipAmpOptimWrapper',
        'optim_wrapper.skip_nonfinite=True')


def test_nan_on_one_rank_is_skipped_by_all(tmp_path):
    cfg = write_probe_config(tmp_path)
    work = tmp_path / 'skip'
    proc = dist_train(cfg, work, tmp_path,
                      ['model.loss.at_iter=3', 'model.loss.rank=1', *SKIP],
                      'nan_skip')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    # logged by rank 0, whose own loss was finite: the ranks agreed
    assert ('Non-finite loss at iteration 3 of 6: loss=nan, total=nan on '
            'rank 1') in out
    assert '1 batch(es) skipped so far' in out
    assert 'nonfinite_skipped: 1' in out
    ckpt = safe_load(work / 'iter_6.pth')
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())
    assert ckpt['message_hub']['runtime_info']['nonfinite_skipped'] == 1
    rng = ckpt['rng_state']
    assert rng['world_size'] == 2 and len(rng['ranks']) == 2

    # resume under DDP: each rank gets its states back, the count goes on
    proc = dist_train(cfg, work, tmp_path,
                      ['train_cfg.max_iters=8', *SKIP, '--resume'],
                      'nan_skip_resume')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'resumed epoch: 0, iter: 6' in out
    assert 'freshly seeded' not in out and 'no RNG states' not in out
    ckpt = safe_load(work / 'iter_8.pth')
    assert ckpt['message_hub']['runtime_info']['nonfinite_skipped'] == 1


def test_nan_on_one_rank_stops_all(tmp_path):
    cfg = write_probe_config(tmp_path)
    work = tmp_path / 'stop'
    proc = dist_train(cfg, work, tmp_path,
                      ['model.loss.at_iter=3', 'model.loss.rank=1'],
                      'nan_stop')
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'NonFiniteLossError: Non-finite loss at iteration 3 of 6: ' \
        'loss=nan, total=nan on rank 1' in out
    assert (work / 'last_checkpoint').read_text().endswith('iter_2.pth')
    assert not (work / 'iter_4.pth').exists()
    ckpt = safe_load(work / 'iter_2.pth')
    assert all(torch.isfinite(v).all() for v in ckpt['state_dict'].values())
