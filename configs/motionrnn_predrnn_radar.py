# MotionRNN on PredRNN on radar echo nowcasting at the paper's settings (Sec.
# 4, Table 4): 64 x 64 grey, 5 -> 10 frames, patch 4, 4 x 64 channels, filter
# 5, batch 8, Adam 3e-4, 100k iterations, MSE loss as in the official code. The
# Shanghai data are not public: point data_root at your own dBZ-encoded
# sequences (see the dataset base file), or use
# configs/motionrnn_predrnn_radar_meteonet.py for the open substitute.
_base_ = [
    './_base_/models/motionrnn_predrnn_4x64_p4.py',
    './_base_/datasets/radar_5to10_64.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(img_channels=1, in_frames=5, out_frames=10)
