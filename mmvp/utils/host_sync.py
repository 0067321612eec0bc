# Copyright (c) mmvp contributors. All rights reserved.
"""Find the places where a step makes the host wait for the device.

On an accelerator PyTorch queues kernels and returns at once; the host runs
ahead and queues the next ones while the device works. An operation whose
result the host needs (a value read into Python, a tensor whose size depends
on its values, a copy to host memory) stalls the host until the device has
caught up, and cannot be captured in a CUDA graph. :class:`HostSyncRecorder`
records such operations with the Python stack that made them, and works on
the CPU too, so a test can check a training step without an accelerator.
"""
import os.path as osp
import traceback
from dataclasses import dataclass
from typing import List, Optional

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

__all__ = ['HostSync', 'HostSyncRecorder']

_aten = torch.ops.aten

# Operators that read a value to the host (``.item()``, ``bool()``,
# ``float()``, ``int()``, ``if tensor:`` all dispatch to
# ``_local_scalar_dense``) or whose output size depends on tensor values.
_SYNC_OPS = {
    _aten._local_scalar_dense: 'scalar read',
    _aten.is_nonzero: 'scalar read',
    _aten.equal: 'scalar read',
    _aten.allclose: 'scalar read',
    _aten.nonzero: 'value-dependent shape',
    _aten.masked_select: 'value-dependent shape',
    _aten._unique: 'value-dependent shape',
    _aten._unique2: 'value-dependent shape',
    _aten.unique_dim: 'value-dependent shape',
    _aten.unique_consecutive: 'value-dependent shape',
    _aten.bincount: 'value-dependent shape',
}
# Indexing with a boolean (or uint8) mask runs ``nonzero`` on the mask.
_INDEX_OPS = {
    _aten.index, _aten.index_put, _aten.index_put_, _aten._index_put_impl_
}
_COPY_OPS = {_aten._to_copy, _aten.copy_}
# Tensor methods that read the values into Python or NumPy. On the CPU
# nothing is copied and the dispatcher sees nothing, so they are recorded
# whatever the device: on an accelerator the same call waits for it.
_HOST_METHODS = {'tolist', 'numpy'}

# frames of the recorder itself and of PyTorch's mode machinery
_SKIP_FILES = (osp.abspath(__file__).rstrip('c'),
               osp.join('torch', 'utils', '_python_dispatch.py'),
               osp.join('torch', 'overrides.py'))
# innermost frames that only wrap the dispatch into the recorder
_WRAPPER_FILES = (osp.join('torch', '_compile.py'),
                  osp.join('torch', 'utils', '_stats.py'))
_WRAPPER_DIRS = (f'{osp.sep}torch{osp.sep}_dynamo{osp.sep}', )


@dataclass
class HostSync:
    """One operation that makes the host wait for the device.

    Attributes:
        op (str): The operator or tensor method, e.g.
            ``'aten._local_scalar_dense.default'`` or ``'Tensor.tolist'``.
        kind (str): ``'scalar read'``, ``'host read'`` (``tolist``,
            ``numpy``), ``'value-dependent shape'``, ``'boolean mask
            index'``, ``'device-to-host copy'`` or ``'blocking
            host-to-device copy'``.
        stack (traceback.StackSummary): Where it happened, outermost first.
    """
    op: str
    kind: str
    stack: traceback.StackSummary

    def location(self) -> str:
        """The innermost frame outside PyTorch (else the innermost one)."""
        frames = [f for f in self.stack if not _is_torch_file(f.filename)]
        frame = (frames or list(self.stack) or [None])[-1]
        if frame is None:
            return '<unknown>'
        return f'{frame.filename}:{frame.lineno} in {frame.name}'

    def __str__(self) -> str:
        return f'{self.op} ({self.kind}) at {self.location()}'


def _is_torch_file(filename: str) -> bool:
    return f'{osp.sep}torch{osp.sep}' in filename


def _is_device(tensor) -> bool:
    # 'meta' counts as a device: it stands for one in tests without one
    return isinstance(tensor, torch.Tensor) and tensor.device.type != 'cpu'


def _copy_sync_kind(func, args, kwargs) -> Optional[str]:
    """How a ``_to_copy`` / ``copy_`` waits for the device, if it does: a
    copy to host memory, or a blocking copy to the device."""
    if func is _aten.copy_.default:
        dst, src = args[0], args[1]
        non_blocking = kwargs.get('non_blocking',
                                  args[2] if len(args) > 2 else False)
        dst_dev, src_dev = _is_device(dst), _is_device(src)
    else:
        src = args[0]
        device = kwargs.get('device')
        if device is None:
            return None
        non_blocking = kwargs.get('non_blocking', False)
        src_dev = _is_device(src)
        dst_dev = torch.device(device).type != 'cpu'
    if src_dev and not dst_dev:
        return 'device-to-host copy'
    if dst_dev and not src_dev and not non_blocking:
        return 'blocking host-to-device copy'
    return None


