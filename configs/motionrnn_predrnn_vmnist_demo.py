# A tiny MotionRNN-PredRNN that trains, validates and tests on 2 CPU cores in
# a few minutes, on V-MNIST drawn with the embedded glyph digits (no
# download). It is a smoke-sized demo, not a paper setting: 2 layers x 32
# channels, 3x3 kernels, a short scheduled-sampling ramp and lr 1e-3.
# The test prints the MSE next to the copy-last-input-frame baseline.
_base_ = [
    './_base_/models/motionrnn_predrnn_4x64_p4.py',
    './_base_/datasets/vmnist_v1_10to10.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(
    backbone=dict(num_layers=2, hidden_channels=32, kernel_size=3),
    neck=dict(kernel_size=3),
    # teacher forcing fades out over the first 200 iterations
    sampling=dict(mode='linear', start=1.0, rate=1 / 200, stop_iter=200))

train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    dataset=dict(digit_source='glyphs', num_samples=4000))
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(digit_source='glyphs', num_samples=32))
test_dataloader = dict(
    batch_size=8,
    num_workers=1,
    dataset=dict(digit_source='glyphs', num_samples=96))

test_evaluator = [
    dict(type='MSEMetric', prefix='vmnist', copy_last_baseline=True),
    dict(type='SSIMMetric', prefix='vmnist'),
    dict(type='PSNRMetric', prefix='vmnist'),
]

optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_iters=300, val_interval=150)
default_hooks = dict(
    logger=dict(interval=25), checkpoint=dict(interval=150, max_keep_ckpts=2))
