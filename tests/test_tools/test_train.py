# Copyright (c) mmvp contributors. All rights reserved.
"""tools/train.py end to end on the tiny demo config: train, resume
(auto and from a path), AMP on CPU, and tools/test.py on the result."""
import json
import os.path as osp

import pytest
from tools_helpers import assert_ok, run_tool, unique_name, write_tiny_config

from mmvp.utils import safe_load


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('train')
    cfg = write_tiny_config(root)
    work = root / 'work'
    proc = run_tool([
        'train.py', cfg, '--work-dir', work, '--cfg-options',
        f'experiment_name={unique_name("train")}'
    ], root)
    assert_ok(proc)
    return root, cfg, work


def test_train_writes_checkpoints_and_config(trained):
    _, _, work = trained
    for name in ('iter_2.pth', 'iter_4.pth', 'last_checkpoint',
                 'tiny_demo.py'):
        assert (work / name).exists(), name
    ckpt = safe_load(work / 'iter_4.pth')
    assert ckpt['meta']['iter'] == 4
    assert 'message_hub' in ckpt and 'optimizer' in ckpt
    assert any(k.startswith('backbone.') for k in ckpt['state_dict'])
    # the final config is written to the work dir
    text = (work / 'tiny_demo.py').read_text()
    assert 'max_iters=4' in text and 'hidden_channels=8' in text


def test_resume_auto_then_test_out_json(trained):
    root, cfg, work = trained
    proc = run_tool([
        'train.py', cfg, '--work-dir', work, '--resume', '--cfg-options',
        'train_cfg.max_iters=6', f'experiment_name={unique_name("resume")}'
    ], root)
    assert_ok(proc)
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert (work / 'iter_6.pth').exists()
    assert safe_load(work / 'iter_6.pth')['meta']['iter'] == 6

    out = root / 'results' / 'metrics.json'
    proc = run_tool([
        'test.py', cfg, work / 'iter_6.pth', '--work-dir', work, '--out', out,
        '--cfg-options', f'experiment_name={unique_name("test")}'
    ], root)
    assert_ok(proc)
    result = json.loads(out.read_text())
    assert result['checkpoint'].endswith('iter_6.pth')
    metrics = result['metrics']
    for key in ('vmnist/mse_frame_sum', 'vmnist/mse_frame_sum_t3',
                'vmnist/ssim', 'vmnist/psnr'):
        assert key in metrics, sorted(metrics)
    assert 'vmnist/mse_frame_sum_t4' not in metrics  # 3 output frames
    per_t = [metrics[f'vmnist/mse_frame_sum_t{t}'] for t in (1, 2, 3)]
    assert metrics['vmnist/mse_frame_sum'] == pytest.approx(
        sum(per_t) / 3, rel=1e-6)
    assert isinstance(result['per_sample'], list)


def test_resume_from_path_into_new_work_dir(trained):
    root, cfg, work = trained
    other = root / 'from_path'
    proc = run_tool([
        'train.py', cfg, '--work-dir', other, '--resume', work / 'iter_4.pth',
        '--cfg-options', 'train_cfg.max_iters=6',
        f'experiment_name={unique_name("resume_path")}'
    ], root)
    assert_ok(proc)
    assert 'resumed epoch: 0, iter: 4' in proc.stdout + proc.stderr
    assert not (other / 'iter_4.pth').exists()
    assert (other / 'iter_6.pth').exists()


def test_amp_on_cpu_default_work_dir_and_auto_scale_lr(tmp_path):
    cfg = write_tiny_config(tmp_path)
    proc = run_tool([
        'train.py', cfg, '--amp', '--auto-scale-lr', '--cfg-options',
        'train_cfg.max_iters=2', f'experiment_name={unique_name("amp")}'
    ], tmp_path)
    assert_ok(proc)
    work = tmp_path / 'work_dirs' / 'tiny_demo'
    assert osp.isfile(work / 'iter_2.pth')
    text = (work / 'tiny_demo.py').read_text()
    # an AMP wrapper: NonFiniteSkipOptimWrapper becomes its AMP flavour,
    # an AMP wrapper in the config stays
    assert ("type='NonFiniteSkipAmpOptimWrapper'" in text
            or "type='DeviceAmpOptimWrapper'" in text)
    ckpt = safe_load(work / 'iter_2.pth')
    assert 'loss_scaler' in ckpt['optimizer']
    # batch 2 on 1 process against base_batch_size 8: lr 2e-3 -> 5e-4
    log = proc.stdout + proc.stderr
    assert 'LR is set based on batch size of 8' in log
    assert ckpt['optimizer']['param_groups'][0]['lr'] == pytest.approx(5e-4)
