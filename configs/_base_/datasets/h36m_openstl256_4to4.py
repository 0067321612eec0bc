# Human3.6M, protocol 'openstl' (OpenSTL / STRPM meta lists; see
# docs/en/advanced_guides/dataset_protocols.md#protocol-openstl):
# a second benchmark, not the paper's. All actions, clips listed in
# train.txt / test.txt (images/<prefix>_,<b>,<b+70>), frames (b - 1) + 5k
# (every stored image, 0.1 s), no crop, full frame to 256 x 256 with cv2
# INTER_LINEAR, RGB (OpenSTL itself feeds BGR), 4 -> 4 frames. The lists
# split clips at random: every subject is in both sets
# (dataset_protocols.md#pitfall-subject-split).
dataset_type = 'H36MDataset'
data_root = 'data/h36m'  # S1/Videos/<Action>.<camera>.mp4 ... S11/Videos
# OpenSTL's tools/prepare_data/meta/human/{train,test}.txt, relative to
# data_root
train_list = 'openstl_meta/train.txt'
test_list = 'openstl_meta/test.txt'
# From a frame cache (h36m_frame_cache.py --protocol openstl): set
# source='cache', cache_dir=..., cache_params=dict(crop_border_ratio=None,
# scale=256, interpolation='linear') in the datasets and use the pipeline
# [FrameCacheDecode, PackVideoPredInputs] (the cache is already resized).
source = 'video'

_clip = dict(in_frames=4, out_frames=4)
_data = dict(
    type=dataset_type,
    data_root=data_root,
    protocol='openstl',
    source=source,
    **_clip)

train_pipeline = [
    dict(type='DecordDecode'),
    dict(type='ResizeFrames', scale=256, interpolation='linear'),
    dict(type='PackVideoPredInputs'),
]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        **_data, ann_file=train_list, split='train', pipeline=train_pipeline))
# The protocol has no held-out validation set: validation monitors the fit
# on the first 1,000 training clips.
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **_data,
        ann_file=train_list,
        split='train',
        indices=1000,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **_data,
        ann_file=test_list,
        split='test',
        test_mode=True,
        pipeline=test_pipeline))

_prefix = 'h36m_openstl256'
val_evaluator = [
    dict(type='MSEMetric', scaled_keys=True, prefix=_prefix),
    dict(type='MAEMetric', scaled_keys=True, prefix=_prefix),
    dict(type='SSIMMetric', prefix=_prefix),
    dict(type='PSNRMetric', prefix=_prefix),
]
test_evaluator = val_evaluator
