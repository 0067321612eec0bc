# Human3.6M, protocol 'mim' (MIM / MotionRNN; see
# docs/en/advanced_guides/dataset_protocols.md#protocol-mim): Walking only
# (all 4 cameras), train S1 S5 S6 S7 S8 / test S9 S11, stored images = every
# 5th video frame, clip frames every 2nd stored image (10 raw frames, 0.2 s),
# clip starts every 10 (train) / 5 (test) stored images, centre-half crop
# [H//4 : H - H//4, W//4 : W - W//4], cv2 INTER_LINEAR to 128 x 128, RGB,
# 4 -> 4 frames.
# Frames are decoded from the official S*/Videos/*.mp4; the published numbers
# came from re-encoded JPEGs, so expect small metric shifts
# (dataset_protocols.md#pitfall-re-encoded-jpegs).
# The same clips from a frame cache (decoded, cropped and resized once by
# tools/dataset_converters/h36m_frame_cache.py):
# h36m_mim_walking128_4to4_cache.py.
dataset_type = 'H36MDataset'
data_root = 'data/h36m'  # S1/Videos/<Action>.<camera>.mp4 ... S11/Videos
# 'jpeg' reads the flat JPEG folder of the original code (image_dir=...,
# with FrameFolderDecode as the decode step).
source = 'video'

_clip = dict(in_frames=4, out_frames=4)
_data = dict(
    type=dataset_type,
    data_root=data_root,
    protocol='mim',
    source=source,
    **_clip)

train_pipeline = [
    dict(type='DecordDecode'),  # OpenCV when decord cannot read a video
    dict(type='CenterCropFrames', border_ratio=0.25),
    dict(type='ResizeFrames', scale=128, interpolation='linear'),
    dict(type='PackVideoPredInputs'),
]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(**_data, split='train', pipeline=train_pipeline))
# Human3.6M has no validation split and the paper trains on all five
# training subjects, so validation only monitors the fit on S8's training
# clips at the test stride. For held-out model selection train with
# subjects=['S1', 'S5', 'S6', 'S7'] and keep this S8 split.
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **_data,
        split='train',
        subjects=['S8'],
        clip_stride=5,
        test_mode=True,
        pipeline=test_pipeline))
# Parity with the official test loop
# (dataset_protocols.md#pitfall-dropped-last-batch): batch 8, in order, the
# partial last batch dropped. Metrics depend on which clips
# are dropped; drop_last=False evaluates every clip.
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **_data, split='test', test_mode=True, pipeline=test_pipeline))

# Paper Table 1 / 3 columns: MSE/10 (mse_div10), MAE/100 (mae_div100) and SSIM
# (MSE and MAE are per-frame sums over pixels and channels, see
# docs/en/advanced_guides/metric_conventions.md); PSNR in addition. FVD (Table
# 1) is not computed here.
_prefix = 'h36m_mim128'
val_evaluator = [
    dict(type='MSEMetric', scaled_keys=True, prefix=_prefix),
    dict(type='MAEMetric', scaled_keys=True, prefix=_prefix),
    dict(type='SSIMMetric', prefix=_prefix),
    dict(type='PSNRMetric', prefix=_prefix),
]
test_evaluator = val_evaluator
