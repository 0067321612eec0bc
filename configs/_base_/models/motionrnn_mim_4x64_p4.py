# MotionRNN on MIM: 3 MotionGRUs + highway in all 4 layers, as released for
# PredRNN (model_equations.md#other-backbones); +804,417 parameters. The MIM-N
# differences use the fused H^0.
_base_ = './mim_4x64_p4.py'

model = dict(
    neck=dict(
        type='MotionRNNNeck',
        neighbour=3,
        kernel_size=5,
        momentum=0.5,
        use_highway=True,
        use_motion_gru=True,
        use_trend=True,
        use_transient=True))
