# Copyright (c) mmvp contributors. All rights reserved.
from abc import ABCMeta, abstractmethod
from typing import List, Optional, Tuple

import torch
import torch.nn as nn


def _is_channels_last(x: torch.Tensor) -> bool:
    """Whether 4-D ``x`` is stored channels-innermost (NHWC), including
    per-frame views of a channels_last clip."""
    return x.dim() == 4 and x.shape[1] > 1 and x.stride(1) == 1 and \
        not x.is_contiguous()


def new_state(shape: Tuple[int, ...], like: torch.Tensor,
              mode: str) -> torch.Tensor:
    """A recurrent state tensor sized from the input.

    ``mode='zeros'`` (default everywhere) or ``'xavier_normal'``, the
    official MotionRNN draw (model_equations.md#initial-states):
    for ``[B, C, H, W]`` the std is ``sqrt(2 / ((B + C) * H * W))``.
    """
    if mode == 'zeros':
        state = like.new_zeros(shape)
    elif mode == 'xavier_normal':
        state = nn.init.xavier_normal_(like.new_empty(shape))
    else:
        state = None
    if state is not None:
        if len(shape) == 4 and _is_channels_last(like):
            # keep the layout of channels_last inputs (same values)
            state = state.contiguous(memory_format=torch.channels_last)
        return state
    raise ValueError(f"init_state must be 'zeros' or 'xavier_normal', "
                     f'got {mode!r}')


class BaseRecurrentStack(nn.Module, metaclass=ABCMeta):
    """A stack of ``num_layers`` recurrent cells and a 1x1 prediction head.

    The stack owns one time step; the predictor owns the time loop. The
    per-step data flow is the same for every backbone
    (model_equations.md#motion-highway)::

        v = neck.begin_step(x_t)                  # highway seed (or None)
        for l in layers:
            h_pre, o = layer_step(l, inp, state)  # backbone-specific cell
            h, v = neck.after_layer(l, h_pre, o, v)  # highway + MotionGRU
            state['h'][l] = h                     # fused X replaces H^l
            inp = next_input(l, h, state)
        x_hat_{t+1} = head(inp)

    Subclasses implement :meth:`layer_step`, extend :meth:`init_state`
    with their own states (and override :meth:`next_input` when something
    sits between layers, like PredRNN++'s gradient highway unit).

    Args:
        in_channels (int): Channels of one (patchified) input frame.
        hidden_channels (int): Hidden channels of every layer.
        num_layers (int): Number of stacked cells.
        kernel_size (int): Gate convolution kernel of the cells.
        out_channels (int, optional): Channels of the predicted frame;
            defaults to ``in_channels``.

    Subclasses take these as keyword arguments (``**kwargs``) besides
    their own.
    """

    #: The number of spatial dims of hidden states (2, or 3 for E3D-LSTM).
    spatial_dims = 2
    #: The fewest layers the stack works with, and why (for the error).
    min_layers = 1
    min_layers_reason = ''
    #: Whether the state has the spatiotemporal memory ``M`` (PredRNN and
    #: the backbones built on its ST-LSTM).
    has_memory = False

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int = 64,
                 num_layers: int = 4,
                 kernel_size: int = 5,
                 out_channels: Optional[int] = None):
        super().__init__()
        if num_layers < self.min_layers:
            raise ValueError(
                f'{type(self).__name__} needs num_layers >= '
                f'{self.min_layers}{self.min_layers_reason}, got {num_layers}')
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.out_channels = out_channels or in_channels
        self.head = nn.Conv2d(
            hidden_channels, self.out_channels, 1, bias=False)

    def build_cells(self, cell: type, **kwargs) -> nn.ModuleList:
        """One ``cell(in, hidden_channels, kernel_size=kernel_size,
        **kwargs)`` per layer: layer 0 reads the frame (``in_channels``),
        layer ``l > 0`` the hidden state of layer ``l - 1``."""
        return nn.ModuleList([
            cell(
                self.in_channels if i == 0 else self.hidden_channels,
                self.hidden_channels,
                kernel_size=self.kernel_size,
                **kwargs) for i in range(self.num_layers)
        ])

    def state_shape(self, frame: torch.Tensor) -> Tuple[int, ...]:
        """The shape of one hidden state for a batch whose first frame is
        ``frame``: ``[B, hidden_channels, H, W]``."""
        b, _, h, w = frame.shape
        return (b, self.hidden_channels, h, w)

    def init_state(self, frame: torch.Tensor, mode: str = 'zeros') -> dict:
        """Initial state for a batch whose first frame is ``frame``.

        ``'h'`` and ``'c'``: one tensor per layer, drawn layer by layer
        with :func:`new_state` and used as both the hidden state and the
        cell of the layer, as in the official MotionRNN code; then
        ``'m'`` when :attr:`has_memory`. Subclasses add their own states
        to this dict.
        """
        shape = self.state_shape(frame)
        hs = [new_state(shape, frame, mode) for _ in range(self.num_layers)]
        state = dict(h=hs, c=list(hs))
        if self.has_memory:
            state['m'] = new_state(shape, frame, mode)
        return state

    @abstractmethod
    def layer_step(self, layer: int, inp: torch.Tensor,
                   state: dict) -> Tuple[torch.Tensor, torch.Tensor]:
        """Run cell ``layer`` on ``inp``; update ``state`` in place except
        ``state['h']``. Returns ``(h_pre, o)``: the cell output before the
        neck and the output gate the highway uses."""

    def aux_losses(self, state: dict) -> dict:
        """Auxiliary losses gathered in ``state`` during the rollout (e.g.
        PredRNN-v2's decoupling loss); none by default."""
        return {}

    def regions(self) -> List[nn.Module]:
        """The modules called once per layer and step: the units a regional
        ``torch.compile`` compiles one by one (``VideoPredictor(
        compile_regions=...)``). The cells by default; a backbone with
        more per-step modules (PredRNN++'s GHU, MIM's MIM-N) adds them.
        """
        cells = getattr(self, 'cells', None)
        if not isinstance(cells, nn.ModuleList):
            raise NotImplementedError(
                f'{type(self).__name__} keeps no nn.ModuleList `cells`: '
                'override regions() to list the modules it calls per layer '
                'and step')
        return list(cells)

    def next_input(self, layer: int, h: torch.Tensor,
                   state: dict) -> torch.Tensor:
        """The input of layer ``layer + 1`` (and of the head)."""
        return h

    def forward_step(self,
                     frame: torch.Tensor,
                     state: dict,
                     neck: Optional[nn.Module] = None,
                     neck_state=None):
        """One recurrent step: returns ``(x_hat, state, neck_state)``."""
        v = neck.begin_step(frame) if neck is not None else None
        inp = frame
        for layer in range(self.num_layers):
            h, o = self.layer_step(layer, inp, state)
            if neck is not None:
                h, v, neck_state = neck.after_layer(layer, h, o, v, neck_state)
            state['h'][layer] = h
            inp = self.next_input(layer, h, state)
        return self.head(inp), state, neck_state
