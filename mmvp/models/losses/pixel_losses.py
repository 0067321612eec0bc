# Copyright (c) mmvp contributors. All rights reserved.
"""Reconstruction losses (model_equations.md#training-loss).

The loss is computed in patch space, which equals the pixel-space loss
because patchify is a permutation.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvp.registry import MODELS


@MODELS.register_module()
class MSELoss(nn.Module):
    """Mean squared error, the official MotionRNN/PredRNN training loss."""

    def __init__(self, loss_weight: float = 1.0):
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * F.mse_loss(pred, target)


@MODELS.register_module()
class L1L2Loss(nn.Module):
    """``MSE(mean) + L1(mean)``: the paper's "L1 + L2" loss.

    Args:
        l1_weight (float): Weight of the L1 term.
        l2_weight (float): Weight of the L2 (MSE) term.
    """

    def __init__(self, l1_weight: float = 1.0, l2_weight: float = 1.0):
        super().__init__()
        self.l1_weight = l1_weight
        self.l2_weight = l2_weight

    def forward(self, pred: torch.Tensor,
                target: torch.Tensor) -> torch.Tensor:
        return (self.l2_weight * F.mse_loss(pred, target) +
                self.l1_weight * F.l1_loss(pred, target))
