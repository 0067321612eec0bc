# The demo (motionrnn_predrnn_vmnist_demo.py) tested on clips of another
# generator than the one it was trained on: seven-segment digits
# (digit_source='segments') instead of the font glyphs, and speeds drawn
# from 2-8 pixels per frame instead of vmnist-v1's 3-6. Everything else,
# the model and its training included, is the demo's; test a demo
# checkpoint with it (docs/en/get_started/quick_run.md).
_base_ = ['./motionrnn_predrnn_vmnist_demo.py']

test_dataloader = dict(
    dataset=dict(digit_source='segments', speed_range=(2.0, 8.0), base_seed=7))
