# Copyright (c) mmvp contributors. All rights reserved.
"""torch.compile: every backbone, with and without MotionRNN, compiles the
way the MMEngine Runner does it (``cfg.compile=True`` wraps
``model.train_step``), matches eager training, and does not recompile when
the iteration (and so the scheduled-sampling mask) changes.

Compiling takes 30-90 s per model on 2 CPU cores, so these tests are
skipped unless ``MMVP_RUN_SLOW=1``. The cheap checks at the top always run.
"""
import os

import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper

from mmvp.models import VideoPredictor

RUN_SLOW = os.environ.get('MMVP_RUN_SLOW') == '1'
slow = pytest.mark.skipif(
    not RUN_SLOW,
    reason='torch.compile takes 30-90 s per model; set MMVP_RUN_SLOW=1')

BACKBONES = {
    'convlstm': dict(type='ConvLSTM', peephole='conv'),
    'predrnn': dict(type='PredRNN'),
    'predrnnpp': dict(type='PredRNNpp'),
    'predrnnv2': dict(type='PredRNNv2'),
    'mim': dict(type='MIM', input_size=(4, 4)),
    'e3dlstm': dict(type='E3DLSTM', window_length=2),
}
CASES = [(name, neck) for name in sorted(BACKBONES) for neck in (False, True)]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name, neck, **kwargs):
    cfg = dict(
        backbone=dict(
            BACKBONES[name], hidden_channels=8, num_layers=3, kernel_size=3),
        img_channels=1,
        in_frames=3,
        out_frames=2,
        # a mask that changes with the iteration
        sampling=dict(mode='linear', start=1.0, rate=0.3, stop_iter=10),
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    if neck:
        cfg['neck'] = dict(
            type='MotionRNNNeck3D' if name == 'e3dlstm' else 'MotionRNNNeck',
            kernel_size=3)
    cfg.update(kwargs)
    torch.manual_seed(0)
    return VideoPredictor(**cfg)


def batch(i):
    g = torch.Generator().manual_seed(100 + i)
    return dict(
        inputs=list(
            torch.randint(
                0, 256, (2, 5, 1, 8, 8), generator=g, dtype=torch.uint8)))


def test_sampling_mask_runs_eagerly_under_compile():
    # The iteration-dependent mask must not be traced: its probability
    # would become a graph constant and every iteration would recompile.
    fn = VideoPredictor._iteration_sampling
    assert getattr(fn, '_torchdynamo_disable', False)
    model = build('predrnn', True)
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', 1)  # 1-based itr 2: P(true frame) = 0.4
    mask, info = model._iteration_sampling(torch.zeros(2, 5, 4, 4, 4))
    assert mask.shape == (2, 4)
    assert set(info) == {'ss_prob'}
    assert isinstance(info['ss_prob'], torch.Tensor)
    torch.testing.assert_close(info['ss_prob'], torch.tensor(1 - 0.3 * 2))


@slow
@pytest.mark.parametrize('name,neck', CASES)
def test_compiled_train_step_matches_eager(name, neck):
    torch._dynamo.reset()  # one cache entry per model instance
    eager, compiled = build(name, neck), build(name, neck)
    opt_e = OptimWrapper(torch.optim.Adam(eager.parameters(), lr=1e-3))
    opt_c = OptimWrapper(torch.optim.Adam(compiled.parameters(), lr=1e-3))
    # what mmengine's Runner does with cfg.compile=True
    compiled.train_step = torch.compile(compiled.train_step)
    hub = MessageHub.get_current_instance()
    for i in range(4):
        hub.update_info('iter', i)
        log_e = eager.train_step(batch(i), opt_e)
        if i == 0:
            log_c = compiled.train_step(batch(i), opt_c)
        else:
            # a new iteration (new mask and probability) reuses the graph
            with torch._dynamo.config.patch(error_on_recompile=True):
                log_c = compiled.train_step(batch(i), opt_c)
        for key in log_e:
            torch.testing.assert_close(
                torch.as_tensor(log_c[key]).detach().float(),
                torch.as_tensor(log_e[key]).detach().float(),
                rtol=1e-4,
                atol=1e-6)
    for (n, p_e), p_c in zip(eager.named_parameters(), compiled.parameters()):
        torch.testing.assert_close(p_c, p_e, rtol=1e-3, atol=1e-5, msg=n)
    torch._dynamo.reset()


@slow
@pytest.mark.parametrize('name', ['predrnn', 'e3dlstm'])
def test_compiled_test_step_matches_eager(name):
    torch._dynamo.reset()
    model = build(name, True).eval()
    data = batch(0)
    with torch.no_grad():
        want = model.test_step(data)
        step = torch.compile(model.test_step)
        got = step(data)
    for a, b in zip(got, want):
        torch.testing.assert_close(
            a.pred_frames, b.pred_frames, rtol=1e-4, atol=1e-5)
    torch._dynamo.reset()


@slow
def test_runner_compile_option(tmp_path):
    """``cfg.compile=True`` in a Runner built from the demo config."""
    import os.path as osp

    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmvp.utils import register_all_modules
    register_all_modules()
    torch._dynamo.reset()
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    results = {}
    for compile_ in (False, True):
        cfg = Config.fromfile(
            osp.join(repo, 'configs', 'motionrnn_predrnn_vmnist_demo.py'))
        clip = dict(in_frames=3, out_frames=3)
        cfg.model.update(
            in_frames=3,
            out_frames=3,
            sampling=dict(mode='linear', start=1.0, rate=0.25, stop_iter=4))
        cfg.model.backbone.hidden_channels = 8
        cfg.train_dataloader.update(
            batch_size=2, num_workers=0, persistent_workers=False)
        cfg.train_dataloader.dataset.update(num_samples=8, **clip)
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=3)
        cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
        cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
        cfg.default_hooks.checkpoint.interval = 1000
        cfg.randomness = dict(seed=0)
        cfg.compile = compile_
        cfg.work_dir = str(tmp_path / f'compile_{compile_}')
        cfg.experiment_name = f'compile_{compile_}'
        runner = Runner.from_cfg(cfg)
        runner.train()
        if compile_:
            # the Runner replaced train_step by the compiled function
            assert hasattr(runner.model.train_step,
                           '_torchdynamo_orig_callable')
        results[compile_] = {
            n: p.detach().clone()
            for n, p in runner.model.named_parameters()
        }
    for name, value in results[False].items():
        torch.testing.assert_close(
            results[True][name], value, rtol=1e-3, atol=1e-5, msg=name)
    torch._dynamo.reset()


