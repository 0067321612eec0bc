# Copyright (c) mmvp contributors. All rights reserved.
"""No training or test step makes the host wait for the device.

Every backbone, with and without MotionRNN, runs ``train_step`` with the
configs' optimizer wrapper (``NonFiniteSkipOptimWrapper`` with fused Adam,
and its AMP flavour) at iterations across the scheduled-sampling ramps,
and ``test_step``, under :class:`~mmvp.utils.HostSyncRecorder`; none may
read a tensor value on the host (docs/en/advanced_guides/customize_models.md).
On the ``meta`` device, which stands for an accelerator, the rollout, the
loss and its backward pass make no copy between host and device either.

Scope: the recorder wraps ``train_step`` only. ``train_step`` returns its
log variables as tensors; MMEngine reads them once per iteration after
the step (``RuntimeInfoHook`` into the ``MessageHub``), and
``NonFiniteLossHook`` reads the non-finite flags there too, in one
transfer. The first update is left out: it creates the optimizer state,
and the wrapper then asks the host whether to take it. A short run with
the runtime's hooks checks that scope: its reads all come after the steps
but that one.

On the CPU the wrapper reads its non-finite flag on the host (nothing runs
ahead there); the tests set ``_host_check = False``, the accelerator path.
"""
import bisect
import copy
import os.path as osp
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.optim import build_optim_wrapper

from mmvp.engine import NonFiniteSkipMixin, SafeCheckpointRunner
from mmvp.models.predictors.sampling import sampling_mask
from mmvp.registry import MODELS
from mmvp.structures import VideoPredDataSample
from mmvp.utils import HostSyncRecorder, register_all_modules

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs')
MODEL_CONFIGS = [
    'convlstm_4x64_p4', 'motionrnn_convlstm_4x64_p4', 'predrnn_4x64_p4',
    'motionrnn_predrnn_4x64_p4', 'predrnnpp_4x64_p4',
    'motionrnn_predrnnpp_4x64_p4', 'predrnnv2_4x64_p4',
    'motionrnn_predrnnv2_4x64_p4', 'mim_4x64_p4', 'motionrnn_mim_4x64_p4',
    'e3dlstm_4x64_p4', 'e3dlstm_motionrnn_4x64_p4'
]
# 1-based iterations spanning both ramps: linear (1.0 at the start, 0.5 at
# 25k, 0 from 50k) and reverse (0.5/0.5 before 25k, ramps, 1/0 from 50k)
RAMP = [1, 25000, 37500, 49999, 50000, 60000]
IN_FRAMES, OUT_FRAMES, SIZE = 2, 2, 8


@pytest.fixture(autouse=True)
def registered():
    register_all_modules()
    hub = MessageHub.get_current_instance()
    itr = hub.get_info('iter', 0)
    yield
    hub.update_info('iter', itr)


def tiny_model(name, **overrides):
    """The config's model at 2 layers x 4 channels, patch 2, 8x8 frames."""
    torch.manual_seed(0)
    return MODELS.build(tiny_model_cfg(name, **overrides))


