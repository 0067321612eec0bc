# Copyright (c) mmvp contributors. All rights reserved.
"""Every route that reads a checkpoint is weights-only, whatever the route
or the environment says, and fails with a message naming the file.

Routes: a checkpoint served over ``http://`` (a server on 127.0.0.1 run by
the test), a local path containing ``://``, a plain path; each through
:func:`safe_load`, MMEngine's public loaders (``load_checkpoint``,
``CheckpointLoader``), the Runner's ``load_checkpoint`` (``load_from`` and
``resume``) and the command lines. Also: importing mmvp leaves torch's
allow-list alone, empty and truncated files say so, model-zoo schemes are
refused, and the one checkpoint-fit check names the checkpoint and the
config."""
import functools
import http.server
import os
import os.path as osp
import subprocess
import sys
import threading
import uuid

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader, load_checkpoint

from mmvp.utils import (CheckpointMismatchError, UnsafeCheckpointError,
                        check_checkpoint_compatibility,
                        checkpoint_safe_globals, register_all_modules,
                        safe_load)

register_all_modules()

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tests', 'test_tools'))
from tools_helpers import load_tool  # noqa: E402
from tools_helpers import save_model_checkpoint  # noqa: E402
from tools_helpers import write_tiny_config  # noqa: E402
from tools_helpers import tool_env, unique_name  # noqa: E402

FORCE_ENV = 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'


