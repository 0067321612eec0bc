# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn

from mmvp.registry import MODELS
from ..cells import E3DLSTMCell
from .base_recurrent_stack import BaseRecurrentStack


@MODELS.register_module()
class E3DLSTM(BaseRecurrentStack):
    """E3D-LSTM: stacked eidetic 3-D LSTM cells (model_equations.md#e3d-lstm).

    The predictor hands over one 2-D frame ``[B, C', H', W']`` per step; the
    stack keeps the window of the last ``tau = window_length`` input frames
    ``[x_{t-tau+1}, ..., x_t]`` (oldest first, zeros before the start) in
    ``state['window']`` and runs the cells on it at every step
    (``window_stride`` 1). Per layer the state holds H and C
    (``[B, C, tau, H', W']``) and ``C_hist``: at step ``t`` the time
    concatenation ``[C_init, C_0, ..., C_{t-1}]``, unbounded as in the
    E3D-LSTM release. The global memory M is zigzag as in PredRNN.

    The head is ``Conv3d(C, C', kernel (tau, 1, 1), stride (tau, 1, 1))``
    without bias; its one output frame is returned as ``[B, C', H', W']``.
    A neck, if any, must be 3-D (e.g. :class:`MotionRNNNeck3D`): its
    ``begin_step`` receives the input window.

    Args:
        window_length (int): tau (2 in the E3D-LSTM release).
        temporal_kernel (int): k_t of the gate convs: 2 as released, 3
            reproduces the MotionRNN paper's Table 2 size
            (reproduction_notes.md#model-sizes).
        norm_type (str): ``'channel'`` (E3D-LSTM) or ``'full'`` (OpenSTL)
            for the always-on normalisation of the cell path.
        input_size (tuple[int], optional): ``(H', W')`` for ``'full'``.
        layer_norm (bool): Also normalise the W_x, W_h, W_m outputs.
        legacy_memory_bug (bool): Keep M at its init, as the E3D-LSTM and
            OpenSTL releases do.
        See :class:`BaseRecurrentStack` for the others.
    """

    has_memory = True
    spatial_dims = 3

    def __init__(self,
                 window_length: int = 2,
                 temporal_kernel: int = 2,
                 norm_type: str = 'channel',
                 input_size: Optional[Sequence[int]] = None,
                 layer_norm: bool = False,
                 legacy_memory_bug: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.window_length = window_length
        self.temporal_kernel = temporal_kernel
        self.legacy_memory_bug = legacy_memory_bug
        self.cells = self.build_cells(
            E3DLSTMCell,
            window_length=window_length,
            temporal_kernel=temporal_kernel,
            norm_type=norm_type,
            input_size=input_size,
            layer_norm=layer_norm,
            legacy_memory_bug=legacy_memory_bug)
        # model_equations.md#e3d-lstm: the 1x1 head of the base becomes a
        # Conv3d that folds the window into one frame.
        self.head = nn.Conv3d(
            self.hidden_channels,
            self.out_channels, (window_length, 1, 1),
            stride=(window_length, 1, 1),
            bias=False)

    def init_state(self, frame: torch.Tensor, mode: str = 'zeros') -> dict:
        if frame.dim() != 4:
            raise ValueError('E3DLSTM expects 2-D frames [B, C, H, W] from '
                             f'the predictor, got {tuple(frame.shape)}')
        b, c_in, h, w = frame.shape
        state = super().init_state(frame, mode)
        state.update(
            c_hist=[None] * self.num_layers,
            window=frame.new_zeros((b, c_in, self.window_length, h, w)))
        return state

    def state_shape(self, frame: torch.Tensor) -> Tuple[int, ...]:
        b, _, h, w = frame.shape
        return (b, self.hidden_channels, self.window_length, h, w)

    def layer_step(self, layer, inp, state):
        c = state['c'][layer]
        hist = state['c_hist'][layer]
        # C_hist grows along TIME (dim 2), never along channels
        # (model_equations.md#e3d-lstm)
        hist = c if hist is None else torch.cat([hist, c], dim=2)
        state['c_hist'][layer] = hist
        h, c, m, o = self.cells[layer](inp, state['h'][layer], c, state['m'],
                                       hist)
        state['c'][layer] = c
        state['m'] = m
        return h, o

    def forward_step(self,
                     frame: torch.Tensor,
                     state: dict,
                     neck: Optional[nn.Module] = None,
                     neck_state=None):
        """Slide the window by ``frame``, run the stack on it and return the
        predicted frame as ``[B, C', H', W']``."""
        if frame.dim() != 4:
            raise ValueError('E3DLSTM.forward_step expects one 2-D frame '
                             f'[B, C, H, W], got {tuple(frame.shape)}')
        if neck is not None and \
                getattr(neck, 'spatial_dims', 2) != self.spatial_dims:
            raise ValueError(
                f'E3DLSTM needs a 3-D neck (e.g. MotionRNNNeck3D), got '
                f'{type(neck).__name__}')
        window = torch.cat([state['window'][:, :, 1:],
                            frame.unsqueeze(2)],
                           dim=2)
        state['window'] = window
        x_hat, state, neck_state = super().forward_step(
            window, state, neck, neck_state)
        return x_hat[:, :, 0], state, neck_state
