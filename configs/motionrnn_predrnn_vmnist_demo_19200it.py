# The demo (motionrnn_predrnn_vmnist_demo.py) with 16 times its budget:
# 19200 iterations, about 70 minutes on 2 CPU cores. Teacher forcing, the
# cosine decay, validation and checkpoints are scaled with it. It answers
# the question the 5-minute demo leaves open: at what budget the digit
# keeps its shape to the last predicted frame
# (docs/en/get_started/quick_run.md, "Longer runs and other settings").
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
