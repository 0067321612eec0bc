# E3D-LSTM, 4 layers x 64 channels, filter 5, patch 4, window tau = 2
# (model_equations.md#e3d-lstm).
# temporal_kernel=3 (kernel (3, 5, 5), TF "same" temporal padding 1 + 1):
# the MotionRNN paper's Table 2 size (20.4M/292G) is only reproduced by a
# temporal kernel of 3 (reproduction_notes.md#model-sizes); the E3D and OpenSTL
# releases use 2 (13.6M at Human3.6M settings). Set temporal_kernel=2 for
# the released architecture.
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='E3DLSTM',
        num_layers=4,
        hidden_channels=64,
        kernel_size=5,
        window_length=2,
        temporal_kernel=3,
        # always-on normalisation of the recall path: E3D's per-sample
        # layer norm with per-channel affine ('full' = OpenSTL's LayerNorm)
        norm_type='channel',
        layer_norm=False,
        # True reproduces the released code, whose global memory M never
        # leaves its zero init
        legacy_memory_bug=False),
    # official MotionRNN code: MSE; the paper's L1+L2 is dict(type='L1L2Loss')
    loss=dict(type='MSELoss'),
    img_channels=1,
    in_frames=10,
    out_frames=10,
    # PredRNN linear scheduled sampling as in the official scripts (1.4)
    sampling=dict(mode='linear', start=1.0, rate=2e-5, stop_iter=50000),
    reverse_input=False,
    init_state='zeros',
    # NHWC storage does not pay for the 3-D convolutions on CPU (measured
    # 0.99x fp32, 1.06x bf16 step time; docs/en/benchmarks.md): left off
    channels_last=False,
)
