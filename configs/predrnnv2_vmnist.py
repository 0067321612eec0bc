# PredRNN-v2 on V-MNIST at the paper's settings (Sec. 4): 64x64, 10 -> 10,
# patch 4, 4 x 64 channels, filter 5, Adam 3e-4, batch 8, 100k iterations
# (model_equations.md#predrnn-v2).
# Reverse scheduled sampling (25k/50k/5000) and beta=0.1 as in the v2 code.
_base_ = [
    './_base_/models/predrnnv2_4x64_p4.py',
    './_base_/datasets/vmnist_v1_10to10.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(img_channels=1, in_frames=10, out_frames=10)
