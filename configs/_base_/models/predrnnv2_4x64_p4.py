# PredRNN-v2, 4 layers x 64 channels (the MotionRNN width; official v2
# scripts use 128), filter 5, patch 4 (model_equations.md#predrnn-v2).
# 6,414,336 parameters at Human3.6M settings.
model = dict(
    type='VideoPredictor',
    data_preprocessor=dict(type='VideoPredDataPreprocessor', patch_size=4),
    backbone=dict(
        type='PredRNNv2',
        num_layers=4,
        hidden_channels=64,
        kernel_size=5,
        decouple_beta=0.1),
    # MSE + decouple_beta * memory-decoupling loss (added by the backbone)
    loss=dict(type='MSELoss'),
    img_channels=1,
    in_frames=10,
    out_frames=10,
    # reverse scheduled sampling of PredRNN-v2 (1.5)
    sampling=dict(
        mode='reverse', start_iter=25000, stop_iter=50000, alpha=5000),
    reverse_input=False,
    init_state='zeros',
    # NHWC conv weights/activations: faster on oneDNN and tensor cores
    channels_last=True,
)
