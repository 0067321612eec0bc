# Copyright (c) mmvp contributors. All rights reserved.
import pytest
import torch

from mmvp.models.data_preprocessors import VideoPredDataPreprocessor
from mmvp.utils import HostSync, HostSyncRecorder


def recorded(fn):
    """``(operator, kind)`` of each recorded event, ``aten.`` and the
    overload left out."""
    with HostSyncRecorder() as syncs:
        fn()
    return [(e.op.split('.')[1] if e.op.startswith('aten.') else e.op, e.kind)
            for e in syncs.events]


@pytest.mark.parametrize(
    'fn, ops, kind', [
        (lambda: torch.ones(3).sum().item(), ['_local_scalar_dense'
                                              ], 'scalar read'),
        (lambda: bool(torch.ones(3)[0] > 0), ['_local_scalar_dense'
                                              ], 'scalar read'),
        (lambda: float(torch.ones(3)[0]), ['_local_scalar_dense'
                                           ], 'scalar read'),
        (lambda: 1 if torch.ones(
            ()) else 0, ['_local_scalar_dense'], 'scalar read'),
        (lambda: torch.equal(torch.ones(2), torch.ones(2)), ['equal'
                                                             ], 'scalar read'),
        (lambda: torch.allclose(torch.ones(2), torch.ones(2)), ['allclose'],
         'scalar read'),
        (lambda: torch.ones(3).tolist(), ['Tensor.tolist'], 'host read'),
        (lambda: torch.ones(3).numpy(), ['Tensor.numpy'], 'host read'),
        (lambda: torch.ones(3).nonzero(), ['nonzero'
                                           ], 'value-dependent shape'),
        (lambda: torch.where(torch.ones(3) > 0), ['nonzero'
                                                  ], 'value-dependent shape'),
        (lambda: torch.ones(3).masked_select(torch.ones(3) > 0),
         ['masked_select'], 'value-dependent shape'),
        (lambda: torch.ones(3).unique(), ['_unique2'
                                          ], 'value-dependent shape'),
        (lambda: torch.arange(3).repeat_interleave(torch.tensor([1, 2, 0])),
         ['repeat_interleave'], 'value-dependent shape'),
        (lambda: torch.ones(3)[torch.ones(3) > 0], ['index'
                                                    ], 'boolean mask index'),
    ],
    ids=lambda v: v if isinstance(v, str) else None)
def test_each_kind_of_read_is_recorded(fn, ops, kind):
    assert recorded(fn) == [(op, kind) for op in ops]


def test_device_work_without_reads_is_not_recorded():

    def step():
        x = torch.randn(4, 3, 8, 8, requires_grad=True)
        conv = torch.nn.Conv2d(3, 2, 3)
        y = torch.where(x > 0, x, 0.5 * x)  # elementwise, no read
        loss = conv(y).square().mean()
        loss.backward()
        mask = (torch.rand(4) < 0.5).float()
        torch.lerp(x, x.flip(0), mask.view(4, 1, 1, 1))
        x.detach().cpu()  # already in host memory: no copy
        torch.arange(3).repeat_interleave(2)  # size known from the int
        torch.arange(3).repeat_interleave(
            torch.tensor([1, 2, 0]), output_size=3)

    assert recorded(step) == []


def test_stack_names_the_line_that_reads():
    x = torch.ones(3)
    with HostSyncRecorder() as syncs:
        value = x.sum().item()  # the read
    assert value == 3
    (event, ) = syncs.events
    assert isinstance(event, HostSync)
    assert event.location().endswith('test_stack_names_the_line_that_reads')
    assert 'test_host_sync_recorder.py' in event.location()
    assert event.stack[-1].line.endswith('# the read')
    report = syncs.report()
    assert report.startswith('1 host synchronisation(s):')
    assert 'value = x.sum().item()' in report
    # nothing is recorded once the recorder is left
    x.sum().item()
    assert len(syncs.events) == 1


def test_recorder_is_not_reentrant():
    syncs = HostSyncRecorder()
    with syncs:
        with pytest.raises(RuntimeError, match='already recording'):
            syncs.__enter__()
    assert HostSyncRecorder().report() == 'no host synchronisation recorded'


def test_copies_between_host_and_device():
    # 'meta' stands for an accelerator
    device = torch.empty(3, device='meta')
    host = torch.zeros(3)
    with HostSyncRecorder() as syncs:
        with pytest.raises(NotImplementedError):
            device.cpu()
        with pytest.raises(NotImplementedError):
            host.copy_(device)
        host.to('meta', non_blocking=True)
        host.to('meta')
        device.to(torch.float64)  # stays on the device
        torch.tensor([0.5, 2.0], device='meta')  # from Python data
        torch.as_tensor(device, device='meta')  # already there
        torch.full((2, ), 0.5, device='meta')  # filled on the device
    assert [(e.op.split('.')[1], e.kind) for e in syncs.events] == [
        ('_to_copy', 'device-to-host copy'),
        ('copy_', 'device-to-host copy'),
        ('_to_copy', 'blocking host-to-device copy'),
        ('tensor', 'blocking host-to-device copy'),
    ]


@pytest.mark.parametrize('non_blocking, expected', [(None, 0), (True, 0),
                                                    (False, 2)])
def test_data_preprocessor_copies_clips_without_blocking(
        non_blocking, expected):
    kwargs = {} if non_blocking is None else dict(non_blocking=non_blocking)
    preprocessor = VideoPredDataPreprocessor(patch_size=2, **kwargs)
    preprocessor._device = torch.device('meta')
    data = dict(
        inputs=[torch.zeros(4, 1, 8, 8, dtype=torch.uint8) for _ in range(2)])
    with HostSyncRecorder() as syncs:
        out = preprocessor(data, True)
    assert out['inputs'].device.type == 'meta'
    assert out['inputs'].shape == (2, 4, 4, 4, 4)
    assert len(syncs.events) == expected, syncs.report()
    assert all(e.kind == 'blocking host-to-device copy' for e in syncs.events)
