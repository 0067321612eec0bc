# MIM (ST-LSTM + 3 MIM blocks + 3 MIM-N), 4 layers x 64 channels, filter 5,
# patch 4 (model_equations.md#mim). input_size is the hidden resolution
# (frame size / patch) that the Hadamard peepholes are built for: (16, 16)
# for 64x64 frames, (32, 32) for 128x128. At Human3.6M settings: 9,789,440
# conv parameters + 1,179,648 peephole parameters.
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='MIM',
        num_layers=4,
        hidden_channels=64,
        kernel_size=5,
        input_size=(16, 16)),
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
