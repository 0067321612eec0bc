# PredRNN++ (Causal LSTM + gradient highway unit), 4 layers x 64 channels,
# filter 5, patch 4 (model_equations.md#causal-lstm-and-ghu-predrnn). 9,277,440
# parameters at Human3.6M settings.
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='PredRNNpp', num_layers=4, hidden_channels=64, kernel_size=5),
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
