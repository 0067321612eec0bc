# Copyright (c) mmvp contributors. All rights reserved.
"""Speed work must not change the numbers.

A fixed-seed, 20-iteration training run (tiny models, fp32, one thread)
is compared against loss sequences recorded before the time loop was
optimised (base-grid cache, on-device masks, no per-step tensor creation).
Every backbone runs with and without MotionRNN, plus the neck ablations
whose code paths differ (no trend, no transient) and ``reverse_input``.

Tolerance: ``rtol=1e-4, atol=1e-6`` per loss value. Identical arithmetic
gives identical bits; the slack covers a different CPU kernel choice
(e.g. another oneDNN ISA) accumulating fp32 rounding over 20 Adam steps.

Run ``python tests/test_models/test_speed_numerics.py`` to print the
sequences of the current code.
"""
import os

os.environ.setdefault('OMP_NUM_THREADS', '1')

import pytest  # noqa: E402
import torch  # noqa: E402
from mmengine.logging import MessageHub  # noqa: E402
from mmengine.optim import OptimWrapper  # noqa: E402

from mmvp.models import VideoPredictor  # noqa: E402

SEED = 0
ITERS = 20
RTOL, ATOL = 1e-4, 1e-6

BACKBONES = {
    'convlstm': dict(type='ConvLSTM', peephole='conv'),
    'predrnn': dict(type='PredRNN'),
    'predrnnpp': dict(type='PredRNNpp'),
    'predrnnv2': dict(type='PredRNNv2'),
    'mim': dict(type='MIM', input_size=(4, 4)),
    'e3dlstm': dict(type='E3DLSTM', window_length=2),
}

#: (backbone, neck switches or None, extra predictor kwargs)
CASES = {
    'convlstm': ('convlstm', None, {}),
    'convlstm+motionrnn': ('convlstm', {}, {}),
    'predrnn': ('predrnn', None, {}),
    'predrnn+motionrnn': ('predrnn', {}, {}),
    'predrnn+motionrnn_notrend': ('predrnn', dict(use_trend=False), {}),
    'predrnn+motionrnn_notransient':
    ('predrnn', dict(use_transient=False), {}),
    'predrnn+motionrnn_reverse': ('predrnn', {}, dict(reverse_input=True)),
    'predrnnpp': ('predrnnpp', None, {}),
    'predrnnpp+motionrnn': ('predrnnpp', {}, {}),
    'predrnnv2':
    ('predrnnv2', None,
     dict(
         sampling=dict(mode='reverse', start_iter=5, stop_iter=15, alpha=4.))),
    'predrnnv2+motionrnn':
    ('predrnnv2', {},
     dict(
         sampling=dict(mode='reverse', start_iter=5, stop_iter=15, alpha=4.))),
    'mim': ('mim', None, {}),
    'mim+motionrnn': ('mim', {}, {}),
    'e3dlstm': ('e3dlstm', None, {}),
    'e3dlstm+motionrnn': ('e3dlstm', {}, {}),
}


