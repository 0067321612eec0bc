# Copyright (c) mmvp contributors. All rights reserved.
"""The leaf configs of the extra backbones build into models."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmvp.registry import MODELS
from mmvp.utils import register_all_modules

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs')
BACKBONES = {
    'convlstm': 'ConvLSTM',
    'mim': 'MIM',
    'predrnnpp': 'PredRNNpp',
    'predrnnv2': 'PredRNNv2',
}


@pytest.mark.parametrize('motionrnn', [False, True])
@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_leaf_config_builds(name, motionrnn):
    register_all_modules()
    leaf = f'motionrnn_{name}_vmnist.py' if motionrnn else f'{name}_vmnist.py'
    cfg = Config.fromfile(osp.join(CONFIG_DIR, leaf))
    model = MODELS.build(cfg.model)
    assert type(model.backbone).__name__ == BACKBONES[name]
    assert model.backbone.num_layers == 4
    assert model.backbone.hidden_channels == 64
    assert model.backbone.in_channels == 16  # 1 channel, patch 4
    assert (model.neck is not None) == motionrnn
    assert (model.in_frames, model.out_frames) == (10, 10)
    if name == 'mim':
        # Hadamard peepholes sized for 64x64 frames with patch 4
        assert model.backbone.input_size == (16, 16)
        assert model.backbone.mim_n[0].weight_ci.shape == (64, 16, 16)
        state = model.backbone.init_state(torch.zeros(1, 16, 16, 16))
        assert state['h'][0].shape == (1, 64, 16, 16)
    if name == 'predrnnv2':
        assert model.sampling_mode == 'reverse'
        assert model.sampling_schedule == dict(
            start_iter=25000, stop_iter=50000, alpha=5000)
        assert model.backbone.decouple_beta == 0.1
    if name == 'convlstm':
        assert model.backbone.cells[0].peephole == 'conv'
