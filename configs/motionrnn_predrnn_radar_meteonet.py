# MotionRNN on PredRNN on MeteoNet reflectivity, the open substitute for the
# paper's Shanghai radar (dataset_protocols.md#meteonet): 5 -> 10 maps 10 min
# apart, 64 x 64, HKO normalisation. Substitute data: the numbers are not
# comparable to the paper's Table 4. Training settings as
# configs/motionrnn_predrnn_radar.py.
_base_ = [
    './_base_/models/motionrnn_predrnn_4x64_p4.py',
    './_base_/datasets/radar_meteonet_5to10_64.py',
    './_base_/schedules/adam_lr3e4_100k.py',
    './_base_/default_runtime.py',
]

model = dict(img_channels=1, in_frames=5, out_frames=10)
