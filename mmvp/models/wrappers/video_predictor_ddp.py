# Copyright (c) mmvp contributors. All rights reserved.
from mmengine.model import MMDistributedDataParallel

from mmvp.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class VideoPredictorDDP(MMDistributedDataParallel):
    """DDP wrapper that runs the predictor's own training step.

    ``VideoPredictor.train_step`` may make two optimiser updates per
    iteration (``reverse_input``); mmengine's wrapper would only make one.
    Every forward still goes through DDP, so gradients are synchronised.
    """

    def train_step(self, data, optim_wrapper):
        module = self.module
        if hasattr(module, 'train_step_with'):
            return module.train_step_with(self, data, optim_wrapper)
        return super().train_step(data, optim_wrapper)