class _DispatchRecorder(TorchDispatchMode):

    def __init__(self, owner: 'HostSyncRecorder'):
        super().__init__()
        self.owner = owner

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        packet = func.overloadpacket
        kind = _SYNC_OPS.get(packet)
        if func is _aten.repeat_interleave.Tensor and \
                kwargs.get('output_size') is None:
            # repeats given as a tensor: the output size is their sum
            kind = 'value-dependent shape'
        if kind is None and packet in _INDEX_OPS:
            indices = args[1] if len(args) > 1 else kwargs.get('indices', ())
            if any(
                    isinstance(i, torch.Tensor) and i.dtype in (torch.bool,
                                                                torch.uint8)
                    for i in indices or ()):
                kind = 'boolean mask index'
        if kind is None and packet in _COPY_OPS and \
                not self.owner._in_method:
            kind = _copy_sync_kind(func, args, kwargs)
        if kind is not None:
            self.owner._record(str(func), kind)
        return func(*args, **kwargs)


# Tensors made from Python data: on a device, a blocking copy.
_FROM_DATA = {torch.tensor, torch.as_tensor, torch.asarray}


def _data_to_device(args, kwargs) -> bool:
    """Whether ``torch.tensor(data, device=...)`` copies host data to a
    device."""
    device = kwargs.get('device')
    data = args[0] if args else kwargs.get('data', kwargs.get('obj'))
    if device is None or isinstance(data, torch.Tensor):
        return False
    return torch.device(device).type != 'cpu'


class _FunctionRecorder(TorchFunctionMode):

    def __init__(self, owner: 'HostSyncRecorder'):
        super().__init__()
        self.owner = owner

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, '__name__', '')
        if self.owner._in_method:
            return func(*args, **kwargs)
        if name in _HOST_METHODS:
            self.owner._record(f'Tensor.{name}', 'host read')
        elif func in _FROM_DATA and _data_to_device(args, kwargs):
            self.owner._record(f'torch.{name}', 'blocking host-to-device copy')
        else:
            return func(*args, **kwargs)
        self.owner._in_method = True
        try:
            return func(*args, **kwargs)
        finally:
            self.owner._in_method = False


class HostSyncRecorder:
    """A context manager that records the operations making the host wait
    for the device, with the Python stack of each.

    It records, on any device:

    * scalar reads: ``.item()``, ``bool(t)``, ``float(t)``, ``int(t)``, a
      Python ``if``/``while`` on a tensor, ``torch.equal``,
      ``torch.allclose``;
    * operators whose output size depends on the values: ``nonzero``,
      ``torch.where(cond)``, ``masked_select``, ``unique``, ``bincount``,
      ``repeat_interleave`` with tensor repeats and no ``output_size``, and
      indexing with a boolean mask;
    * reads into Python or NumPy: ``.tolist()`` and ``.numpy()``, recorded
      even for CPU tensors (on an accelerator the same line waits for it).

    With tensors on an accelerator it also records the copies to host
    memory (``.cpu()``, ``.to('cpu')``, ``cpu_tensor.copy_(t)``) and the
    blocking copies to the device (``non_blocking=False``, and
    ``torch.tensor(data, device=...)``); on the CPU these are no copies and
    are not recorded. The ``meta`` device counts as
    an accelerator here, so a test without one can check where a module
    copies its tensors.

    It does not see reads that bypass PyTorch's dispatcher (``print`` of a
    tensor, ``torch.cuda.synchronize()``); on a GPU
    ``torch.cuda.set_sync_debug_mode('warn')`` complements it.

    Example:
        >>> with HostSyncRecorder() as syncs:
        ...     model.train_step(data, optim_wrapper)
        >>> assert not syncs.events, syncs.report()

    Args:
        max_frames (int): Frames kept per stack (innermost). Defaults to 30.
    """

    def __init__(self, max_frames: int = 30):
        self.max_frames = max_frames
        self.events: List[HostSync] = []
        self._in_method = False
        self._modes: Optional[tuple] = None

    def _record(self, op: str, kind: str) -> None:
        stack = traceback.extract_stack()
        frames = [
            f for f in stack
            if not any(f.filename.endswith(s) for s in _SKIP_FILES)
        ]
        while frames and (any(frames[-1].filename.endswith(s)
                              for s in _WRAPPER_FILES)
                          or any(d in frames[-1].filename
                                 for d in _WRAPPER_DIRS)):
            frames.pop()
        self.events.append(
            HostSync(
                op, kind,
                traceback.StackSummary.from_list(frames[-self.max_frames:])))

    def __enter__(self) -> 'HostSyncRecorder':
        if self._modes is not None:
            raise RuntimeError('HostSyncRecorder is already recording')
        self._modes = (_FunctionRecorder(self), _DispatchRecorder(self))
        for mode in self._modes:
            mode.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        modes, self._modes = self._modes, None
        for mode in reversed(modes):
            mode.__exit__(*exc)

    def report(self, frames: int = 6) -> str:
        """The recorded operations, each with its innermost ``frames``
        stack frames outside PyTorch (and the PyTorch line that reads)."""
        if not self.events:
            return 'no host synchronisation recorded'
        lines = [f'{len(self.events)} host synchronisation(s):']
        for i, event in enumerate(self.events):
            lines.append(f'[{i}] {event}')
            stack = list(event.stack)
            shown = [f for f in stack if not _is_torch_file(f.filename)]
            shown = shown[-frames:]
            if stack and _is_torch_file(stack[-1].filename):
                shown.append(stack[-1])  # the PyTorch line that reads
            for line in traceback.format_list(shown):
                lines.append('    ' + line.rstrip().replace('\n', '\n    '))
        return '\n'.join(lines)
