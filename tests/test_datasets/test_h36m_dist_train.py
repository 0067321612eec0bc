# Copyright (c) mmvp contributors. All rights reserved.
"""tools/dist_train.sh configs/motionrnn_predrnn_h36m.py 2 on CPU (gloo)
with the raw Human3.6M fixture."""
import os.path as osp
import socket

from test_h36m import write_h36m_tree
from test_h36m_train import REPO, h36m_cfg_options, run

CONFIG = osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_two_processes(tmp_path, monkeypatch):
    data_root = write_h36m_tree(tmp_path / 'raw')
    work = tmp_path / 'work'
    monkeypatch.setenv('PORT', str(free_port()))
    proc = run([
        'bash',
        osp.join(REPO, 'tools', 'dist_train.sh'), CONFIG, 2, '--work-dir',
        work, '--cfg-options', *h36m_cfg_options(data_root)
    ], tmp_path)
    log = proc.stdout + proc.stderr
    assert 'Iter(train) [4/4]' in log
    assert 'h36m_mim128/mse_div10' in log
    assert (work / 'iter_4.pth').exists()
