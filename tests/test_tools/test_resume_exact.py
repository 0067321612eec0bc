# Copyright (c) mmvp contributors. All rights reserved.
"""Train 20 iterations; separately train 10, stop, and resume to 20: the
final weights are equal. Scheduled sampling is random over the whole run
here (probability 1 -> 0.4), so this also checks that resumed masks equal
uninterrupted ones."""
from tools_helpers import assert_ok, run_tool, unique_name, write_tiny_config

from mmvp.utils import safe_load

OPTIONS = [
    'train_cfg.max_iters={iters}', 'train_cfg.val_interval=10',
    'default_hooks.checkpoint.interval=10', 'model.sampling.rate=0.03',
    'model.sampling.stop_iter=40'
]


def train(cfg, work, root, iters, resume=False, tag=''):
    args = ['train.py', cfg, '--work-dir', work]
    if resume:
        args.append('--resume')
    args += ['--cfg-options'] + [o.format(iters=iters) for o in OPTIONS]
    args.append(f'experiment_name={unique_name(tag)}')
    proc = run_tool(args, root)
    assert_ok(proc)
    return proc


def test_resume_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    cfg = write_tiny_config(tmp_path)
    train(cfg, tmp_path / 'straight', tmp_path, 20, tag='straight')
    train(cfg, tmp_path / 'split', tmp_path, 10, tag='first')
    proc = train(cfg, tmp_path / 'split', tmp_path, 20, True, 'second')
    assert 'resumed epoch: 0, iter: 10' in proc.stdout + proc.stderr

    a = safe_load(tmp_path / 'straight' / 'iter_20.pth')
    b = safe_load(tmp_path / 'split' / 'iter_20.pth')
    assert a['state_dict'].keys() == b['state_dict'].keys()
    max_diff = max((a['state_dict'][k].double() -
                    b['state_dict'][k].double()).abs().max().item()
                   for k in a['state_dict'])
    # same data order, same masks, same arithmetic: equal to fp32 rounding
    assert max_diff <= 1e-6, max_diff
    # and training did move the weights
    c = safe_load(tmp_path / 'split' / 'iter_10.pth')
    moved = max((a['state_dict'][k] - c['state_dict'][k]).abs().max().item()
                for k in a['state_dict'])
    assert moved > 1e-4
    print(f'max |w_straight - w_resumed| = {max_diff:.3e}')
