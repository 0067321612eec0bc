# Copyright (c) mmvp contributors. All rights reserved.
"""Two processes x batch 2 (gloo DDP) train and validate like one process
x batch 4: the same clips per step (InfiniteSampler splits one seeded
permutation by rank), gradients averaged by DDP, validation gathered from
both ranks. Scheduled sampling is off so that no per-rank random mask
differs from the single-process one."""
import glob
import json
import os.path as osp

import pytest
import torch
from test_dist_faults import dist_train
from tools_helpers import assert_ok, run_tool, unique_name, write_tiny_config

from mmvp.utils import safe_load

OPTIONS = [
    'model.sampling=None', 'train_cfg.max_iters=4', 'train_cfg.val_interval=2'
]
# The demo trains under bf16 autocast, whose rounding of a half batch is
# not that of a whole one; parity is a property of the fp32 arithmetic.
FP32 = '''\
_base_ = [{base!r}]
optim_wrapper = dict(
    _delete_=True,
    type='NonFiniteSkipOptimWrapper',
    optimizer=dict(type='Adam', lr=2e-3, fused=True))
'''


def _val_metrics(work):
    """Validation scalars of the last logged step (vis_data)."""
    files = glob.glob(osp.join(str(work), '*', 'vis_data', 'scalars.json'))
    assert len(files) == 1, files
    with open(files[0]) as f:
        records = [json.loads(line) for line in f if line.strip()]
    val = [r for r in records if any(k.startswith('vmnist/') for k in r)]
    assert [r['step'] for r in val] == [2, 4]
    return val[-1]


def test_two_processes_match_one(tmp_path):
    cfg = tmp_path / 'tiny_fp32.py'
    cfg.write_text(FP32.format(base=str(write_tiny_config(tmp_path))))
    ddp = dist_train(cfg, tmp_path / 'ddp', tmp_path,
                     OPTIONS + ['train_dataloader.batch_size=2'], 'parity_ddp')
    assert ddp.returncode == 0, (ddp.stdout + ddp.stderr)[-3000:]
    single = run_tool(
        ['train.py', cfg, '--work-dir', tmp_path / 'single', '--cfg-options'] +
        OPTIONS + [
            'train_dataloader.batch_size=4',
            f'experiment_name={unique_name("parity_single")}'
        ], tmp_path)
    assert_ok(single)

    a = safe_load(tmp_path / 'ddp' / 'iter_4.pth')['state_dict']
    b = safe_load(tmp_path / 'single' / 'iter_4.pth')['state_dict']
    moved = safe_load(tmp_path / 'single' / 'iter_2.pth')['state_dict']
    for key in a:
        # fp32 summation order differs (DDP averages two half-batch
        # gradients): equal to rounding
        torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-6)
    assert any(not torch.equal(b[k], moved[k]) for k in b)

    val_ddp = _val_metrics(tmp_path / 'ddp')
    val_single = _val_metrics(tmp_path / 'single')
    keys = [k for k in val_single if k.startswith('vmnist/')]
    assert 'vmnist/mse_frame_sum' in keys
    for key in keys:
        assert val_ddp[key] == pytest.approx(
            val_single[key], rel=1e-4, abs=1e-6), key
