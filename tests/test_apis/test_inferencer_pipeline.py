# Copyright (c) mmvp contributors. All rights reserved.
"""VideoPredInferencer runs the config's test pipeline: decode steps of
the datasets, one window decoded at a time, the dataset's frame interval,
num_future through the data samples, model names of the model index."""
import gc
import os.path as osp
import weakref

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmvp.apis import VideoPredInferencer, list_models, resolve_model
from mmvp.apis.config_facts import frame_interval_of, metainfo_of_test_dataset
from mmvp.apis.inference_pipeline import InMemoryDecode
from mmvp.registry import MODELS, TRANSFORMS
from mmvp.structures import VideoPredDataSample
from mmvp.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

MODEL = """\
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='PredRNN', num_layers=1, hidden_channels=4, kernel_size=3),
    img_channels={channels},
    in_frames=3,
    out_frames=2,
    sampling=None)
"""
GREY = MODEL.format(channels=1) + """\
test_dataloader = dict(dataset=dict(
    type='VMNISTDataset', digit_source='glyphs', split='test',
    num_samples=2, in_frames=3, out_frames=2,
    pipeline=[dict(type='PackVideoPredInputs')]))
"""


def _rgb_config(decode="dict(type='DecordDecode')", interval=1, extra=''):
    return MODEL.format(channels=3) + f"""\
test_dataloader = dict(dataset=dict(
    type='VideoFolderDataset', data_root='videos', in_frames=3,
    out_frames=2, frame_interval={interval}, pipeline=[
        {decode},{extra}
        dict(type='PackVideoPredInputs')]))
"""


@pytest.fixture(scope='module')
def grey(tmp_path_factory):
    register_all_modules()
    root = tmp_path_factory.mktemp('pipeline')
    cfg = root / 'grey.py'
    cfg.write_text(GREY)
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(cfg)).model)
    ckpt = root / 'grey.pth'
    torch.save({'state_dict': model.state_dict()}, str(ckpt))
    return str(cfg), str(ckpt)


