# V-MNIST, protocol vmnist-v1 (see
# docs/en/advanced_guides/dataset_protocols.md#protocol-vmnist-v1): 64x64
# grey, 10 -> 10, two MNIST digits that move, rotate and scale at once.
# Train: 100,000 sequences from MNIST train digits; test: 10,000 from t10k.
# Validation: 1,000 held-out sequences of train digits (own seed), so the
# test set is never used for model selection.
dataset_type = 'VMNISTDataset'
data_root = 'data/mnist'  # the four MNIST idx files (download_mnist.py)
digit_source = 'mnist'

train_pipeline = [dict(type='PackVideoPredInputs')]
test_pipeline = [dict(type='PackVideoPredInputs')]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        digit_source=digit_source,
        split='train',
        in_frames=10,
        out_frames=10,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        digit_source=digit_source,
        split='train',
        base_seed=20210,
        num_samples=1000,
        in_frames=10,
        out_frames=10,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        digit_source=digit_source,
        split='test',
        in_frames=10,
        out_frames=10,
        test_mode=True,
        pipeline=test_pipeline))

# Paper Table 5 columns: per-frame MSE (sum over pixels), SSIM, PSNR (+MAE).
val_evaluator = [
    dict(type='MSEMetric', prefix='vmnist'),
    dict(type='MAEMetric', prefix='vmnist'),
    dict(type='SSIMMetric', prefix='vmnist'),
    dict(type='PSNRMetric', prefix='vmnist'),
]
test_evaluator = val_evaluator
