# MotionRNN on PredRNN on Human3.6M, MIM protocol (Walking, 128 x 128 RGB, 4 ->
# 4; dataset_protocols.md#protocol-mim), the paper's settings (Sec. 4, Table
# 1): patch 4, 4 x 64 channels, filter 5, batch 8 per GPU, Adam 3e-4, 100k
# iterations (the official human script stops at 80k), reverse_input=True as in
# human_script/MotionRNN_PredRNN_human_train.sh, MSE loss as in the official
# code (the paper says L1+L2: set loss=dict(type='L1L2Loss')).
_base_ = [
    './_base_/models/motionrnn_predrnn_4x64_p4.py',
    './_base_/datasets/h36m_mim_walking128_4to4.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(img_channels=3, in_frames=4, out_frames=4, reverse_input=True)
