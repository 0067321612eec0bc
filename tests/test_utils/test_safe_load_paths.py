# Copyright (c) mmvp contributors. All rights reserved.
"""Crafted pickles are refused on every path that reads a checkpoint, and
the command they carry never runs (its marker file is never created).

Payloads: ``__reduce__`` calls of ``os.system``, ``builtins.exec``,
``subprocess.Popen`` and ``numpy.savetxt`` (a global of an allow-listed
module that is not itself allow-listed), ``getattr(HistoryBuffer,
'__init__')``, ``getattr(__import__('os'), 'system')``, a chain through
``HistoryBuffer.__init__.__globals__`` to ``exec``, and a module object
fetched as an attribute of an allowed module. A control shows that every
payload does run its command under a plain ``pickle`` load.

Paths: :func:`safe_load`, ``check_checkpoint_compatibility``, the
converters' reader, :class:`VideoPredInferencer`, the Runner's
``load_checkpoint`` (``load_from`` / ``resume``, also with
``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``), MMEngine's own loaders (served by
mmvp's loader once mmvp is imported), and the command lines
``tools/train.py --resume``, ``train.py load_from=``, ``tools/test.py``,
``tools/predict.py``, ``tools/visualizations/vis_motion.py`` and both model
converters."""
import importlib.util
import os.path as osp
import struct
import subprocess
import sys
import uuid

import pytest
import torch

from mmvp.utils import (UnsafeCheckpointError, check_checkpoint_compatibility,
                        register_all_modules, safe_load)

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'test_tools'))
from tools_helpers import tool_env, write_tiny_config  # noqa: E402

HB = ('mmengine.logging.history_buffer', 'HistoryBuffer')


