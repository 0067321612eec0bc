# Paper (Sec. 4): Adam, lr 3e-4, 100k iterations, no schedule, no clipping.
optim_wrapper = dict(
    type='OptimWrapper', optimizer=dict(type='Adam', lr=3e-4))
param_scheduler = []

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=100000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
