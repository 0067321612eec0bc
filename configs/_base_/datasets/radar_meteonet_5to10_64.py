# MeteoNet reflectivity (Meteo-France, open) as a substitute for the paper's
# Shanghai radar (see docs/en/advanced_guides/dataset_protocols.md#meteonet): 5
# -> 10 maps 10 min apart (every 2nd 5-min scan; the paper's cadence is 12
# min), windows without missing scans, x = clip((dBZ + 10) / 70, 0, 1) (HKO
# convention, dbz_encoding='hko'), missing and no-echo pixels -> 0, centre 512
# x 512 of the 565 x 784 NW grid, 64 x 64 by cv2 INTER_AREA. Split by year:
# 2016-2017 train, first months of 2018 validation, the rest of 2018 test (old
# product). Substitute data: never compare these numbers with Table 4.
dataset_type = 'MeteoNetDataset'
data_root = 'data/meteonet/NW/reflectivity_old_product'
_clip = dict(in_frames=5, out_frames=10, frame_step=2)
_data = dict(type=dataset_type, data_root=data_root, product='old', **_clip)

train_pipeline = [
    dict(type='ArrayDecode', out_key='radar_values'),
    dict(type='EncodeRadarFrames'),
    dict(type='CenterCropFrames', crop_size=512),
    dict(type='ResizeFrames', scale=64, interpolation='area'),
    dict(
        type='PackVideoPredInputs',
        meta_keys=('sample_idx', 'in_frames', 'out_frames', 'split',
                   'protocol', 'source', 'start_frame', 'dbz_encoding')),
]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        **_data,
        split='train',
        file_patterns=['**/*_2016_*.npz', '**/*_2017_*.npz'],
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        **_data,
        split='valid',
        file_patterns=['**/*_2018_0[1-3].*.npz'],
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
        split='test',
        file_patterns=['**/*_2018_0[4-9].*.npz', '**/*_2018_1[0-2].*.npz'],
        test_mode=True,
        pipeline=test_pipeline))

_prefix = 'radar_meteonet'
# CSI at 30/40/50 dBZ through the dataset's dbz_encoding (sample metainfo);
# 'global' reduction (HKO-7 style, see
# docs/en/advanced_guides/metric_conventions.md#csi-pod-far-and-hss-radar). For
# the official batch-pooled CSI use reduction='batch_pooled_official' with the
# test batch size 8.
val_evaluator = [
    dict(type='MSEMetric', prefix=_prefix),
    dict(type='SSIMMetric', prefix=_prefix),
    dict(type='GDLMetric', prefix=_prefix),
    dict(
        type='CSIMetric',
        thresholds=(30, 40, 50),
        reduction='global',
        prefix=_prefix),
]
test_evaluator = val_evaluator
