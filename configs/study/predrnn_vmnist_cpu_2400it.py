# The CPU study's predrnn_vmnist_cpu.py with six times the budget: 2400
# iterations, with teacher forcing, the cosine decay, validation and the
# checkpoint scaled with it (docs/en/cpu_study.md, "2400 iterations").
_base_ = './predrnn_vmnist_cpu.py'

_iters = 2400

model = dict(
    sampling=dict(rate=1 / (0.4 * _iters), stop_iter=int(0.4 * _iters)))
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
default_hooks = dict(checkpoint=dict(interval=_iters))
