# Copyright (c) mmvp contributors. All rights reserved.
"""The MNIST download tool, without network (file:// URLs and fakes)."""
import hashlib
import importlib.util
import os
import os.path as osp
import urllib.error

import pytest

TOOL = osp.join(
    osp.dirname(__file__), '..', '..', 'tools', 'dataset_converters',
    'download_mnist.py')


@pytest.fixture(scope='module')
def tool():
    spec = importlib.util.spec_from_file_location('download_mnist', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def mirror(tmp_path):
    """A local 'mirror' folder with two small files, as file:// URL."""
    src = tmp_path / 'mirror'
    src.mkdir()
    files = {}
    for name, payload in (('a-idx3-ubyte.gz', b'first file' * 300),
                          ('b-idx1-ubyte.gz', b'second')):
        (src / name).write_bytes(payload)
        files[name] = hashlib.md5(payload).hexdigest()
    return src.as_uri() + '/', files, src


def test_md5_table_matches_spec(tool):
    assert tool.MNIST_MD5['train-images-idx3-ubyte.gz'] == \
        'f68b3c2dcbeaaa9fbdd348bbdeb94873'
    assert tool.MNIST_MD5['t10k-labels-idx1-ubyte.gz'] == \
        'ec29112dd5afa0611ce80d1b7f02629c'
    assert len(tool.MNIST_MD5) == 4 and len(tool.MIRRORS) >= 2


def test_download_verify_and_skip(tool, tmp_path, mirror):
    url, files, src = mirror
    out = tmp_path / 'out'
    logs = []
    paths = tool.download_mnist(
        str(out), [url], files, progress=False, log=logs.append)
    assert sorted(osp.basename(p) for p in paths) == sorted(files)
    for name in files:
        assert (out / name).read_bytes() == (src / name).read_bytes()
    assert sorted(os.listdir(out)) == sorted(files)  # no temp files left
    logs.clear()
    tool.download_mnist(
        str(out), ['file:///nonexistent/'],
        files,
        progress=False,
        log=logs.append)
    assert all('skipped' in m for m in logs)


def test_bad_mirror_then_good_one(tool, tmp_path, mirror):
    url, files, _ = mirror
    out = tmp_path / 'out'
    logs = []
    tool.download_mnist(
        str(out), [str(tmp_path.as_uri()) + '/nope/', url],
        files,
        progress=True,
        log=logs.append)
    assert sorted(os.listdir(out)) == sorted(files)
    assert any(m.startswith('failed') for m in logs)


def test_wrong_md5_leaves_nothing(tool, tmp_path, mirror):
    url, files, _ = mirror
    name = next(iter(files))
    out = tmp_path / 'out'
    with pytest.raises(tool.DownloadError) as e:
        tool.download_mnist(
            str(out), [url], {name: '0' * 32},
            progress=False,
            log=lambda m: None)
    msg = str(e.value)
    assert 'md5 mismatch' in msg and name in msg
    assert os.listdir(out) == []
    # a present file with a wrong md5 is fetched again
    (out / name).write_bytes(b'corrupt')
    tool.download_mnist(
        str(out), [url], {name: files[name]},
        progress=False,
        log=lambda m: None)
    assert hashlib.md5((out / name).read_bytes()).hexdigest() == files[name]


def test_offline_opener(tool, tmp_path):

    def offline(url, timeout=None):
        raise urllib.error.URLError('network is unreachable')

    with pytest.raises(tool.DownloadError) as e:
        tool.download_mnist(
            str(tmp_path), ['https://example.invalid/'],
            opener=offline,
            progress=False,
            log=lambda m: None)
    msg = str(e.value)
    assert 'network is unreachable' in msg
    assert 'train-images-idx3-ubyte.gz' in msg
    assert 'f68b3c2dcbeaaa9fbdd348bbdeb94873' in msg
    assert "digit_source='glyphs'" in msg


def test_main_exit_code_and_message(tool, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(tool, 'MIRRORS', [])
    rc = tool.main([
        '--out-dir',
        str(tmp_path / 'mnist'), '--mirror',
        (tmp_path / 'empty').as_uri() + '/', '--no-progress'
    ])
    assert rc == 1
    err = capsys.readouterr().err
    assert 'place the files manually' in err
    assert str(tmp_path / 'mnist') in err
    assert "digit_source='glyphs'" in err