def tiny_model_cfg(name, **overrides):
    cfg = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'models', f'{name}.py')).model
    cfg.backbone.update(num_layers=2, hidden_channels=4, kernel_size=3)
    if cfg.backbone.type == 'MIM':
        cfg.backbone.input_size = (SIZE // 2, SIZE // 2)
    if cfg.get('neck'):
        cfg.neck.kernel_size = 3
    cfg.data_preprocessor.patch_size = 2
    cfg.update(in_frames=IN_FRAMES, out_frames=OUT_FRAMES, **overrides)
    return cfg


def schedule_optim_wrapper_cfg():
    return copy.deepcopy(
        Config.fromfile(
            osp.join(CONFIG_DIR, '_base_', 'schedules',
                     'adam_lr3e4_100k.py')).optim_wrapper)


def config_optim_wrapper(model, amp=False):
    """The schedule's optimizer wrapper, on the path it takes on an
    accelerator: the non-finite flag stays on the device."""
    cfg = schedule_optim_wrapper_cfg()
    assert cfg.type == 'NonFiniteSkipOptimWrapper'
    assert cfg.optimizer.get('fused')
    if amp:  # what tools/train.py --amp selects
        cfg.type = 'NonFiniteSkipAmpOptimWrapper'
    wrapper = build_optim_wrapper(model, cfg)
    assert isinstance(wrapper, NonFiniteSkipMixin)
    wrapper._host_check = False
    return wrapper


def batch(seed=0):
    gen = torch.Generator().manual_seed(seed)
    return dict(inputs=[
        torch.randint(
            0,
            256, (IN_FRAMES + OUT_FRAMES, 1, SIZE, SIZE),
            dtype=torch.uint8,
            generator=gen) for _ in range(2)
    ])


def set_iter(itr):
    """MMEngine's 0-based ``runner.iter`` of the 1-based iteration."""
    MessageHub.get_current_instance().update_info('iter', itr - 1)


def assert_no_sync_in_training(model, wrapper, iterations=RAMP):
    set_iter(iterations[0])
    model.train_step(batch(), wrapper)  # creates the optimizer state
    before = [p.detach().clone() for p in model.parameters()]
    for i, itr in enumerate(iterations):
        set_iter(itr)
        with HostSyncRecorder() as syncs:
            log_vars = model.train_step(batch(i + 1), wrapper)
        assert not syncs.events, f'iteration {itr}: {syncs.report()}'
        # read at logging time, after the step
        assert all(isinstance(v, torch.Tensor) for v in log_vars.values())
        assert torch.isfinite(log_vars['loss'])
    assert not wrapper.pop_nonfinite_events()
    # the updates were applied
    assert all(not torch.equal(a, p)
               for a, p in zip(before, model.parameters()))


def assert_no_sync_in_rollout(model, **metainfo):
    model.eval()
    data = batch(7)
    if metainfo:
        data['data_samples'] = [
            VideoPredDataSample(metainfo=metainfo) for _ in data['inputs']
        ]
    with HostSyncRecorder() as syncs:
        samples = model.test_step(data)
    assert not syncs.events, syncs.report()
    num_future = metainfo.get('num_future', OUT_FRAMES)
    assert samples[0].pred_frames.shape == (num_future, 1, SIZE, SIZE)


@pytest.mark.parametrize('name', MODEL_CONFIGS)
def test_config_models_train_and_test_without_host_sync(name):
    model = tiny_model(name)
    assert_no_sync_in_training(model, config_optim_wrapper(model))
    assert_no_sync_in_rollout(model)


@pytest.mark.parametrize(
    'name', ['motionrnn_predrnn_4x64_p4', 'motionrnn_predrnnv2_4x64_p4'])
def test_amp_optim_wrapper_without_host_sync(name):
    model = tiny_model(name)
    assert_no_sync_in_training(
        model, config_optim_wrapper(model, amp=True), iterations=RAMP[:3])


@pytest.mark.parametrize(
    'overrides',
    [
        dict(reverse_input=True),
        dict(sampling=None),
        dict(init_state='xavier_normal'),
        dict(loss=dict(type='L1L2Loss')),
        dict(channels_last=False),
        # highway only, and MotionGRU without trend or transient
        dict(neck=dict(type='MotionRNNNeck', use_motion_gru=False)),
        dict(
            neck=dict(
                type='MotionRNNNeck',
                kernel_size=3,
                use_trend=False,
                use_transient=False)),
    ],
    ids=lambda o: '-'.join(f'{k}={v}' for k, v in o.items())[:40])
def test_predictor_options_without_host_sync(overrides):
    model = tiny_model('motionrnn_predrnn_4x64_p4', **overrides)
    assert_no_sync_in_training(
        model, config_optim_wrapper(model), iterations=RAMP[:3])
    assert_no_sync_in_rollout(model)


@pytest.mark.parametrize('name', MODEL_CONFIGS)
def test_no_copy_between_host_and_device(name):
    """Copies to host memory and blocking copies to the device are only
    visible with tensors on a device: the ``meta`` device stands for one
    (no values, so no random generator and no optimizer step: the masks
    are drawn with the global generator and the loss is only
    back-propagated)."""
    model = tiny_model(name).to('meta')
    assert model.data_preprocessor.device.type == 'meta'
    with HostSyncRecorder() as syncs:
        inputs = model.data_preprocessor(batch(), True)['inputs']
        for itr in RAMP[::2]:
            mask, _ = sampling_mask(inputs.shape[0], IN_FRAMES,
                                    IN_FRAMES + OUT_FRAMES,
                                    model.sampling_mode, itr, inputs.device,
                                    **model.sampling_schedule)
            outputs = model.rollout(inputs, IN_FRAMES + OUT_FRAMES, mask)
            losses = dict(loss=model.loss_module(outputs, inputs[:, 1:]))
            losses.update(model.backbone.aux_losses(model._last_state))
            loss, log_vars = model.parse_losses(losses)
            loss.backward()
        model.eval()
        samples = model.predict(inputs)
    assert not syncs.events, syncs.report()
    assert outputs.device.type == 'meta'
    assert samples[0].pred_frames.shape == (OUT_FRAMES, 1, SIZE, SIZE)
    assert all(p.grad is not None for p in model.parameters())


def test_longer_rollout_asked_by_the_samples_without_host_sync():
    model = tiny_model('motionrnn_predrnn_4x64_p4')
    assert_no_sync_in_rollout(model, num_future=OUT_FRAMES + 3)


def test_a_value_read_in_the_step_is_found(monkeypatch):
    """The check fails, naming the line, when a step reads a value."""
    model = tiny_model('predrnn_4x64_p4')
    wrapper = config_optim_wrapper(model)
    loss_module = type(model.loss_module)
    forward = loss_module.forward

    def reads_the_loss(self, pred, target):
        loss = forward(self, pred, target)
        if loss > 1e6:  # a Python branch on a device value
            raise FloatingPointError
        return loss

    monkeypatch.setattr(loss_module, 'forward', reads_the_loss)
    with pytest.raises(AssertionError, match='reads_the_loss'):
        assert_no_sync_in_training(model, wrapper, iterations=RAMP[:1])


class _Clips(torch.utils.data.Dataset):

    def __len__(self):
        return 4

    def __getitem__(self, idx):
        return dict(inputs=batch(idx)['inputs'][0])


class _IterationStarts(Hook):
    """The number of recorded events when each iteration starts."""

    priority = 'HIGHEST'

    def __init__(self, syncs):
        self.syncs = syncs
        self.starts = []

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.starts.append(len(self.syncs.events))


def _in_train_step(event):
    return any(
        f.name == 'train_step'
        and f.filename.endswith(osp.join('predictors', 'video_predictor.py'))
        for f in event.stack)


def test_a_run_reads_device_values_only_after_each_step(tmp_path, monkeypatch):
    """With the runtime's hooks, the values are read after each step (the
    logged losses, the non-finite flags), never inside it but at the first
    update, which creates the optimizer state."""
    monkeypatch.setattr(NonFiniteSkipMixin, '_host_check', False)
    runtime = Config.fromfile(
        osp.join(CONFIG_DIR, '_base_', 'default_runtime.py'))
    hooks = copy.deepcopy(runtime.default_hooks)
    hooks.checkpoint.interval = 100
    hooks.logger.interval = 1
    runner = SafeCheckpointRunner(
        model=tiny_model_cfg('motionrnn_predrnn_4x64_p4'),
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=_Clips(),
            batch_size=2,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='pseudo_collate')),
        train_cfg=dict(by_epoch=False, max_iters=4),
        optim_wrapper=schedule_optim_wrapper_cfg(),
        default_hooks=hooks,
        log_processor=dict(by_epoch=False),
        randomness=dict(seed=0),
        default_scope='mmvp',
        experiment_name=f'host_sync_{uuid.uuid4().hex[:8]}')
    syncs = HostSyncRecorder()
    starts = _IterationStarts(syncs)
    runner.register_hook(starts)
    with syncs:
        runner.train()
    assert len(starts.starts) == 4
    iteration = [
        bisect.bisect_right(starts.starts, i)
        for i in range(len(syncs.events))
    ]
    in_step = [(itr, e) for itr, e in zip(iteration, syncs.events)
               if _in_train_step(e)]
    assert all(itr == 1 and '_guarded_step' in e.location()
               for itr, e in in_step), syncs.report()
    after_step = [
        itr for itr, e in zip(iteration, syncs.events) if not _in_train_step(e)
    ]
    # MMEngine reads the logged losses after every step
    assert set(after_step) >= {1, 2, 3, 4}
