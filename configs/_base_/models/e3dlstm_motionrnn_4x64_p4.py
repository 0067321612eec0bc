# MotionRNN on E3D-LSTM (model_equations.md#3-d-motiongru-for-e3d-lstm): 3
# MotionGRUs whose encoder and decoder are 3-D (Conv3d (tau, 5, 5) stride (tau,
# 2, 2) down to a 2-D map, ConvTranspose3d back to the window) + the highway in
# all 4 layers. With temporal_kernel=3: 21,321,281 conv parameters at Human3.6M
# settings (the paper's 21.3M).
_base_ = './e3dlstm_4x64_p4.py'

model = dict(
    neck=dict(
        type='MotionRNNNeck3D',
        window_length=2,  # must equal the backbone's
        neighbour=3,
        kernel_size=5,
        momentum=0.5,
        use_highway=True,
        use_motion_gru=True,
        use_trend=True,
        use_transient=True))
