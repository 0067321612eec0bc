# A small MotionRNN-PredRNN that learns visibly in minutes on 2 CPU cores,
# on clips of the V-MNIST generator drawn with the embedded glyph digits
# (no download). It is a demo, not a paper setting: one digit per clip that
# moves without rotating or scaling (vmnist-v1: two digits that also turn
# and scale), 5 -> 5 frames instead of 10 -> 10, 2 layers x 32 channels
# with 3x3 kernels, batch 8, bf16 autocast and a short schedule. The
# walk-through, with the printout explained, is
# docs/en/get_started/quick_run.md.
_base_ = [
    './_base_/models/motionrnn_predrnn_4x64_p4.py',
    './_base_/datasets/vmnist_v1_10to10.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

_iters = 1200
# one digit that moves in a straight line and bounces off the borders:
# rotation and scaling are off (vmnist-v1 turns and scales the digits too)
_clip = dict(
    digit_source='glyphs',
    num_digits=1,
    in_frames=5,
    out_frames=5,
    omega_range=(0.0, 0.0),
    scale_rate_range=(0.0, 0.0))

model = dict(
    in_frames=5,
    out_frames=5,
    backbone=dict(num_layers=2, hidden_channels=32, kernel_size=3),
    neck=dict(kernel_size=3),
    # MSE plus an L1 term: the L1 term pushes the black background to
    # exactly black (a faint haze there costs little MSE but much SSIM).
    # Weight 0.3 from a sweep of 1200-iteration runs (quick_run.md): 0.1
    # left SSIM below the all-black prediction's, 0.5 traded too much MSE
    # for SSIM, and at 1.0 the fading digit went black as well
    loss=dict(type='L1L2Loss', l1_weight=0.3, l2_weight=1.0),
    # teacher forcing fades out over the first 300 iterations
    sampling=dict(mode='linear', start=1.0, rate=1 / 300, stop_iter=300))

train_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(num_samples=20000, **_clip))
val_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(num_samples=32, **_clip))
test_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(num_samples=96, **_clip))

# The test also scores two naive predictions with the same functions (MSE,
# SSIM and PSNR):
# all-black frames (`_zeros` keys) and copies of the last input frame
# (`_copy_last` keys). On sparse digit frames all black is the harder bar
# for SSIM, copy-last the one a model that learnt no motion would reach.
test_evaluator = [
    dict(type='MSEMetric', prefix='vmnist', baselines=('zeros', 'copy_last')),
    dict(type='SSIMMetric', prefix='vmnist', baselines=('zeros', 'copy_last')),
    dict(type='PSNRMetric', prefix='vmnist', baselines=('zeros', 'copy_last')),
]

# bf16 autocast (on the CPU too) through the AMP flavour of the base's
# wrapper; Adam at 2e-3, decayed to 1e-4 along a cosine
optim_wrapper = dict(
    type='NonFiniteSkipAmpOptimWrapper',
    dtype='bfloat16',
    optimizer=dict(lr=2e-3))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=_iters,
        eta_min=1e-4,
        by_epoch=False,
        begin=0,
        end=_iters)
]
train_cfg = dict(max_iters=_iters, val_interval=_iters)
default_hooks = dict(
    logger=dict(interval=50), checkpoint=dict(interval=_iters))
