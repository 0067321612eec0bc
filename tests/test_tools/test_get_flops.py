# Copyright (c) mmvp contributors. All rights reserved.
"""Parameter / MAC counts of one Human3.6M sequence
(model_equations.md#counting-parameters-and-macs).

Every row of the size table is rebuilt from the configs at the
Human3.6M settings (4 -> 4 frames of 128 x 128 x 3, patch 4, batch 1) and
counted on the meta device. Parameters must match exactly and MACs (in G)
the reference 2-decimal figure within rounding, in both conventions (the
docs print E3D+MotionRNN's 302,924,876,800 thop MACs as 302.93G, so the bound
is 0.006G rather than 0.005G).
"""
import importlib.util
import json
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config

from mmvp.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))
# the counter module beside the tool
import complexity as cx  # noqa: E402

# (config, backbone overrides, params, MACs thop (G), MACs true (G),
#  paper Table 2 row reproduced); reproduction_notes.md#model-sizes
ROWS = {
    'PredRNN':
    ('predrnn_vmnist.py', {}, 6_410_240, '45.95', '45.95', 'PredRNN'),
    'PredRNN+MotionRNN':
    ('motionrnn_predrnn_vmnist.py', {}, 7_214_657, '50.97', '50.71', None),
    'ConvLSTM': ('convlstm_vmnist.py', dict(peephole=None), 3_177_472, '22.78',
                 '22.78', None),
    'ConvLSTM(R)': ('convlstm_vmnist.py', dict(peephole='conv'), 4_406_272,
                    '31.58', '31.58', 'ConvLSTM'),
    'ConvLSTM(R)+MotionRNN': ('motionrnn_convlstm_vmnist.py',
                              dict(peephole='conv'), 5_210_689, '36.61',
                              '36.34', 'ConvLSTM + MotionRNN'),
    'E3D(R)': ('e3dlstm_vmnist.py', dict(temporal_kernel=3), 20_390_912,
               '292.28', '292.28', 'E3D-LSTM'),
    'E3D(R)+MotionRNN':
    ('motionrnn_e3dlstm_vmnist.py', dict(temporal_kernel=3), 21_321_281,
     '302.93', '301.69', 'E3D-LSTM + MotionRNN'),
    'PredRNN++':
    ('predrnnpp_vmnist.py', {}, 9_277_440, '66.50', '66.50', None),
    'PredRNN-v2': ('predrnnv2_vmnist.py', {}, 6_414_336, '46.18', '46.18',
                   None),
}
# MotionRNN's increment on PredRNN++ and PredRNN-v2
# (model_equations.md#counting-parameters-and-macs).
MOTIONRNN_DELTA = (804_417, '5.02')
H36M = dict(height=128, width=128, in_frames=4, out_frames=4, img_channels=3)


@pytest.fixture(scope='module', autouse=True)
def _setup():
    register_all_modules(init_default_scope=False)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def count(config, backbone=None, settings=H36M, device='meta'):
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    cfg.model.backbone.update(backbone or {})
    seq = cx.sequence_settings(cfg.model, **settings)
    model = cx.build_model_for_counting(cfg.model, seq, device)
    if device == 'meta':
        inputs = torch.empty(seq['input_shape'], device='meta')
    else:
        inputs = torch.rand(seq['input_shape'])
    return cx.count_complexity(model, inputs)


def g(macs):
    return f'{macs / 1e9:.2f}'


def assert_giga(macs, spec):
    """``macs`` is the 2-decimal reference figure ``spec`` G within
    rounding."""
    assert abs(macs / 1e9 - float(spec)) <= 0.006, (macs, spec)


@pytest.mark.parametrize('row', list(ROWS))
def test_spec_size_table(row):
    config, backbone, params, thop, true, paper = ROWS[row]
    res = count(config, backbone)
    assert res.steps == 7
    assert res.input_shape == (1, 8, 48, 32, 32)
    assert res.params == params
    assert_giga(res.macs_thop, thop)
    assert_giga(res.macs_true, true)
    found = cx.match_paper_row(res.params, res.macs_thop, res.macs_true)
    assert (found and found['name']) == paper
    if paper:
        assert found['convention'] == 'thop'


