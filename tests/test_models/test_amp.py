# Copyright (c) mmvp contributors. All rights reserved.
"""Mixed precision: every backbone, with and without MotionRNN, runs under
bf16 and fp16 autocast, trains with mmvp's AMP optimizer wrapper, and stays
close to fp32; the MotionGRU warp samples in fp32 under autocast."""
import importlib

import pytest
import torch

from mmvp.engine.optim_wrappers import DeviceAmpOptimWrapper
from mmvp.models import VideoPredictor
from mmvp.models.necks import deform_warp
from mmvp.models.utils.ops import lerp

BACKBONES = {
    'convlstm': dict(type='ConvLSTM', peephole='conv'),
    'predrnn': dict(type='PredRNN'),
    'predrnnpp': dict(type='PredRNNpp'),
    'predrnnv2': dict(type='PredRNNv2'),
    'mim': dict(type='MIM', input_size=(4, 4)),
    'e3dlstm': dict(type='E3DLSTM', window_length=2),
}
# the module (the package re-exports the function under the same name)
warp_module = importlib.import_module('mmvp.models.necks.deform_warp')
CASES = [(name, neck) for name in sorted(BACKBONES) for neck in (False, True)]


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(name, neck):
    cfg = dict(
        backbone=dict(
            BACKBONES[name], hidden_channels=8, num_layers=3, kernel_size=3),
        img_channels=1,
        in_frames=3,
        out_frames=2,
        data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=2))
    if neck:
        cfg['neck'] = dict(
            type='MotionRNNNeck3D' if name == 'e3dlstm' else 'MotionRNNNeck',
            kernel_size=3)
    torch.manual_seed(0)
    model = VideoPredictor(**cfg)
    if neck:
        # the zero-initialised MotionGRU convs would hide the warp
        for block in model.neck.blocks:
            for conv in (block.update, block.reset, block.output,
                         block.warp_mask):
                torch.nn.init.normal_(conv.weight, std=0.2)
    return model


def clip(seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(2, 5, 4, 4, 4, generator=g)


def rel_error(a, b):
    a, b = a.detach().float(), b.detach().float()
    return float((a - b).norm() / b.norm())


@pytest.mark.parametrize('name,neck', CASES)
def test_bf16_autocast_forward_close_to_fp32(name, neck):
    model = build(name, neck).eval()
    x = clip()
    with torch.no_grad():
        ref = model(x, mode='tensor')
        with torch.autocast('cpu', dtype=torch.bfloat16):
            out = model(x, mode='tensor')
    assert out.shape == ref.shape
    assert torch.isfinite(out).all()
    # bf16 keeps 8 mantissa bits (relative rounding 2^-9 ~ 0.2%); a few
    # percent over a 4-step rollout through 3 layers
    assert rel_error(out, ref) < 0.05


@pytest.mark.parametrize('name,neck', CASES)
def test_fp16_autocast_forward_and_backward(name, neck):
    # fp16 autocast on CPU is slow (emulated) but must work: the same code
    # runs fp16 on GPUs
    model = build(name, neck)
    x = clip()
    with torch.autocast('cpu', dtype=torch.float16):
        losses = model(x, mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    assert torch.isfinite(loss)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    with torch.no_grad():
        ref = model.eval()(x, mode='tensor')
        with torch.autocast('cpu', dtype=torch.float16):
            out = model(x, mode='tensor')
    assert rel_error(out, ref) < 0.02  # fp16: 11 mantissa bits


@pytest.mark.parametrize('name,neck', CASES)
def test_bf16_train_step_with_amp_wrapper(name, neck):
    model = build(name, neck)
    wrapper = DeviceAmpOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3), device='cpu')
    assert wrapper.cast_dtype == torch.bfloat16
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = dict(
        inputs=list((clip() * 255).to(torch.uint8).view(2, 5, 1, 8, 8)))
    log_vars = model.train_step(data, wrapper)
    assert torch.isfinite(torch.as_tensor(log_vars['loss']))
    # parameters stay fp32 (autocast casts per op) and every one moved
    for n, p in model.named_parameters():
        assert p.dtype == torch.float32, n
    moved = [
        n for n, p in model.named_parameters()
        if not torch.equal(p.detach(), before[n])
    ]
    assert len(moved) == len(before)


needs_cuda = pytest.mark.skipif(
    not torch.cuda.is_available(), reason='needs a CUDA device')


