# Copyright (c) mmvp contributors. All rights reserved.
import torch
import torch.nn as nn


class MotionHighway(nn.Module):
    """The Motion Highway (model_equations.md#motion-highway, paper Eq. 1).

    ``H^l = o * tanh(.) + (1 - o) * V``: the cell output plus the part its
    output gate closed, taken from the layer below's raw output ``V``. At
    layer 0, ``V`` is a 1x1 bias-free projection of the input frame
    (``conv_first_v`` in the official code), reseeded every step.

    Args:
        in_channels (int): Channels of one input frame.
        hidden_channels (int): Hidden channels of the stack.
        seed_from_input (bool): Project the input frame to seed layer 0's
            highway (official). False: layer 0 gets no highway and seeds it.
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 seed_from_input: bool = True):
        super().__init__()
        self.seed_from_input = seed_from_input
        if seed_from_input:
            self.conv_first_v = nn.Conv2d(
                in_channels, hidden_channels, 1, bias=False)

    def seed(self, frame: torch.Tensor):
        return self.conv_first_v(frame) if self.seed_from_input else None

    @staticmethod
    def merge(h: torch.Tensor, o: torch.Tensor,
              highway: torch.Tensor) -> torch.Tensor:
        # h + (1 - o) * V, with the add fused into the multiply
        return torch.addcmul(h, 1 - o, highway)
