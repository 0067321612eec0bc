# MotionRNN on PredRNN as released: 3 MotionGRUs + highway in all 4 layers
# (model_equations.md#motionrnn-on-predrnn-step-by-step). 7,214,657 parameters
# at Human3.6M settings.
_base_ = './predrnn_4x64_p4.py'

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
