# ConvLSTM, 4 layers x 64 channels, filter 5, patch 4
# (model_equations.md#convlstm). peephole='conv' (one extra 5x5 conv on the
# cell state per layer) gives the paper's Table 2 size: 4,406,272 parameters at
# Human3.6M settings. peephole=None is OpenSTL's ConvLSTM (3,177,472).
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='ConvLSTM',
        num_layers=4,
        hidden_channels=64,
        kernel_size=5,
        peephole='conv',
        forget_bias=0.0),
    # official code: MSE; the paper's L1+L2 is dict(type='L1L2Loss')
    loss=dict(type='MSELoss'),
    img_channels=1,
    in_frames=10,
    out_frames=10,
    # PredRNN linear scheduled sampling as in the official scripts (1.4)
    sampling=dict(mode='linear', start=1.0, rate=2e-5, stop_iter=50000),
    reverse_input=False,
    init_state='zeros',
    # NHWC conv weights/activations: faster on oneDNN and tensor cores
    channels_last=True,
)