# ---------------------------------------------------------------------------
# payloads, written as raw pickle opcodes (protocol 2)
def _global(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def _str(text):
    data = text.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def _call(func, *args):
    return func + b'(' + b''.join(args) + b'tR'


def _getattr(obj, name):
    return _call(_global('builtins', 'getattr'), obj, _str(name))


def _list(*items):
    return b']' + b'(' + b''.join(items) + b'e'


def _touch_code(marker):
    return f'open({str(marker)!r}, "w").close()'


def _payload(kind, marker):
    """Pickle bytes of payload ``kind`` that create ``marker`` if run
    (``getattr_init`` only fetches a method it should not get)."""
    touch = _str(f'touch {marker}')
    if kind == 'os_system':
        body = _call(_global('os', 'system'), touch)
    elif kind == 'exec':
        body = _call(_global('builtins', 'exec'), _str(_touch_code(marker)))
    elif kind == 'subprocess':
        body = _call(
            _global('subprocess', 'call'),
            _list(_str('touch'), _str(str(marker))))
    elif kind == 'numpy_savetxt':
        body = _call(
            _global('numpy', 'savetxt'), _str(str(marker)), _list(b'K\x01'))
    elif kind == 'getattr_init':
        body = _getattr(_global(*HB), '__init__')
    elif kind == 'getattr_os_system':
        os_module = _call(_global('builtins', '__import__'), _str('os'))
        body = _call(_getattr(os_module, 'system'), touch)
    elif kind == 'getattr_globals_exec':
        glob = _getattr(_getattr(_global(*HB), '__init__'), '__globals__')
        builtins = _call(_getattr(glob, 'get'), _str('__builtins__'))
        exec_fn = _call(_getattr(builtins, 'get'), _str('exec'))
        body = _call(exec_fn, _str(_touch_code(marker)))
    elif kind == 'module_attribute':
        numpy = _global('mmengine.logging.history_buffer', 'np')
        body = _call(
            _getattr(numpy, 'savetxt'), _str(str(marker)), _list(b'K\x01'))
    else:
        raise ValueError(kind)
    # the payload sits inside an otherwise normal checkpoint dict
    return (b'\x80\x02}(' + _str('state_dict') + b'}' + _str('meta') + body +
            b'u.')


KINDS = ('os_system', 'exec', 'subprocess', 'numpy_savetxt', 'getattr_init',
         'getattr_os_system', 'getattr_globals_exec', 'module_attribute')
RUNS_COMMAND = [k for k in KINDS if k != 'getattr_init']


def _write_zip_checkpoint(path, pickle_bytes):
    """Wrap raw pickle bytes in torch's zip format (what torch.save
    writes), so the file goes through the weights_only unpickler."""
    import zipfile
    name = osp.splitext(osp.basename(str(path)))[0]
    with zipfile.ZipFile(str(path), 'w', zipfile.ZIP_STORED) as zf:
        zf.writestr(f'{name}/data.pkl', pickle_bytes)
        zf.writestr(f'{name}/byteorder', 'little')
        zf.writestr(f'{name}/version', '3\n')


@pytest.fixture
def evil(tmp_path):
    """``evil(kind) -> (checkpoint path, marker path)``."""

    def make(kind, legacy=False):
        marker = tmp_path / f'ran_{kind}_{uuid.uuid4().hex[:6]}'
        path = tmp_path / f'evil_{kind}.pth'
        data = _payload(kind, marker)
        if legacy:  # plain pickle file (torch's legacy format)
            path.write_bytes(data)
        else:
            _write_zip_checkpoint(path, data)
        return path, marker

    return make


def _assert_refused(err_info, path):
    msg = str(err_info.value)
    assert osp.basename(str(path)) in msg, msg


def test_payloads_are_live(tmp_path):
    """Control: a plain unpickler runs them (in a throw-away process)."""
    markers = []
    for kind in RUNS_COMMAND:
        marker = tmp_path / f'ran_{kind}'
        (tmp_path / f'{kind}.pkl').write_bytes(_payload(kind, marker))
        markers.append(marker)
    code = ('import pickle, sys\n'
            'for f in sys.argv[1:]:\n'
            '    try:\n'
            '        pickle.loads(open(f, "rb").read())\n'
            '    except Exception as e:\n'
            '        print(f, e)\n')
    subprocess.run(
        [sys.executable, '-c', code] +
        [str(tmp_path / f'{k}.pkl') for k in RUNS_COMMAND],
        env=tool_env(),
        timeout=120,
        check=True)
    assert [m.exists() for m in markers] == [True] * len(markers)


# ---------------------------------------------------------------------------
# library paths x every payload
@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('kind', KINDS)
def test_safe_load_and_compatibility_check(evil, kind, legacy):
    path, marker = evil(kind, legacy)
    with pytest.raises(UnsafeCheckpointError) as info:
        safe_load(path)
    _assert_refused(info, path)
    with pytest.raises(UnsafeCheckpointError):
        check_checkpoint_compatibility(torch.nn.Linear(1, 1), path)
    assert not marker.exists()


def test_the_refusal_names_the_blocked_object(evil):
    path, _ = evil('getattr_init')
    with pytest.raises(
            UnsafeCheckpointError, match=r"blocked getattr.*"
            r"'__init__'"):
        safe_load(path)
    path, _ = evil('numpy_savetxt')
    with pytest.raises(UnsafeCheckpointError, match='numpy.savetxt'):
        safe_load(path)


@pytest.fixture(scope='module')
def tiny_cfg(tmp_path_factory):
    return write_tiny_config(tmp_path_factory.mktemp('safe_load_cfg'))


@pytest.mark.parametrize('kind', KINDS)
def test_converters_and_inferencer(evil, kind, tiny_cfg, tmp_path):
    from mmvp.apis import VideoPredInferencer
    from mmvp.models.converters.base import load_source_state_dict
    path, marker = evil(kind)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_source_state_dict(path)
    _assert_refused(info, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        VideoPredInferencer(str(tiny_cfg), weights=str(path))
    _assert_refused(info, path)
    assert not marker.exists()


@pytest.fixture(scope='module')
def runner(tmp_path_factory):
    from mmengine.config import Config
    from mmengine.registry import RUNNERS
    root = tmp_path_factory.mktemp('safe_load_runner')
    cfg = Config.fromfile(write_tiny_config(root))
    cfg.work_dir = str(root / 'work')
    cfg.experiment_name = f'safe_load_{uuid.uuid4().hex[:8]}'
    return RUNNERS.build(cfg)


@pytest.mark.parametrize(
    'force_unsafe', [False, True],
    ids=['default', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'])
@pytest.mark.parametrize('kind', KINDS)
def test_runner_load_and_resume(evil, kind, runner, force_unsafe, monkeypatch):
    """``load_from`` and ``resume`` go through ``Runner.load_checkpoint``;
    mmvp's Runner passes ``weights_only=True`` explicitly, which the
    environment variable cannot turn off."""
    from mmvp.engine import SafeCheckpointRunner
    assert isinstance(runner, SafeCheckpointRunner)
    if force_unsafe:
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path, marker = evil(kind)
    with pytest.raises(UnsafeCheckpointError) as info:
        runner.load_checkpoint(str(path))
    _assert_refused(info, path)
    assert not marker.exists()


@pytest.mark.parametrize(
    'force_unsafe', [False, True],
    ids=['default', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'])
@pytest.mark.parametrize('kind', KINDS)
def test_mmengine_loaders(evil, kind, force_unsafe, monkeypatch):
    """MMEngine's own loaders (a plain ``Runner``, ``init_cfg``
    checkpoints) go through mmvp's loader, registered for MMEngine's
    schemes when mmvp is imported."""
    from mmengine.runner import CheckpointLoader, load_checkpoint
    if force_unsafe:
        monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    path, marker = evil(kind)
    with pytest.raises(UnsafeCheckpointError) as info:
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    _assert_refused(info, path)
    with pytest.raises(UnsafeCheckpointError) as info:
        load_checkpoint(torch.nn.Linear(1, 1), str(path))
    _assert_refused(info, path)
    assert not marker.exists()


# ---------------------------------------------------------------------------
# command lines, run in this process (one payload each, all covered)
def _tool(rel_path):
    name = 'tool_' + rel_path.replace('/', '_').replace('.py', '')
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO, 'tools', rel_path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CLI_CASES = [
    # (tool, payload, argv builder(cfg, ckpt, tmp) -> argv, via sys.argv)
    ('train.py', 'os_system', lambda c, p, t: [
        c, '--work-dir', t / 'w', '--resume', p, '--cfg-options',
        f'experiment_name=resume_{uuid.uuid4().hex[:8]}'
    ], True),
    ('train.py', 'getattr_globals_exec', lambda c, p, t: [
        c, '--work-dir', t / 'w', '--cfg-options', f'load_from={p}',
        f'experiment_name=load_{uuid.uuid4().hex[:8]}'
    ], True),
    ('test.py', 'exec', lambda c, p, t: [
        c, p, '--work-dir', t / 'w', '--cfg-options',
        f'experiment_name=test_{uuid.uuid4().hex[:8]}'
    ], True),
    ('predict.py', 'subprocess',
     lambda c, p, t: [t / 'no_video', c, p, '--out', t / 'o.mp4'], False),
    ('visualizations/vis_motion.py', 'getattr_os_system',
     lambda c, p, t: [c, p, '--out-dir', t / 'vis'], False),
    ('model_converters/motionrnn_to_mmvp.py', 'numpy_savetxt',
     lambda c, p, t: [p, t / 'out.pth', '--config', c], False),
    ('model_converters/openstl_to_mmvp.py', 'module_attribute',
     lambda c, p, t: [p, t / 'out2.pth', '--config', c], False),
    ('model_converters/openstl_to_mmvp.py', 'getattr_init',
     lambda c, p, t: [p, t / 'out3.pth', '--config', c], False),
]


@pytest.mark.parametrize(
    'tool, kind, argv, via_sys_argv',
    CLI_CASES,
    ids=[f'{c[0]}-{c[1]}' for c in CLI_CASES])
def test_command_lines(evil, tiny_cfg, tmp_path, monkeypatch, tool, kind, argv,
                       via_sys_argv):
    path, marker = evil(kind)
    args = [str(a) for a in argv(tiny_cfg, path, tmp_path)]
    module = _tool(tool)
    with pytest.raises(UnsafeCheckpointError) as info:
        if via_sys_argv:
            monkeypatch.setattr(sys, 'argv', [tool] + args)
            module.main()
        else:
            module.main(args)
    _assert_refused(info, path)
    assert not marker.exists()
    assert not (tmp_path / 'out.pth').exists()


def test_train_resume_in_a_subprocess(evil, tiny_cfg, tmp_path):
    """The real entry point, as a user runs it."""
    path, marker = evil('os_system')
    proc = subprocess.run([
        sys.executable,
        osp.join(REPO, 'tools', 'train.py'),
        str(tiny_cfg), '--work-dir',
        str(tmp_path / 'w'), '--resume',
        str(path), '--cfg-options',
        f'experiment_name=sub_{uuid.uuid4().hex[:8]}'
    ],
                          cwd=str(tmp_path),
                          env=tool_env(),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode != 0
    assert 'UnsafeCheckpointError' in proc.stderr
    assert 'evil_os_system.pth' in proc.stderr
    assert 'Iter(train)' not in proc.stdout + proc.stderr
    assert not marker.exists()