def build_case(name: str) -> VideoPredictor:
    """The tiny model of ``CASES[name]``, initialised from ``SEED``."""
    backbone, neck, extra = CASES[name]
    cfg = dict(
        backbone=dict(
            BACKBONES[backbone],
            hidden_channels=8,
            num_layers=3,
            kernel_size=3),
        img_channels=1,
        in_frames=3,
        out_frames=3,
        # a schedule that mixes true and predicted frames within 20 iters
        sampling=dict(mode='linear', start=1.0, rate=0.05, stop_iter=20),
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    if neck is not None:
        neck_type = 'MotionRNNNeck3D' if backbone == 'e3dlstm' else \
            'MotionRNNNeck'
        cfg['neck'] = dict(type=neck_type, kernel_size=3, **neck)
    cfg.update(extra)
    torch.manual_seed(SEED)
    return VideoPredictor(**cfg)


def run_losses(name: str, iters: int = ITERS):
    """Train ``name`` for ``iters`` steps on fixed random clips; returns
    the logged ``loss`` of every step."""
    model = build_case(name)
    optim = OptimWrapper(torch.optim.Adam(model.parameters(), lr=1e-3))
    gen = torch.Generator().manual_seed(SEED + 1)
    # uint8 clips [T, C, H, W] as the pipeline packs them, 8x8 grey
    clips = torch.randint(
        0, 256, (iters, 2, 6, 1, 8, 8), generator=gen, dtype=torch.uint8)
    # the model reads the iteration from the current MessageHub
    hub = MessageHub.get_current_instance()
    losses = []
    for i in range(iters):
        hub.update_info('iter', i)
        data = dict(inputs=list(clips[i]))
        log_vars = model.train_step(data, optim)
        losses.append(float(torch.as_tensor(log_vars['loss']).detach()))
    return losses


# Recorded with the time loop as it was before the speed work
# (fp32, OMP_NUM_THREADS=1, seed 0).
REFERENCE = {
    'convlstm': [
        0.3300766050815582, 0.32039934396743774, 0.33697280287742615,
        0.3347707688808441, 0.35421401262283325, 0.33673468232154846,
        0.3417205214500427, 0.3400511145591736, 0.32366931438446045,
        0.32043638825416565, 0.331259548664093, 0.33450594544410706,
        0.3286108374595642, 0.3182377517223358, 0.3229960799217224,
        0.3153546154499054, 0.30282849073410034, 0.29565349221229553,
        0.29309409856796265, 0.27338844537734985
    ],
    'convlstm+motionrnn': [
        0.32167136669158936, 0.3094751238822937, 0.3177061975002289,
        0.31028398871421814, 0.3280816078186035, 0.3039967715740204,
        0.304235577583313, 0.29360705614089966, 0.27547773718833923,
        0.2699046730995178, 0.2740650773048401, 0.27326786518096924,
        0.2618739902973175, 0.24023179709911346, 0.23614521324634552,
        0.23311662673950195, 0.20937494933605194, 0.19829267263412476,
        0.20030780136585236, 0.17758822441101074
    ],
    'e3dlstm': [
        0.3753485083580017, 0.30291709303855896, 0.2919946312904358,
        0.27404409646987915, 0.283722460269928, 0.2600192427635193,
        0.25903424620628357, 0.24812917411327362, 0.22944211959838867,
        0.22027726471424103, 0.2213006466627121, 0.2125227451324463,
        0.20219114422798157, 0.18572553992271423, 0.18248692154884338,
        0.17010709643363953, 0.1586216390132904, 0.15362508594989777,
        0.15372782945632935, 0.14336946606636047
    ],
    'e3dlstm+motionrnn': [
        0.29547375440597534, 0.24614301323890686, 0.23358356952667236,
        0.2081414759159088, 0.21819689869880676, 0.191951721906662,
        0.1918417364358902, 0.1775030791759491, 0.16252723336219788,
        0.15720900893211365, 0.15737447142601013, 0.14803487062454224,
        0.1457364857196808, 0.13289812207221985, 0.13145293295383453,
        0.12738202512264252, 0.12928220629692078, 0.13410145044326782,
        0.1404724419116974, 0.13245229423046112
    ],
    'mim': [
        0.33317703008651733, 0.3212791383266449, 0.33657899498939514,
        0.33229681849479675, 0.3489007353782654, 0.32988908886909485,
        0.3326757550239563, 0.3278825283050537, 0.3070959448814392,
        0.3011242747306824, 0.3055996596813202, 0.301010400056839,
        0.2851492464542389, 0.2602924704551697, 0.2485991269350052,
        0.22441764175891876, 0.20440497994422913, 0.20565935969352722,
        0.19991974532604218, 0.18541750311851501
    ],
    'mim+motionrnn': [
        0.33624404668807983, 0.3199824094772339, 0.33374664187431335,
        0.3271949887275696, 0.34010836482048035, 0.3171192705631256,
        0.3190743029117584, 0.3121069073677063, 0.2893541753292084,
        0.28215596079826355, 0.28313517570495605, 0.27351123094558716,
        0.2589741349220276, 0.2310951054096222, 0.21903307735919952,
        0.2035074234008789, 0.18787242472171783, 0.19500908255577087,
        0.19072890281677246, 0.18026384711265564
    ],
    'predrnn': [
        0.329906165599823, 0.3175356686115265, 0.3305189609527588,
        0.32479333877563477, 0.34199032187461853, 0.32041439414024353,
        0.321300208568573, 0.31402087211608887, 0.29082849621772766,
        0.28161266446113586, 0.27522093057632446, 0.2591419816017151,
        0.23250393569469452, 0.2018013745546341, 0.18558311462402344,
        0.1675199717283249, 0.16002507507801056, 0.16661839187145233,
        0.16633448004722595, 0.15148678421974182
    ],
    'predrnn+motionrnn': [
        0.3164243996143341, 0.2991065979003906, 0.3024771809577942,
        0.2880801856517792, 0.30539801716804504, 0.2766145169734955,
        0.27207720279693604, 0.2558757960796356, 0.23462732136249542,
        0.223561093211174, 0.21340151131153107, 0.195607990026474,
        0.17189176380634308, 0.1464805006980896, 0.14220017194747925,
        0.1399221420288086, 0.1374824345111847, 0.14645636081695557,
        0.145750492811203, 0.12750664353370667
    ],
    'predrnn+motionrnn_notransient': [
        0.3145301640033722, 0.29687151312828064, 0.29983410239219666,
        0.28486162424087524, 0.3012629449367523, 0.27170246839523315,
        0.26683729887008667, 0.24986855685710907, 0.22853223979473114,
        0.21681508421897888, 0.20606672763824463, 0.18802563846111298,
        0.16583190858364105, 0.14176838099956512, 0.1385592818260193,
        0.13772115111351013, 0.1362031251192093, 0.14435520768165588,
        0.1432749181985855, 0.125502347946167
    ],
    'predrnn+motionrnn_notrend': [
        0.3164235055446625, 0.299105703830719, 0.3024764358997345,
        0.2880795896053314, 0.30539757013320923, 0.27661365270614624,
        0.2720763385295868, 0.2558744251728058, 0.23462620377540588,
        0.22356049716472626, 0.2134009301662445, 0.1956080198287964,
        0.17189276218414307, 0.1464814841747284, 0.14220193028450012,
        0.13992223143577576, 0.137482151389122, 0.14645648002624512,
        0.14575111865997314, 0.1275080293416977
    ],
    'predrnn+motionrnn_reverse': [
        0.3151082396507263, 0.2869546413421631, 0.2816753387451172,
        0.2482713758945465, 0.24770070612430573, 0.1920788735151291,
        0.168572336435318, 0.13923338055610657, 0.1369943618774414,
        0.1352640688419342, 0.13014119863510132, 0.12051127851009369,
        0.1106240525841713, 0.10298279672861099, 0.10409436374902725,
        0.10441197454929352, 0.09536318480968475, 0.09438352286815643,
        0.1001395434141159, 0.09145088493824005
    ],
    'predrnnpp': [
        0.33004340529441833, 0.320793092250824, 0.33779376745224,
        0.3359307646751404, 0.3557901382446289, 0.33885931968688965,
        0.3442198634147644, 0.34333178400993347, 0.3275489807128906,
        0.32513922452926636, 0.3371616303920746, 0.3415876626968384,
        0.33710283041000366, 0.33015233278274536, 0.3367418050765991,
        0.3310776352882385, 0.3215004801750183, 0.31438544392585754,
        0.3121721148490906, 0.2908978760242462
    ],
    'predrnnpp+motionrnn': [
        0.4601321220397949, 0.39816322922706604, 0.41743969917297363,
        0.38112616539001465, 0.39459437131881714, 0.3517943024635315,
        0.3313954472541809, 0.3083072006702423, 0.28138554096221924,
        0.2643870711326599, 0.24044570326805115, 0.22626455128192902,
        0.21139481663703918, 0.21556775271892548, 0.1977446973323822,
        0.18309026956558228, 0.15802258253097534, 0.17150065302848816,
        0.17175275087356567, 0.15613654255867004
    ],
    'predrnnv2': [
        0.3299869894981384, 0.31952428817749023, 0.3352643549442291,
        0.3328022360801697, 0.352983295917511, 0.334966242313385,
        0.33990055322647095, 0.33736327290534973, 0.3207395672798157,
        0.31918734312057495, 0.3289317190647125, 0.3349063992500305,
        0.329388827085495, 0.3212325870990753, 0.32717961072921753,
        0.31991758942604065, 0.31261146068573, 0.31039372086524963,
        0.31239619851112366, 0.30523228645324707
    ],
    'predrnnv2+motionrnn': [
        0.3210781216621399, 0.312608927488327, 0.3238012194633484,
        0.32132911682128906, 0.3426155149936676, 0.31971630454063416,
        0.3227006196975708, 0.31129640340805054, 0.2939777374267578,
        0.29131752252578735, 0.2947935461997986, 0.3045831322669983,
        0.29448261857032776, 0.27169671654701233, 0.27086901664733887,
        0.26342910528182983, 0.24339096248149872, 0.2313327044248581,
        0.22140948474407196, 0.19185248017311096
    ],
}


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize('name', sorted(CASES))
def test_loss_sequence_unchanged(name):
    losses = run_losses(name)
    expected = REFERENCE[name]
    assert len(losses) == len(expected) == ITERS
    torch.testing.assert_close(
        torch.tensor(losses, dtype=torch.float64),
        torch.tensor(expected, dtype=torch.float64),
        rtol=RTOL,
        atol=ATOL)


if __name__ == '__main__':
    torch.set_num_threads(1)
    print('REFERENCE = {')
    for case in sorted(CASES):
        values = ', '.join(f'{v!r}' for v in run_losses(case))
        print(f'    {case!r}: [{values}],')
    print('}')