class _CallsSystem:
    """Pickles as ``os.system('touch <marker>')``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}', )


def _write_evil(path, marker):
    torch.save({'state_dict': {}, 'meta': _CallsSystem(marker)}, str(path))
    return path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):

    def log_message(self, *args):
        pass


@pytest.fixture(scope='module')
def server(tmp_path_factory):
    """``(folder, base URL)``: files in the folder are served over HTTP on
    127.0.0.1 by a thread that the fixture stops."""
    root = tmp_path_factory.mktemp('served')
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs=dict(poll_interval=0.1))
    thread.start()
    try:
        yield root, f'http://127.0.0.1:{httpd.server_address[1]}'
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    """The local server is reached directly, never through a proxy."""
    for name in ('http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY',
                 'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('no_proxy', '127.0.0.1,localhost')
    monkeypatch.setenv('NO_PROXY', '127.0.0.1,localhost')


@pytest.fixture(scope='module')
def tiny_cfg(tmp_path_factory):
    return write_tiny_config(tmp_path_factory.mktemp('routes_cfg'))


@pytest.fixture(scope='module')
def runner(tmp_path_factory, tiny_cfg):
    from mmengine.config import Config
    from mmengine.registry import RUNNERS
    cfg = Config.fromfile(tiny_cfg)
    cfg.work_dir = str(tmp_path_factory.mktemp('routes_runner') / 'work')
    cfg.experiment_name = unique_name('routes')
    return RUNNERS.build(cfg)


def _served_evil(server):
    root, base = server
    tag = uuid.uuid4().hex[:8]
    marker = root.parent / f'ran_{tag}'
    _write_evil(root / f'evil_{tag}.pth', marker)
    return f'{base}/evil_{tag}.pth', marker


# ---------------------------------------------------------------------------
# 1. URLs
def test_url_with_code_is_refused_on_every_loader(server, runner):
    url, marker = _served_evil(server)
    loaders = [
        lambda: safe_load(url),
        lambda: CheckpointLoader.load_checkpoint(url, map_location='cpu'),
        lambda: load_checkpoint(torch.nn.Linear(1, 1), url),
        lambda: runner.load_checkpoint(url),  # load_from
        lambda: runner.resume(url),  # resume
    ]
    for load in loaders:
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        msg = str(info.value)
        assert f'Refused to load checkpoint "{url}"' in msg, msg
        assert 'posix.system' in msg or 'os.system' in msg, msg
    assert not marker.exists()


@pytest.mark.parametrize('tool', ['test.py', 'train.py'])
def test_url_with_code_is_refused_by_the_tools(server, tiny_cfg, tmp_path,
                                               monkeypatch, tool):
    url, marker = _served_evil(server)
    if tool == 'test.py':
        args = [tiny_cfg, url]
    else:
        args = [tiny_cfg, '--resume', url]
    args += [
        '--work-dir',
        str(tmp_path / 'w'), '--cfg-options',
        f'experiment_name={unique_name("url")}'
    ]
    module = load_tool(f'tools/{tool}', f'routes_{tool[:-3]}')
    monkeypatch.setattr(sys, 'argv', [tool] + args)
    with pytest.raises(UnsafeCheckpointError, match=url):
        module.main()
    assert not marker.exists()


def test_benign_checkpoint_over_http_loads(server, runner, tiny_cfg):
    root, base = server
    local = save_model_checkpoint(
        tiny_cfg, root / 'good.pth', meta=dict(best=np.float64(0.5)))
    url = f'{base}/good.pth'
    expected = safe_load(local)['state_dict']

    fetched = safe_load(url)
    assert fetched['meta']['best'] == 0.5
    assert fetched['state_dict'].keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(fetched['state_dict'][key], value), key

    # the route of tools/test.py and load_from: the weights reach the model
    for param in runner.model.parameters():
        torch.nn.init.zeros_(param)
    runner.load_checkpoint(url)
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, expected[key]), key


def test_unreachable_url_names_it(server):
    url = f'{server[1]}/no_such_{uuid.uuid4().hex[:6]}.pth'
    with pytest.raises(OSError) as info:
        safe_load(url)
    assert str(info.value).startswith(f'Could not fetch checkpoint "{url}"')
    assert '404' in str(info.value)


@pytest.mark.parametrize('uri',
                         ['open-mmlab://resnet50', 'torchvision://resnet18'])
def test_model_zoo_schemes_are_refused(uri):
    for load in (lambda: safe_load(uri),
                 lambda: load_checkpoint(torch.nn.Linear(1, 1), uri)):
        with pytest.raises(ValueError) as info:
            load()
        assert str(info.value).startswith(f'Checkpoint "{uri}": mmvp does '
                                          'not load')


# ---------------------------------------------------------------------------
# 2. TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD and local paths containing '://'
@pytest.mark.parametrize('route', ['plain', 'scheme_in_path', 'url'])
def test_environment_cannot_turn_weights_only_off(tmp_path, server, runner,
                                                  monkeypatch, route):
    monkeypatch.setenv(FORCE_ENV, '1')
    if route == 'url':
        name, marker = _served_evil(server)
    else:
        # pathlib would collapse '//': the path is written as a string
        folder = f'{tmp_path}/x://y' if route == 'scheme_in_path' \
            else str(tmp_path)
        os.makedirs(folder, exist_ok=True)
        marker = tmp_path / 'ran'
        name = _write_evil(f'{folder}/evil.pth', marker)
    loaders = [
        lambda: safe_load(name),
        lambda: check_checkpoint_compatibility(torch.nn.Linear(1, 1), name),
        lambda: load_checkpoint(torch.nn.Linear(1, 1), name),
        lambda: runner.load_checkpoint(name),
    ]
    for load in loaders:
        with pytest.raises(UnsafeCheckpointError) as info:
            load()
        msg = str(info.value)
        assert f'"{name}"' in msg, msg
        assert f'{FORCE_ENV} is set in the environment; mmvp does not ' \
            'honour it' in msg
    assert not marker.exists()


def test_local_path_with_scheme_loads_locally(tmp_path):
    folder = tmp_path / 'http:' / 'host'
    folder.mkdir(parents=True)
    path = folder / 'ok.pth'
    torch.save({'w': torch.arange(3)}, str(path))
    name = str(tmp_path / 'http://host' / 'ok.pth')
    assert osp.isfile(name)
    assert safe_load(name)['w'].tolist() == [0, 1, 2]
    assert CheckpointLoader.load_checkpoint(name)['w'].tolist() == [0, 1, 2]


# ---------------------------------------------------------------------------
# 3. torch's process-wide allow-list
def test_import_does_not_change_torch_allow_list(tmp_path):
    """Only torch's own modules may add entries (torch registers its
    DTensor and dynamo classes when those are first imported)."""
    path = tmp_path / 'hub.pth'
    buf = HistoryBuffer()
    buf.update(1.0)
    torch.save({'hub': buf, 'n': np.int64(3)}, str(path))
    code = '''\
import sys, torch
from torch.serialization import get_safe_globals

def foreign(entries):
    objs = [e[0] if isinstance(e, tuple) else e for e in entries]
    return [o for o in objs
            if not getattr(o, '__module__', '').startswith('torch')]

before = foreign(get_safe_globals())
import mmvp
from mmvp.utils import register_all_modules, safe_load
register_all_modules()
assert foreign(get_safe_globals()) == before, get_safe_globals()
ckpt = safe_load(sys.argv[1])
assert ckpt['hub'].current() == 1.0 and ckpt['n'] == 3
assert foreign(get_safe_globals()) == before, get_safe_globals()
try:
    torch.load(sys.argv[1], weights_only=True)
except Exception as err:
    assert 'HistoryBuffer' in str(err), err
else:
    raise AssertionError('torch.load accepted HistoryBuffer')
print('unchanged', len(before))
'''
    proc = subprocess.run([sys.executable, '-c', code,
                           str(path)],
                          env=tool_env(),
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith('unchanged 0')


def test_scope_restores_the_allow_list():

    def allowed():
        return set(torch.serialization.get_safe_globals())

    original = allowed()
    torch.serialization.add_safe_globals([HistoryBuffer])
    try:
        before = allowed()
        with checkpoint_safe_globals():
            inside = allowed()
        assert inside > before and np.ndarray in inside
        # what was allow-listed before the scope stays allow-listed
        assert allowed() == before and HistoryBuffer in before
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(list(original))
    assert allowed() == original


# ---------------------------------------------------------------------------
# 4. empty and truncated files
def _good_bytes(tmp_path, legacy=False):
    path = tmp_path / 'good.pth'
    torch.save({'state_dict': {
        'w': torch.zeros(1000)
    }},
               str(path),
               _use_new_zipfile_serialization=not legacy)
    return path.read_bytes()


def test_empty_file_says_so(tmp_path, runner):
    path = tmp_path / 'empty.pth'
    path.write_bytes(b'')
    expected = f'{path}: empty or truncated checkpoint file (0 bytes)'
    for load in (lambda: safe_load(path),
                 lambda: runner.load_checkpoint(str(path)),
                 lambda: load_checkpoint(torch.nn.Linear(1, 1), str(path))):
        with pytest.raises(RuntimeError) as info:
            load()
        assert str(info.value).startswith(expected), str(info.value)


@pytest.mark.parametrize('legacy', [False, True], ids=['zip', 'legacy'])
@pytest.mark.parametrize('keep', [0.02, 0.5, 0.99])
def test_truncated_file_says_so(tmp_path, legacy, keep):
    data = _good_bytes(tmp_path, legacy)
    cut = data[:max(1, int(len(data) * keep))]
    path = tmp_path / 'cut.pth'
    path.write_bytes(cut)
    with pytest.raises(RuntimeError) as info:
        safe_load(path)
    assert str(info.value).startswith(
        f'{path}: empty or truncated checkpoint file ({len(cut)} bytes)')


def test_empty_and_truncated_files_over_http(server):
    root, base = server
    (root / 'empty.pth').write_bytes(b'')
    (root / 'cut.pth').write_bytes(_good_bytes(root)[:500])
    for name, size in (('empty.pth', 0), ('cut.pth', 500)):
        with pytest.raises(RuntimeError) as info:
            safe_load(f'{base}/{name}')
        assert str(info.value).startswith(
            f'{base}/{name}: empty or truncated checkpoint file '
            f'({size} bytes)')


# ---------------------------------------------------------------------------
# 6. the one checkpoint-fit check
def test_runner_refuses_checkpoint_of_another_config(tmp_path, runner,
                                                     tiny_cfg):
    wide = save_model_checkpoint(
        write_tiny_config(tmp_path, 'wide.py', hidden=16),
        tmp_path / 'wide.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        runner.load_checkpoint(str(wide))
    msg = str(info.value)
    assert msg.startswith(f'Checkpoint "{wide}" does not fit the model '
                          f'built from config "{tiny_cfg}"'), msg
    assert 'expected shape (' in msg and 'found (' in msg


def test_inferencer_names_checkpoint_and_config(tmp_path, tiny_cfg):
    from mmvp.apis import VideoPredInferencer
    wide = save_model_checkpoint(
        write_tiny_config(tmp_path, 'wide.py', hidden=16),
        tmp_path / 'wide.pth')
    with pytest.raises(CheckpointMismatchError) as info:
        VideoPredInferencer(tiny_cfg, weights=str(wide), device='cpu')
    assert str(info.value).startswith(
        f'Checkpoint "{wide}" does not fit the model built from config '
        f'"{tiny_cfg}"')
