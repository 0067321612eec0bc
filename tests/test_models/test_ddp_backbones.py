# Copyright (c) mmvp contributors. All rights reserved.
"""Every backbone, with and without MotionRNN, trains under DDP with
``find_unused_parameters=False`` (the default runtime's wrapper config).

One spawned job of 2 gloo processes on CPU loops over the 12 variants
(tiny models), plus MotionRNN-PredRNN with ``compile_regions``, and trains
each for 2 iterations through :class:`VideoPredictorDDP` with different
data per rank. Checked per variant: every parameter has a gradient at
every step (so DDP's reduction completes), the losses are finite, and the
parameters are identical on both ranks afterwards; the compiled variant
trains exactly like its eager twin.
"""
import datetime
import json
import os
import os.path as osp
import socket

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WORLD_SIZE = 2
STEPS = 2
# 8x8 grey frames, patch 2 -> 4 x 4 x 4 per step (MotionGRU at 2 x 2);
# 2 -> 2 frames, i.e. 3 recurrent steps (MIM-N modules run from t = 1).
IMG, PATCH, T_IN, T_OUT, BATCH = 8, 2, 2, 2, 2
SMALL = dict(num_layers=2, hidden_channels=8, kernel_size=3)

BACKBONES = {
    'ConvLSTM': ('convlstm_vmnist.py', {}),
    'PredRNN': ('predrnn_vmnist.py', {}),
    'PredRNNpp': ('predrnnpp_vmnist.py', {}),
    'PredRNNv2': ('predrnnv2_vmnist.py', {}),
    'MIM': ('mim_vmnist.py', dict(input_size=(IMG // PATCH, IMG // PATCH))),
    'E3DLSTM': ('e3dlstm_vmnist.py', {}),
}
VARIANTS = {}  # name: (config, backbone options, model options)
for _name, (_cfg, _extra) in BACKBONES.items():
    VARIANTS[_name] = (_cfg, _extra, {})
    VARIANTS[f'MotionRNN-{_name}'] = ('motionrnn_' + _cfg, _extra, {})
# cells and MotionGRU blocks compiled one by one inside the DDP wrapper (the
# eager backend captures the graphs without generating code)
VARIANTS['compiled regions/MotionRNN-PredRNN'] = (
    'motionrnn_predrnn_vmnist.py', {},
    dict(compile_regions=dict(backend='eager', fullgraph=True)))


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _build(config, extra, model_extra=None):
    from mmengine.config import Config

    from mmvp.registry import MODELS
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    model = cfg.model
    model.backbone.update(SMALL, **extra)
    if model.get('neck'):
        model.neck.kernel_size = 3
    model.data_preprocessor.patch_size = PATCH
    model.update(img_channels=1, in_frames=T_IN, out_frames=T_OUT)
    model.update(model_extra or {})
    torch.manual_seed(0)
    return MODELS.build(model)


def _train_variant(rank, config, extra, model_extra):
    from mmengine.optim import OptimWrapper

    from mmvp.models.wrappers import VideoPredictorDDP
    from mmvp.structures import VideoPredDataSample

    model = _build(config, extra, model_extra)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_grad = []

    class CheckingOptimWrapper(OptimWrapper):
        """Records the parameters without a gradient before each step."""

        def step(self, **kwargs):
            no_grad.append([n for n, p in named if p.grad is None])
            super().step(**kwargs)

    ddp = VideoPredictorDDP(
        module=model,
        device_ids=None,
        broadcast_buffers=False,
        find_unused_parameters=False)
    optim = CheckingOptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-2))
    gen = torch.Generator().manual_seed(100 + rank)  # other data per rank
    losses = []
    for _ in range(STEPS):
        frames = torch.randint(
            0,
            256, (BATCH, T_IN + T_OUT, 1, IMG, IMG),
            generator=gen,
            dtype=torch.uint8)
        data = dict(
            inputs=list(frames),
            data_samples=[
                VideoPredDataSample(
                    metainfo=dict(in_frames=T_IN, out_frames=T_OUT))
                for _ in range(BATCH)
            ])
        log_vars = ddp.train_step(data, optim)
        losses.append(float(log_vars['loss']))
    flat = torch.cat([p.detach().reshape(-1) for _, p in named])
    gathered = [torch.empty_like(flat) for _ in range(WORLD_SIZE)]
    dist.all_gather(gathered, flat)
    return dict(
        num_params=len(named),
        no_grad=no_grad,
        losses=losses,
        rank_diff=float((gathered[0] - gathered[1]).abs().max()),
        changed=bool((flat != torch.cat([
            p.detach().reshape(-1)
            for _, p in _build(config, extra).named_parameters()
        ])).any()))


def _worker(rank, port, out_path):
    torch.set_num_threads(1)
    dist.init_process_group(
        'gloo',
        init_method=f'tcp://127.0.0.1:{port}',
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=datetime.timedelta(seconds=120))
    from mmvp.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    results = {}
    try:
        for name, (config, extra, model_extra) in VARIANTS.items():
            try:
                results[name] = _train_variant(rank, config, extra,
                                               model_extra)
            except Exception as err:  # noqa: B902  reported per variant
                results[name] = dict(error=f'{type(err).__name__}: {err}')
    finally:
        dist.destroy_process_group()
    with open(f'{out_path}.{rank}', 'w') as f:
        json.dump(results, f)


@pytest.fixture(scope='module')
def ddp_results(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('ddp') / 'results.json')
    env = {k: os.environ.get(k) for k in ('OMP_NUM_THREADS', )}
    os.environ['OMP_NUM_THREADS'] = '1'
    try:
        mp.spawn(
            _worker, args=(_free_port(), out), nprocs=WORLD_SIZE, join=True)
    finally:
        for k, v in env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    results = []
    for rank in range(WORLD_SIZE):
        with open(f'{out}.{rank}') as f:
            results.append(json.load(f))
    return results


@pytest.mark.parametrize('variant', list(VARIANTS))
def test_ddp_two_iterations(ddp_results, variant):
    for rank, results in enumerate(ddp_results):
        res = results[variant]
        assert 'error' not in res, f'rank {rank}: {res.get("error")}'
        assert len(res['no_grad']) == STEPS
        for step, missing in enumerate(res['no_grad']):
            assert missing == [], (f'rank {rank}, step {step}: no gradient '
                                   f'for {missing}')
        assert all(torch.isfinite(torch.tensor(res['losses'])))
        # identical parameters on both ranks, and training moved them
        assert res['rank_diff'] == 0.0
        assert res['changed']
    # the ranks saw different data
    assert ddp_results[0][variant]['losses'] != \
        ddp_results[1][variant]['losses']
    if variant.startswith('compiled regions/'):
        # the same training as uncompiled, rank by rank
        eager = variant.split('/', 1)[1]
        for results in ddp_results:
            assert results[variant]['losses'] == results[eager]['losses']
    if variant.startswith('MotionRNN'):
        plain = variant.split('-', 1)[1]
        assert ddp_results[0][variant]['num_params'] > \
            ddp_results[0][plain]['num_params']
