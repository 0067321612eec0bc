# MotionRNN on PredRNN on Human3.6M, OpenSTL protocol (all actions, full frame
# 256 x 256 RGB, 4 -> 4, clips from OpenSTL's meta lists;
# dataset_protocols.md#protocol-openstl). A second benchmark with its own
# metric prefix 'h36m_openstl256': never compare it with the paper's Table 2
# (MIM protocol, 128 x 128). Training settings as
# configs/motionrnn_predrnn_h36m.py.
_base_ = [
    './_base_/models/motionrnn_predrnn_4x64_p4.py',
    './_base_/datasets/h36m_openstl256_4to4.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(img_channels=3, in_frames=4, out_frames=4, reverse_input=True)
