# Runtime shared by every mmvp config.
default_scope = 'mmvp'

# Checkpoints are written atomically and never with NaN/Inf weights; they
# are read (local files and URLs) with torch.load(weights_only=True) and
# mmvp's allow-list, and must fit the model (mmvp/engine/runner).
runner_type = 'SafeCheckpointRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # new checkpoint and last_checkpoint replaced atomically, outdated ones
    # deleted only afterwards: a kill at any moment leaves one to resume
    checkpoint=dict(
        type='SafeCheckpointHook',
        by_epoch=False,
        interval=5000,
        max_keep_ckpts=3,
        save_last=True),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    # tools/test.py --show-dir DIR turns this on
    visualization=dict(type='VideoPredVisualizationHook', enable=False),
    # RNG states (torch, CUDA, numpy, random) in checkpoints, restored on
    # resume: a resumed run ends with the weights of an uninterrupted one
    rng_state=dict(type='RNGStateHook'),
    # the optimizer wrapper (NonFiniteSkipOptimWrapper, in the schedule)
    # never applies the update of a NaN/Inf loss; this hook logs it and
    # stops training (the last checkpoint stays finite), or with
    # optim_wrapper.skip_nonfinite=True counts the skipped batches
    nonfinite_loss=dict(type='NonFiniteLossHook'),
    # a train/val/test loader that yields no batch (e.g. fewer clips than
    # batch_size with drop_last=True) stops the run before it starts
    dataloader_check=dict(type='DataloaderCheckHook'),
)

env_cfg = dict(
    # cuDNN times its convolution algorithms once per shape and keeps the
    # fastest; the shapes here are fixed. On an H200, batch 8, a PredRNN
    # step took 37.5 ms with it and 50.7 ms without (docs/en/benchmarks.md).
    # No effect on CPU.
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # timeout (s) of collective operations: a rank that hangs or dies
    # outside torchrun's supervision makes the others fail after this long
    # instead of waiting forever (used for nccl and, on CPU, gloo)
    dist_cfg=dict(backend='nccl', timeout=1800),
)

# The predictor runs its own training step (reverse_input makes two
# updates), and every parameter gets a gradient at every step.
model_wrapper_cfg = dict(
    type='mmvp.VideoPredictorDDP', find_unused_parameters=False)

vis_backends = [dict(type='LocalVisBackend')]
# add dict(type='TensorboardVisBackend') to log to TensorBoard as well
visualizer = dict(
    type='VideoPredVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0)

# Batch sizes in configs are per GPU; base_batch_size is the total batch the
# reference numbers were trained with (1 GPU x 8). Enable with --auto-scale-lr.
auto_scale_lr = dict(enable=False, base_batch_size=8)
