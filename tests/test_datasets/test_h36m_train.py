# Copyright (c) mmvp contributors. All rights reserved.
"""tools/train.py and tools/test.py run configs/motionrnn_predrnn_h36m.py on
a generated raw Human3.6M fixture with the config's own dataset and
pipeline (only the data root, loader sizes, model width and iteration
count are overridden)."""
import json
import os
import os.path as osp
import subprocess
import sys
import uuid

import pytest
from test_h36m import write_h36m_tree

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py')


def tool_env():
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(
        p for p in (REPO, env.get('PYTHONPATH', '')) if p)
    env.update(
        CUDA_VISIBLE_DEVICES='',
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1',
        MPLBACKEND='Agg')
    env['PATH'] = os.pathsep.join(
        [osp.dirname(sys.executable),
         env.get('PATH', '')])
    return env


def h36m_cfg_options(data_root, extra=()):
    """Point the config at ``data_root`` and shrink it for a CPU test."""
    opts = []
    for loader in ('train', 'val', 'test'):
        opts += [
            f'{loader}_dataloader.dataset.data_root={data_root}',
            f'{loader}_dataloader.batch_size=2',
            f'{loader}_dataloader.num_workers=0',
            f'{loader}_dataloader.persistent_workers=False',
        ]
    opts += [
        'model.backbone.hidden_channels=8', 'train_cfg.max_iters=4',
        'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
        'default_hooks.checkpoint.interval=2',
        f'experiment_name=h36m_{uuid.uuid4().hex[:8]}'
    ]
    return opts + list(extra)


def run(cmd, cwd, timeout=300):
    proc = subprocess.run([str(c) for c in cmd],
                          cwd=str(cwd),
                          env=tool_env(),
                          capture_output=True,
                          text=True,
                          timeout=timeout)
    assert proc.returncode == 0, (
        f'exit code {proc.returncode}\n--- stdout ---\n{proc.stdout[-3000:]}'
        f'\n--- stderr ---\n{proc.stderr[-6000:]}')
    return proc


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    return write_h36m_tree(tmp_path_factory.mktemp('h36m_raw'))


def test_train_then_test_on_h36m_fixture(data_root, tmp_path):
    work = tmp_path / 'work'
    proc = run([
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'), CONFIG, '--work-dir', work,
        '--cfg-options', *h36m_cfg_options(data_root)
    ], tmp_path)
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [4/4]' in log
    # validation (S8 monitoring split) ran with the H36M table keys
    assert 'h36m_mim128/mse_div10' in log and 'h36m_mim128/mae_div100' in log
    assert (work / 'iter_4.pth').exists()
    dumped = (work / 'motionrnn_predrnn_h36m.py').read_text()
    assert "type='H36MDataset'" in dumped and "protocol='mim'" in dumped

    out = tmp_path / 'metrics.json'
    run([
        sys.executable,
        osp.join(REPO, 'tools',
                 'test.py'), CONFIG, work / 'iter_4.pth', '--work-dir', work,
        '--out', out, '--cfg-options', *h36m_cfg_options(data_root)
    ], tmp_path)
    metrics = json.loads(out.read_text())['metrics']
    for key in ('mse_div10', 'mae_div100', 'ssim', 'psnr', 'mse_div10_t4'):
        assert f'h36m_mim128/{key}' in metrics, sorted(metrics)
