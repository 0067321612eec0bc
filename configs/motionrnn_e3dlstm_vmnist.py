# MotionRNN on E3D-LSTM, V-MNIST, paper settings (Sec. 4, Table 5).
# Temporal kernel 3 to match the paper's Table 2 size (see the base model);
# MSE loss as in the official MotionRNN code (the paper says L1+L2: set
# loss=dict(type='L1L2Loss')).
_base_ = [
    './_base_/models/e3dlstm_motionrnn_4x64_p4.py',
    './_base_/datasets/vmnist_v1_10to10.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(img_channels=1, in_frames=10, out_frames=10)
