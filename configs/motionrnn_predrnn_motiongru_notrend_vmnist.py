# Paper Table 3 ablation row "+MotionGRU w/o momentum" on V-MNIST
# (model_equations.md#ablation-switches; the full model is
# motionrnn_predrnn_vmnist.py and the plain backbone predrnn_vmnist.py).
_base_ = './motionrnn_predrnn_vmnist.py'

model = dict(neck=dict(use_highway=False, use_trend=False))