def _config(tmp_path, text, name='cfg.py'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _frames(num, h=96, w=80, channels=3, seed=0):
    return np.random.default_rng(seed).integers(
        0, 256, (num, h, w, channels), dtype=np.uint8)


class CountingDecode(InMemoryDecode):
    """Records every decode call and checks that no frames of an earlier
    window are still alive when the next window is decoded."""

    def __init__(self, log, **kwargs):
        super().__init__(**kwargs)
        self.log = log
        self.decoded = []

    def read(self, results, inds):
        gc.collect()
        alive = sum(len(r()) for r in self.decoded if r() is not None)
        self.log.append(('decode', len(inds), alive))
        frames = super().read(results, inds)
        self.decoded.append(weakref.ref(frames))
        return frames


@pytest.mark.parametrize('with_gt', [False, True])
def test_one_window_decoded_at_a_time(grey, with_gt):
    inferencer = VideoPredInferencer(*grey, device='cpu')
    log = []
    inferencer.pipeline.decoders['memory'] = CountingDecode(
        log, color_type='grayscale')
    test_step = inferencer.model.test_step

    def counting_step(data):
        log.append(('forward', len(data['inputs'])))
        return test_step(data)

    inferencer.model.test_step = counting_step
    # a long input of large frames: 40 frames of 96 x 80 (model: 64 x 64)
    out = inferencer(
        _frames(40), num_frames=2, stride=5, with_gt=with_gt)['predictions']
    assert [p['window_start'] for p in out] == list(range(0, 38, 5))
    # decode and forward alternate: a window is decoded only when its
    # batch is predicted, and the frames of the window before are gone
    assert [e[0] for e in log] == ['decode', 'forward'] * len(out)
    decodes = [e for e in log if e[0] == 'decode']
    assert all(alive == 0 for _, _, alive in decodes)
    sizes = [n for _, n, _ in decodes]
    if with_gt:
        # T_in observed frames and at most num_frames true ones
        assert sizes == [3 + 2] * len(out)
        assert all(len(p['gt_frames']) == 2 for p in out)
    else:
        assert sizes == [3] * len(out)
        assert all(len(p['gt_frames']) == 0 for p in out)
    # window by window: the first prediction comes after one decode
    log.clear()
    stream = inferencer.iter_predictions(
        _frames(40), num_frames=2, stride=5, with_gt=with_gt)
    first = next(stream)
    assert [e[0] for e in log] == ['decode', 'forward']
    rest = list(stream)
    for a, b in zip([first] + rest, out):
        assert a['window_start'] == b['window_start']
        assert np.array_equal(a['pred_frames'], b['pred_frames'])


def test_frame_interval_from_the_dataset_and_override(grey, tmp_path):
    # the protocols say how far apart the frames of a clip are
    h36m = Config.fromfile(
        osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py'))
    assert frame_interval_of(
        metainfo_of_test_dataset(h36m)) == (10, 'frame_interval_raw')
    openstl = Config.fromfile(
        osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m_openstl256.py'))
    assert frame_interval_of(metainfo_of_test_dataset(openstl))[0] == 5
    assert frame_interval_of({}) == (1, '')

    cfg = _config(tmp_path, _rgb_config(interval=2))
    inferencer = VideoPredInferencer(cfg, device='cpu')
    assert inferencer.frame_interval == 2
    frames = _frames(20, 64, 64)
    pred = inferencer(frames, num_frames=2, start=1)['predictions'][0]
    # frames 1, 3, 5 observed; 7, 9 are the true future
    assert list(pred['frame_inds']) == [1, 3, 5]
    assert np.array_equal(pred['input_frames'], frames[[1, 3, 5]])
    assert np.array_equal(pred['gt_frames'], frames[[7, 9]])
    # the default window ends at the last frame: 15, 17, 19
    last = inferencer(frames)['predictions'][0]
    assert list(last['frame_inds']) == [15, 17, 19]
    # the same as interval 1 on every 2nd frame
    every = VideoPredInferencer(cfg, device='cpu', frame_interval=1)
    every.model.load_state_dict(inferencer.model.state_dict())
    assert every.frame_interval == 1
    same = every(frames[15::2])['predictions'][0]
    assert np.array_equal(same['pred_frames'], last['pred_frames'])
    with pytest.raises(ValueError, match='every 2 frames'):
        inferencer(frames[:4])
    with pytest.raises(ValueError, match='frame_interval must be'):
        VideoPredInferencer(cfg, device='cpu', frame_interval=0)


def test_num_future_travels_in_the_data_samples(grey):
    inferencer = VideoPredInferencer(*grey, device='cpu')
    model = inferencer.model
    clip = torch.randint(0, 256, (3, 1, 64, 64), dtype=torch.uint8)

    def samples(*nums):
        return [VideoPredDataSample(metainfo=dict(num_future=n)) for n in nums]

    out = model.test_step(
        dict(inputs=[clip, clip], data_samples=samples(5, 5)))
    assert [s.pred_frames.shape[0] for s in out] == [5, 5]
    # without the metainfo: test_cfg / out_frames
    out = model.test_step(
        dict(inputs=[clip], data_samples=[VideoPredDataSample()]))
    assert out[0].pred_frames.shape[0] == 2
    with pytest.raises(ValueError, match='different num_future'):
        model.test_step(dict(inputs=[clip, clip], data_samples=samples(2, 4)))
    res = inferencer(_frames(5), num_frames=4, return_datasamples=True)
    assert res['predictions'][0].metainfo['num_future'] == 4
    assert res['predictions'][0].pred_frames.shape[0] == 4
    assert model.test_cfg == {}


def test_inputs_read_like_the_datasets(grey, tmp_path):
    inferencer = VideoPredInferencer(*grey, device='cpu')
    frames = _frames(6, 64, 64, channels=4, seed=3)
    # an RGBA frame folder, named so that plain sorting is wrong
    folder = tmp_path / 'rgba'
    folder.mkdir()
    names = [f'f{t * 5}.png' for t in range(6)]
    for name, frame in zip(names, frames):
        cv2.imwrite(
            str(folder / name), cv2.cvtColor(frame, cv2.COLOR_RGBA2BGRA))
    pred = inferencer(str(folder), start=0)['predictions'][0]
    # exactly what a dataset's FrameFolderDecode gives (grey, no alpha)
    decode = TRANSFORMS.build(
        dict(type='FrameFolderDecode', color_type='grayscale'))
    expected = decode(
        dict(
            filename=str(folder),
            frame_paths=[str(folder / n) for n in names],
            frame_inds=np.arange(3)))['frames']
    assert np.array_equal(pred['input_frames'], expected)
    # .npy / .npz frame files give what the same array gives
    rgb = frames[..., :3]
    np.save(tmp_path / 'clip.npy', rgb)
    np.savez(tmp_path / 'clip.npz', frames=rgb)
    from_array = inferencer(rgb)['predictions'][0]
    for name in ('clip.npy', 'clip.npz'):
        from_file = inferencer(str(tmp_path / name))['predictions'][0]
        assert np.array_equal(from_file['pred_frames'],
                              from_array['pred_frames'])
    np.save(tmp_path / 'float.npy', rgb.astype(np.float32))
    with pytest.raises(ValueError, match='expected uint8 frames'):
        inferencer(str(tmp_path / 'float.npy'))


def test_refused_pipelines(grey, tmp_path):
    cache = _config(tmp_path, _rgb_config("dict(type='FrameCacheDecode')"),
                    'cache.py')
    with pytest.raises(ValueError, match='decodes a frame cache'):
        VideoPredInferencer(cache, device='cpu')
    raw = _config(
        tmp_path,
        _rgb_config(
            "dict(type='ArrayDecode', out_key='radar_values')",
            extra="\n        dict(type='EncodeRadarFrames'),"), 'raw.py')
    with pytest.raises(ValueError, match="loads raw values"):
        VideoPredInferencer(raw, device='cpu')
    grey_decode = _config(
        tmp_path,
        _rgb_config("dict(type='DecordDecode', color_type='grayscale')"),
        'mismatch.py')
    inferencer = VideoPredInferencer(grey_decode, device='cpu')
    with pytest.raises(
            ValueError, match='1-channel frames, the model '
            'takes 3'):
        inferencer(_frames(4, 64, 64))


def test_published_weights_resolve_by_name():
    """The weights-only checkpoints in the repository that the model index
    lists are found by model name through the installed package (``pip
    install -e .`` links ``checkpoints/`` into ``mmvp/.mim``), and they
    load into their config's model."""
    from mmvp.utils import check_checkpoint_compatibility, safe_load
    register_all_modules()
    name = 'motionrnn_predrnn_vmnist_cpu_2400it'
    config, weights = resolve_model(name)
    assert osp.isfile(config) and weights is not None
    assert osp.isfile(weights), (
        f'{weights} is missing: reinstall with `pip install -e .` so that '
        'mmvp/.mim/checkpoints exists')
    model = MODELS.build(Config.fromfile(config).model)
    state = safe_load(weights)['state_dict']
    check_checkpoint_compatibility(model, state)
    model.load_state_dict(state)


def test_model_names(tmp_path):
    names = list_models()
    assert 'motionrnn_predrnn_h36m' in names and names == sorted(names)
    assert list_models('h36m') and all('h36m' in n
                                       for n in list_models('h36m'))
    assert all(n.endswith('_radar') for n in list_models('*_radar'))
    config, weights = resolve_model('motionrnn_predrnn_vmnist')
    assert osp.isfile(config) and weights is None
    assert config.endswith(osp.join('configs', 'motionrnn_predrnn_vmnist.py'))
    with pytest.raises(
            ValueError, match='close names: motionrnn_predrnn_vmnist'):
        resolve_model('motionrnn_predrn_vmnist')
    # weights listed in a metafile, relative to the index
    (tmp_path / 'meta.yml').write_text(
        'Models:\n  - Name: tiny\n    Config: configs/tiny.py\n'
        '    Weights: ckpts/tiny.pth\n')
    (tmp_path / 'model-index.yml').write_text('Import:\n  - meta.yml\n')
    config, weights = resolve_model(
        'tiny', index_file=str(tmp_path / 'model-index.yml'))
    assert config == str(tmp_path / 'configs' / 'tiny.py')
    assert weights == str(tmp_path / 'ckpts' / 'tiny.pth')
    with pytest.warns(UserWarning, match='randomly initialised'):
        inferencer = VideoPredInferencer('predrnn_vmnist', device='cpu')
    assert inferencer.cfg.filename.endswith('predrnn_vmnist.py')
    assert inferencer.weights is None
    with pytest.raises(ValueError, match='unknown model name'):
        VideoPredInferencer('no_such_model', device='cpu')