@pytest.mark.parametrize('base', ['PredRNN++', 'PredRNN-v2'])
def test_motionrnn_increment(base):
    config = ROWS[base][0]
    plain = count(config)
    with_mr = count('motionrnn_' + config)
    assert with_mr.params - plain.params == MOTIONRNN_DELTA[0]
    assert g(with_mr.macs_thop - plain.macs_thop) == MOTIONRNN_DELTA[1]
    # 3 blocks x 7 steps x (Dec thop - Dec true) = 21 x 12.58M
    assert with_mr.macs_thop - with_mr.macs_true == 21 * 4096 * 64 * 16 * 3


def test_motionrnn_block_breakdown():
    """One 2-D MotionRNN block at Human3.6M size, per step
    (model_equations.md#counting-parameters-and-macs)."""
    res = count('motionrnn_predrnn_vmnist.py')
    block = {
        layer.name.split('.', 3)[-1]: layer
        for layer in res.layers if layer.name.startswith('neck.blocks.0.')
    }
    assert set(block) == {
        'enc', 'update', 'reset', 'output', 'warp_mask', 'warp_weight', 'dec',
        'gate'
    }
    assert all(layer.calls == 7 for layer in block.values())
    per_step = {k: (v.params, v.macs_true // 7) for k, v in block.items()}
    assert per_step['enc'] == (25_616, 6_553_600)
    assert per_step['warp_mask'] == (1_305, 331_776)
    assert per_step['warp_weight'] == (2_304, 589_824)
    assert per_step['dec'] == (16_448, 4_194_304)
    assert block['dec'].macs_thop // 7 == 16_777_216
    assert per_step['gate'] == (204_864, 209_715_200)
    gru = sum(per_step[k][0] for k in ('update', 'reset', 'output'))
    assert gru == 16_578
    assert sum(p for p, _ in per_step.values()) == 267_115
    assert f'{sum(m for _, m in per_step.values()) / 1e6:.1f}' == '225.6'
    thop = sum(v.macs_thop for v in block.values()) // 7
    assert f'{thop / 1e6:.1f}' == '238.2'
    # W_v (conv_first_v): 3 blocks + W_v = 804,417
    assert res.by_group(2)['neck.highway']['params'] == 3_072


def test_mim_differs_by_the_discarded_first_step():
    """mmvp's MIM skips the t=0 MIM-N pass whose result OpenSTL discards
    (model_equations.md#mim), so it does 2 x 3 MIM-N convs (C -> 4C, 5x5 at
    32x32) less than OpenSTL's 70.17G / 75.19G; parameters match exactly."""
    discarded = 2 * 3 * (32 * 32 * 256) * 64 * 25
    for config, params, spec, extra_all in (('mim_vmnist.py', 9_789_440,
                                             '70.17', 1_179_648),
                                            ('motionrnn_mim_vmnist.py',
                                             10_593_857, '75.19', 1_179_648)):
        res = count(config)
        assert res.params == params
        # the Hadamard peepholes are bare parameters (not counted)
        assert res.params_all - res.params == extra_all
        assert g(res.macs_thop + discarded) == spec
    assert count('mim_vmnist.py').macs_thop == 67_654_123_520


def test_e3d_released_kernel_differs_by_temporal_padding():
    """temporal_kernel=2: mmvp pads in time as TensorFlow "same" (output
    depth tau=2, model_equations.md#e3d-lstm); OpenSTL, behind its 97.77G,
    computes
    depth 1 and upsamples. Parameters match; removing the second output
    frame of every (2, 5, 5) gate conv gives OpenSTL's figure."""
    res = count('e3dlstm_vmnist.py', dict(temporal_kernel=2))
    assert res.params == 13_606_912
    gate = sum(layer.macs_thop for layer in res.layers
               if layer.type == 'SameConv3d')
    assert res.macs_thop == 195_024_650_240
    assert g(res.macs_thop - gate // 2) == '97.77'


def test_meta_count_equals_real_forward():
    """Counting on the meta device gives the same numbers as a real
    forward pass on CPU (tiny MotionRNN-PredRNN and MotionRNN-E3D)."""
    tiny = dict(height=16, width=16, in_frames=2, out_frames=2, img_channels=1)
    for config in ('motionrnn_predrnn_vmnist.py',
                   'motionrnn_e3dlstm_vmnist.py'):
        small = dict(hidden_channels=8, num_layers=2, kernel_size=3)
        meta = count(config, small, tiny)
        real = count(config, small, tiny, device='cpu')
        assert meta.params == real.params > 0
        assert (meta.macs_thop, meta.macs_true) == (real.macs_thop,
                                                    real.macs_true)
        assert meta.params_all == real.params_all


@pytest.mark.parametrize('config', [
    'motionrnn_predrnn_vmnist.py', 'motionrnn_convlstm_vmnist.py',
    'motionrnn_e3dlstm_vmnist.py'
])
def test_true_count_equals_mmengine_flop_analyzer(config):
    """MMEngine's FlopAnalyzer with only its convolution handle (no
    bilinear sampling, norms or matmuls) traces the same 'true' MACs, the
    warp's 1x1 contraction included, on a real forward pass of a small
    sequence."""
    from mmengine.analysis import FlopAnalyzer
    from mmengine.analysis.jit_handles import conv_flop_jit
    tiny = dict(height=16, width=16, in_frames=2, out_frames=2, img_channels=1)
    small = dict(hidden_channels=8, num_layers=2, kernel_size=3)
    cfg = Config.fromfile(osp.join(REPO, 'configs', config))
    cfg.model.backbone.update(small)
    seq = cx.sequence_settings(cfg.model, **tiny)
    model = cx.build_model_for_counting(cfg.model, seq, 'cpu').eval()
    inputs = torch.rand(seq['input_shape'])
    ours = cx.count_complexity(model, inputs)

    class Rollout(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, x):
            return self.model(x, mode='tensor')

    # convolutions only (the warp's 1x1 contraction is one)
    analyzer = FlopAnalyzer(Rollout(), (inputs, )).clear_op_handles()
    analyzer.set_op_handle('aten::_convolution', conv_flop_jit)
    analyzer.unsupported_ops_warnings(False)
    analyzer.uncalled_modules_warnings(False)
    with torch.no_grad():
        assert dict(analyzer.by_operator()) == dict(conv=ours.macs_true)
    if 'motionrnn' in config:  # the thop rule differs at the decoders
        assert ours.macs_thop > ours.macs_true


def _load_tool():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'get_flops.py')
    spec = importlib.util.spec_from_file_location('get_flops', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_h36m_json(tmp_path, capsys):
    tool = _load_tool()
    out_json = tmp_path / 'sub' / 'flops.json'
    tool.main([
        osp.join(REPO, 'configs', 'motionrnn_convlstm_vmnist.py'), '--h36m',
        '--json',
        str(out_json), '--cfg-options', 'model.backbone.peephole=conv'
    ])
    text = capsys.readouterr().out
    assert '5,210,689' in text and '36.61G' in text and '36.34G' in text
    assert 'Reproduces the paper\'s Table 2 row "ConvLSTM + MotionRNN"' in text
    with open(out_json) as f:
        data = json.load(f)
    assert data['params'] == 5_210_689
    assert data['params_all'] == 5_210_689
    assert data['steps'] == 7 and data['input_shape'] == [1, 8, 48, 32, 32]
    assert data['paper_row']['name'] == 'ConvLSTM + MotionRNN'
    assert data['groups']['neck']['params'] == 804_417
    assert data['groups']['backbone']['params'] == 4_406_272


# get_flops.py's counts of the Human3.6M configs as they print: params of
# the executed convs, all params, MACs (thop), MACs (true).
H36M_CONFIGS = {
    'convlstm_h36m.py': (4406272, 4406272, 31584157696, 31584157696),
    'e3dlstm_h36m.py': (20390912, 20391424, 292280074240, 292280074240),
    'mim_h36m.py': (9789440, 10969088, 67654123520, 67654123520),
    'motionrnn_convlstm_h36m.py': (5210689, 5210689, 36608330752, 36344089600),
    'motionrnn_e3dlstm_h36m.py':
    (21321281, 21321793, 302924876800, 301691751424),
    'motionrnn_mim_h36m.py': (10593857, 11773505, 72678296576, 72414055424),
    'motionrnn_predrnn_h36m.py': (7214657, 7214657, 50972773376, 50708532224),
    'motionrnn_predrnn_h36m_openstl256.py':
    (7214657, 7214657, 203891093504, 202834128896),
    'motionrnn_predrnnpp_h36m.py':
    (10081857, 10081857, 71524862976, 71260621824),
    'motionrnn_predrnnv2_h36m.py':
    (7218753, 7218753, 51207654400, 50943413248),
    'predrnn_h36m.py': (6410240, 6410240, 45948600320, 45948600320),
    'predrnnpp_h36m.py': (9277440, 9277440, 66500689920, 66500689920),
    'predrnnv2_h36m.py': (6414336, 6414336, 46183481344, 46183481344),
}


@pytest.mark.parametrize('config', sorted(H36M_CONFIGS))
def test_cli_h36m_configs_print_the_pinned_counts(config, capsys):
    params, params_all, thop, true = H36M_CONFIGS[config]
    out = _load_tool().main([osp.join(REPO, 'configs', config)])
    text = capsys.readouterr().out
    assert (out['params'], out['params_all'], out['macs_thop'],
            out['macs_true']) == H36M_CONFIGS[config]
    words = ' '.join(text.split())  # the table's columns, single-spaced
    assert (f'total (executed convs) {params:,} {thop / 1e9:.2f}G '
            f'{true / 1e9:.2f}G') in words
    assert f'all parameters {params_all:,}' in words
    assert (f'params {params / 1e6:.2f}M, MACs {thop / 1e9:.2f}G (thop) / '
            f'{true / 1e9:.2f}G (true)') in text


def test_cli_config_sequence_and_errors(tmp_path, capsys):
    tool = _load_tool()
    # default: the config's own 10 -> 10 grey frames at the dataset's 64x64
    out = tool.main([osp.join(REPO, 'configs', 'predrnn_vmnist.py')])
    assert out['input_shape'] == [1, 20, 16, 16, 16]
    assert out['steps'] == 19
    assert out['paper_row'] is None
    assert 'not compared' in capsys.readouterr().out
    out = tool.main([
        osp.join(REPO, 'configs', 'predrnn_vmnist.py'), '--shape', '32', '48',
        '--frames', '2', '3', '--img-channels', '3'
    ])
    assert out['input_shape'] == [1, 5, 48, 8, 12]
    with pytest.raises(SystemExit, match='not divisible by the patch size'):
        tool.main([
            osp.join(REPO, 'configs', 'predrnn_vmnist.py'), '--shape', '30',
            '30'
        ])


def test_cli_reads_frame_size_from_the_resize_step(capsys):
    # Human3.6M configs declare their size through ResizeFrames(scale=128)
    tool = _load_tool()
    tool.main([osp.join(REPO, 'configs', 'motionrnn_predrnn_h36m.py')])
    text = capsys.readouterr().out
    assert '128x128x3' in text and '7,214,657' in text
    assert '50.97G' in text and '50.71G' in text


@pytest.mark.parametrize('device', ['meta', 'cpu'])
def test_cli_counts_a_config_with_compiled_regions(device, capsys):
    # compile_regions is a speed option: the count runs eagerly (nothing
    # is compiled) and gives the same figures
    from torch._dynamo.utils import counters
    counters.clear()
    tool = _load_tool()
    out = tool.main([
        osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist.py'), '--device',
        device, '--cfg-options', 'model.compile_regions=True'
    ])
    plain = tool.main(
        [osp.join(REPO, 'configs', 'motionrnn_predrnn_vmnist.py')])
    assert out['macs_true'] == plain['macs_true'] > 0
    assert out['params'] == plain['params']
    assert counters['stats']['unique_graphs'] == 0
