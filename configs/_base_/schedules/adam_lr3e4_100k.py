# Paper (Sec. 4): Adam, lr 3e-4, 100k iterations, no schedule, no clipping.
# fused=True: one multi-tensor kernel per step instead of ~10 per parameter
# (CPU and CUDA; same update up to rounding): 9 ms instead of 15-22 ms per
# step for the 4x64 models on CPU (docs/en/benchmarks.md).
# NonFiniteSkipOptimWrapper: the update of a NaN/Inf loss is skipped on
# the device (fused Adam is handed the flag). Training then stops (the
# NonFiniteLossHook reports it); optim_wrapper.skip_nonfinite=True goes on
# and stops after max_consecutive_skips (100) skipped iterations in a row.
# Its AMP flavour is NonFiniteSkipAmpOptimWrapper (train.py --amp).
optim_wrapper = dict(
    type='NonFiniteSkipOptimWrapper',
    optimizer=dict(type='Adam', lr=3e-4, fused=True))
param_scheduler = []

train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=100000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