@pytest.fixture
def exact_fp32_cuda():
    """fp32 CUDA convolutions and products without TF32 (PyTorch lets
    cuDNN use TF32 by default), so CUDA can be compared with the CPU."""
    flags = (torch.backends.cudnn.allow_tf32,
             torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    yield
    (torch.backends.cudnn.allow_tf32,
     torch.backends.cuda.matmul.allow_tf32) = flags


@needs_cuda
@pytest.mark.parametrize('name,neck', CASES)
def test_cuda_matches_cpu(name, neck, exact_fp32_cuda):
    # the same weights and clip on both devices: the rollout and the
    # gradients of every parameter agree to fp32 rounding
    cpu = build(name, neck)
    gpu = build(name, neck).cuda()
    results = []
    for model, x in ((cpu, clip()), (gpu, clip().cuda())):
        out = model(x, mode='tensor')
        out.square().mean().backward()
        results.append((out, {n: p.grad for n, p in model.named_parameters()}))
    (out_cpu, grads_cpu), (out_gpu, grads_gpu) = results
    assert rel_error(out_gpu.cpu(), out_cpu) < 1e-4
    for n, g in grads_cpu.items():
        # (PredRNN-v2's decoupling adapters serve only its training loss)
        assert (g is None) == (grads_gpu[n] is None), n
        if g is not None:
            assert rel_error(grads_gpu[n].cpu(), g) < 1e-3, n


@needs_cuda
@pytest.mark.parametrize('name,neck', CASES)
@pytest.mark.parametrize('dtype', ['float16', 'bfloat16'])
def test_cuda_train_step_with_amp_wrapper(name, neck, dtype):
    model = build(name, neck).cuda()
    wrapper = DeviceAmpOptimWrapper(
        optimizer=torch.optim.Adam(model.parameters(), lr=1e-3),
        device='cuda',
        dtype=dtype)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    data = dict(
        inputs=list((clip() * 255).to(torch.uint8).view(2, 5, 1, 8, 8)))
    # fp16 skips steps while its loss scale (65536 at first) overflows the
    # gradients, halving the scale each time: E3D-LSTM needs ~8 steps here
    # (1 fp16 step after 7 skips, as emulated on the CPU)
    for _ in range(16):
        log_vars = model.train_step(data, wrapper)
        assert torch.isfinite(torch.as_tensor(log_vars['loss']))
        moved = [
            n for n, p in model.named_parameters()
            if not torch.equal(p.detach(), before[n])
        ]
        if moved:
            break
    for n, p in model.named_parameters():
        assert p.dtype == torch.float32 and p.is_cuda, n
    assert len(moved) == len(before)


def warp_inputs(seed=0, h=16, w=16, c=16, k=3):
    g = torch.Generator().manual_seed(seed)
    n = k * k
    feat = torch.randn(2, c, h, w, generator=g)
    offsets = 3.4 * torch.randn(2, 2 * n, h, w, generator=g)
    mask = torch.rand(2, n, h, w, generator=g)
    weight = torch.randn(c, c, k, k, generator=g)
    return feat, offsets, mask, weight


def test_warp_samples_in_fp32_under_autocast(monkeypatch):
    feat, offsets, mask, weight = warp_inputs()
    seen = []
    grid_sample = warp_module.F.grid_sample

    def spy(inp, grid, *args, **kwargs):
        seen.append((inp.dtype, grid.dtype))
        return grid_sample(inp, grid, *args, **kwargs)

    monkeypatch.setattr(warp_module.F, 'grid_sample', spy)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        # E is a conv output, so bf16 under autocast; F (offsets) fp32
        out = deform_warp(
            feat.bfloat16(),
            offsets,
            mask.bfloat16(),
            weight,
            impl='grid_sample')
    assert seen == [(torch.float32, torch.float32)]
    assert torch.isfinite(out).all()


@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_warp_under_autocast_close_to_fp32(dtype):
    # Sampling positions rounded to bf16 (what casting the grid to E's
    # dtype did) gave 1.7% output and 17-23% offset-gradient error here;
    # fp32 sampling leaves only the contraction's rounding (0.4% / 0.4%).
    feat, offsets, mask, weight = warp_inputs()
    offsets.requires_grad_(True)
    ref = deform_warp(feat, offsets, mask, weight, impl='grid_sample')
    g_ref, = torch.autograd.grad(ref.square().sum(), offsets)
    with torch.autocast('cpu', dtype=dtype):
        out = deform_warp(
            feat.to(dtype),
            offsets,
            mask.to(dtype),
            weight,
            impl='grid_sample')
        g_out, = torch.autograd.grad(out.float().square().sum(), offsets)
    assert g_out.dtype == torch.float32
    tol = 0.008 if dtype == torch.bfloat16 else 0.001
    assert rel_error(out, ref) < tol
    assert rel_error(g_out, g_ref) < 1.5 * tol


def test_lerp_promotes_mixed_dtypes():
    start = torch.randn(3, 4)
    end = torch.randn(3, 4).bfloat16()
    weight = torch.rand(3, 4).bfloat16()
    out = lerp(start, end, weight)
    assert out.dtype == torch.float32
    want = weight.float() * end.float() + (1 - weight.float()) * start
    torch.testing.assert_close(out, want, rtol=1e-6, atol=1e-6)
    # exact for binary weights, as the scheduled-sampling mask is
    binary = torch.tensor([0., 1., 1., 0.])
    torch.testing.assert_close(
        lerp(start, end.float(), binary),
        torch.where(binary.bool(), end.float(), start),
        rtol=0,
        atol=0)
    assert lerp(start, start + 1, 0.5).dtype == torch.float32
