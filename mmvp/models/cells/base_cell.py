# Copyright (c) mmvp contributors. All rights reserved.
import torch.nn as nn


class BaseRecurrentCell(nn.Module):
    """Base of the gated ConvLSTM-family cells (ConvLSTM, ST-LSTM, Causal
    LSTM, MIM block, E3D-LSTM): the channel counts and the forget bias
    every one of them keeps, like PyTorch's ``RNNCellBase``. Creates no
    parameters, so the cells' parameter order is their own.

    Args:
        in_channels (int): Channels of the cell's input.
        hidden_channels (int): Channels of its hidden states.
        forget_bias (float): Added inside the sigmoid of its forget gates.
    """

    def __init__(self, in_channels: int, hidden_channels: int,
                 forget_bias: float):
        super().__init__()
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.forget_bias = forget_bias