# ----------------------------------------------------------------------
# compile_regions: each per-step module compiled on its own

REGION_CLASSES = {
    'convlstm': ['ConvLSTMCell'] * 3,
    'predrnn': ['STLSTMCell'] * 3,
    'predrnnpp': ['CausalLSTMCell'] * 3 + ['GHU'],
    'predrnnv2': ['STLSTMCell'] * 3,
    'mim': ['STLSTMCell', 'MIMBlock', 'MIMBlock', 'MIMN', 'MIMN'],
    'e3dlstm': ['E3DLSTMCell'] * 3,
}


@pytest.mark.parametrize('name,neck', CASES)
def test_regions_are_the_per_step_modules(name, neck):
    model = build(name, neck)
    want = list(REGION_CLASSES[name])
    if neck:
        want += ['MotionGRU3D' if name == 'e3dlstm' else 'MotionGRU'] * 2
    assert [type(m).__name__ for m in model.regions()] == want
    assert all(m._compiled_call_impl is None for m in model.regions())


def test_regions_of_a_neck_without_motion_gru():
    from mmvp.models.necks import MotionRNNNeck
    assert MotionRNNNeck(4, 8, 3, use_motion_gru=False).regions() == []
    assert len(MotionRNNNeck(4, 8, 3).regions()) == 2


def test_regions_of_a_backbone_without_cells_say_what_to_do():
    from mmvp.models.backbones.base_recurrent_stack import BaseRecurrentStack

    class NoCells(BaseRecurrentStack):

        def init_state(self, frame, mode='zeros'):
            return dict(h=[])

        def layer_step(self, layer, inp, state):
            return inp, inp

    with pytest.raises(NotImplementedError, match='override regions'):
        NoCells(4, 8, 1).regions()


@pytest.mark.parametrize('value,error,match', [
    ('yes', TypeError, 'compile_regions must be a bool or a dict'),
    (dict(fullgrph=True), ValueError, r"unknown torch.compile .*'fullgrph'"),
    (dict(mode='bogus'), ValueError, 'compile_regions=.*bogus'),
])
def test_compile_regions_rejects_bad_values(value, error, match):
    with pytest.raises(error, match=match):
        build('predrnn', True, compile_regions=value)


def _train(model, iters, first_strict=None):
    """Losses of ``iters`` training steps; from step ``first_strict`` on a
    recompilation is an error."""
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    hub = MessageHub.get_current_instance()
    losses = []
    for i in range(iters):
        hub.update_info('iter', i)
        strict = first_strict is not None and i >= first_strict
        with torch._dynamo.config.patch(error_on_recompile=strict):
            losses.append(model.train_step(batch(i), optim)['loss'].detach())
    return torch.stack(losses)


@pytest.mark.parametrize('name,neck', CASES)
def test_compile_regions_trace_whole_and_match_eager(name, neck):
    """Every region is captured as one graph (``fullgraph=True``) and the
    compiled model trains exactly like the eager one. The ``eager`` backend
    runs the captured graphs without code generation, so this is fast; the
    slow test below uses the default backend."""
    torch._dynamo.reset()
    eager = build(name, neck)
    compiled = build(
        name, neck, compile_regions=dict(backend='eager', fullgraph=True))
    assert all(m._compiled_call_impl is not None for m in compiled.regions())
    assert list(compiled.state_dict()) == list(eager.state_dict())
    # the later steps (new masks and probabilities) reuse the graphs
    torch.testing.assert_close(
        _train(compiled, 6, first_strict=3), _train(eager, 6))
    for (n, p_e), p_c in zip(eager.named_parameters(), compiled.parameters()):
        torch.testing.assert_close(p_c, p_e, msg=n)
    eager.eval(), compiled.eval()
    with torch.no_grad():
        for got, want in zip(
                compiled.test_step(batch(9)), eager.test_step(batch(9))):
            torch.testing.assert_close(got.pred_frames, want.pred_frames)
    torch._dynamo.reset()


@slow
@pytest.mark.parametrize('name', ['predrnn', 'e3dlstm'])
def test_compile_regions_with_inductor_match_eager(name):
    torch._dynamo.reset()
    eager = build(name, True)
    compiled = build(name, True, compile_regions=True)
    torch.testing.assert_close(
        _train(compiled, 3), _train(eager, 3), rtol=1e-4, atol=1e-6)
    for (n, p_e), p_c in zip(eager.named_parameters(), compiled.parameters()):
        torch.testing.assert_close(p_c, p_e, rtol=1e-3, atol=1e-5, msg=n)
    torch._dynamo.reset()
