# Human3.6M, protocol 'mim', read from a frame cache: the clips and pixels
# of h36m_mim_walking128_4to4.py, decoded, cropped and resized once by
#   python tools/dataset_converters/h36m_frame_cache.py data/h36m \
#       data/h36m_cache_mim128
# The cache holds cropped and resized frames, so the pipeline has no crop
# or resize step; cache_params declares the geometry the cache must record
# (the dataset refuses a cache made otherwise).
_base_ = ['./h36m_mim_walking128_4to4.py']

cache_dir = 'data/h36m_cache_mim128'
cache_params = dict(crop_border_ratio=0.25, scale=128, interpolation='linear')
_cache = dict(source='cache', cache_dir=cache_dir, cache_params=cache_params)

train_pipeline = [
    dict(type='FrameCacheDecode'),
    dict(type='PackVideoPredInputs'),
]
test_pipeline = train_pipeline

train_dataloader = dict(dataset=dict(**_cache, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(**_cache, pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(**_cache, pipeline=test_pipeline))
