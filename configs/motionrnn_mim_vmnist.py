# MotionRNN on MIM, V-MNIST, paper settings (Sec. 4, Table 5).
# Reproduction notes (configs/README.md): MSE loss as in the official code
# (the paper says L1+L2: set loss=dict(type='L1L2Loss')); learning rate 1.0x
# on the MotionGRU (the official 0.1x hooks had no effect).
_base_ = [
    './_base_/models/motionrnn_mim_4x64_p4.py',
    './_base_/datasets/vmnist_v1_10to10.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(
    img_channels=1,
    in_frames=10,
    out_frames=10,
    # hidden resolution of the Hadamard peepholes: 64 / patch 4
    backbone=dict(input_size=(16, 16)))
