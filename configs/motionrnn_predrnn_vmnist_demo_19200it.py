# The demo (motionrnn_predrnn_vmnist_demo.py) with 16 times its budget:
# 19200 iterations, 64 minutes of training on 2 CPU cores. Teacher
# forcing, the cosine decay, validation and checkpoints are scaled with
# it. It answers the question the 5-minute demo leaves open: at what
# budget the digit stays visible to the last predicted frame
# (docs/en/get_started/quick_run.md, "19200 iterations: the digit to the
# last frame"); its weights-only checkpoint is in checkpoints/demo.
_base_ = './motionrnn_predrnn_vmnist_demo.py'

_iters = 19200

model = dict(
    sampling=dict(rate=1 / (0.25 * _iters), stop_iter=int(0.25 * _iters)))
param_scheduler = [
    dict(
        type='CosineAnnealingLR',
        T_max=_iters,
        eta_min=1e-4,
        by_epoch=False,
        begin=0,
        end=_iters)
]
train_cfg = dict(max_iters=_iters, val_interval=_iters // 8)
default_hooks = dict(checkpoint=dict(interval=_iters // 8))
