# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvp.registry import MODELS
from .base_cell import BaseRecurrentCell


def same_padding(kernel: Sequence[int]) -> Tuple[int, ...]:
    """TensorFlow ``padding='same'`` at stride 1, as an ``F.pad`` tuple.

    Each dim is padded by ``k - 1`` in total, ``(k - 1) // 2`` before and
    the rest after (model_equations.md#e3d-lstm): a temporal kernel of 2 pads
    0 frames before and 1 after, a kernel of 3 pads 1 and 1. ``F.pad``
    lists the last dim first, hence the reversal.
    """
    pads = []
    for k in reversed(tuple(kernel)):
        before = (k - 1) // 2
        pads += [before, k - 1 - before]
    return tuple(pads)


class SameConv3d(nn.Conv3d):
    """A stride-1 ``Conv3d`` with TensorFlow "same" (possibly asymmetric)
    padding, so that the output keeps the input's ``(T, H, W)``."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: Sequence[int],
                 bias: bool = False):
        super().__init__(
            in_channels, out_channels, tuple(kernel_size), bias=bias)
        self.same_pad = same_padding(self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, self.same_pad))


def build_norm(norm_type: str, channels: int, window_length: int,
               input_size: Optional[Sequence[int]]) -> nn.Module:
    """The normalisation of E3D-LSTM's cell path (model_equations.md#e3d-lstm).

    * ``'channel'`` (the E3D-LSTM release's ``layer_norm``): statistics per
      sample over ``(C, tau, H', W')``, one gain and shift per channel,
      i.e. ``GroupNorm(1, C)``; independent of the resolution.
    * ``'full'`` (OpenSTL's ``nn.LayerNorm([C, tau, H', W'])``): elementwise
      gain and shift; needs ``input_size`` and ties the weights to it.
    """
    if norm_type == 'channel':
        return nn.GroupNorm(1, channels)
    if norm_type == 'full':
        if input_size is None or len(input_size) != 2:
            raise ValueError("norm_type='full' needs input_size=(H', W') "
                             'because its LayerNorm spans [C, tau, H\', W\'], '
                             f'got input_size={input_size!r}')
        return nn.LayerNorm([channels, window_length, *input_size])
    raise ValueError("norm_type must be 'channel' or 'full', got "
                     f'{norm_type!r}')


def eidetic_recall(query: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
    """``Recall(r, C_hist) = softmax(Q K^T) V`` over all history positions.

    model_equations.md#e3d-lstm: ``Q`` is ``query`` as
    ``(tau*H'*W') x C`` rows, ``K = V`` is ``history`` (the cell states
    concatenated along *time*) as ``(n*tau*H'*W') x C`` rows; each row is
    the channel vector of one (time, y, x) position. No ``1/sqrt(C)``
    scaling, as in the E3D-LSTM release.

    Args:
        query (Tensor): ``[B, C, tau, H', W']`` (the recall gate ``r``).
        history (Tensor): ``[B, C, n*tau, H', W']``.

    Returns:
        Tensor: ``[B, C, tau, H', W']``.
    """
    b, c, t, h, w = query.shape
    if history.dim() != 5 or history.shape[:2] != (b, c) or \
            history.shape[3:] != (h, w):
        raise ValueError('history must be [B, C, n*tau, H, W] with the '
                         f'query\'s B, C, H, W {(b, c, h, w)}, got '
                         f'{tuple(history.shape)}')
    q = query.permute(0, 2, 3, 4, 1).reshape(b, t * h * w, c)
    kv = history.permute(0, 2, 3, 4, 1).reshape(b, -1, c)
    attn = torch.softmax(torch.bmm(q, kv.transpose(1, 2)), dim=-1)
    out = torch.bmm(attn, kv)
    return out.reshape(b, t, h, w, c).permute(0, 4, 1, 2, 3)


@MODELS.register_module()
class E3DLSTMCell(BaseRecurrentCell):
    """Eidetic 3D LSTM cell (model_equations.md#e3d-lstm).

    Tensors are 5-D ``[B, C, tau, H', W']``; convs are 3-D with kernel
    ``(k_t, k, k)``, stride 1, TensorFlow "same" padding and no bias::

        [i_x,g_x,r_x,o_x,i'_x,g'_x,f'_x] = W_x*X   [i_h,g_h,r_h,o_h] = W_h*H
        i = sigma(i_x+i_h)  r = sigma(r_x+r_h)  g = tanh(g_x+g_h)
        C_t   = LN(C_{t-1} + Recall(r, C_hist)) + i*g      (LN always on)
        [i_m,f_m,g_m,m_m] = W_m*M
        i' = sigma(i'_x+i_m)  f' = sigma(f'_x+f_m+1)  g' = tanh(g'_x+g_m)
        M_new = f'*tanh(m_m) + i'*g'
        o   = tanh(o_x + o_h + W_co*C_t + W_mo*M_new)
        H_t = sigma(o) * tanh(W_111*[C_t, M_new])

    ``forward`` returns ``(H_t, C_t, M_out, o_eff)`` with ``o_eff =
    sigma(o)``, the effective output gate the Motion Highway's ``(1 - o)``
    uses (model_equations.md#other-backbones). ``M_out`` is ``M_new``; with
    ``legacy_memory_bug=True`` it is the incoming ``M``, as the E3D-LSTM
    and OpenSTL releases return it (their global memory never leaves its
    zero init).

    Args:
        in_channels (int): Channels of the input X.
        hidden_channels (int): Channels of H, C and M.
        window_length (int): tau, the temporal depth of every tensor.
        kernel_size (int): Spatial kernel k of the gate convs (5).
        temporal_kernel (int): k_t. 2 as released by E3D-LSTM and OpenSTL;
            3 gives the size of the MotionRNN paper's Table 2
            (reproduction_notes.md#model-sizes).
        norm_type (str): ``'channel'`` (E3D-LSTM, default) or ``'full'``
            (OpenSTL); see :func:`build_norm`.
        input_size (tuple[int], optional): ``(H', W')`` for ``'full'``.
        layer_norm (bool): Also normalise the outputs of ``W_x``, ``W_h``
            and ``W_m`` (the E3D-LSTM ``layer_norm`` flag); off in the counts.
        forget_bias (float): Added inside the sigmoid of f'.
        legacy_memory_bug (bool): Return the old M (parity with
            the E3D-LSTM release).
    """

    def __init__(self,
                 in_channels: int,
                 hidden_channels: int,
                 window_length: int = 2,
                 kernel_size: int = 5,
                 temporal_kernel: int = 2,
                 norm_type: str = 'channel',
                 input_size: Optional[Sequence[int]] = None,
                 layer_norm: bool = False,
                 forget_bias: float = 1.0,
                 legacy_memory_bug: bool = False):
        super().__init__(in_channels, hidden_channels, forget_bias)
        if window_length < 1 or temporal_kernel < 1 or kernel_size < 1:
            raise ValueError('window_length, temporal_kernel and kernel_size '
                             f'must be >= 1, got {window_length}, '
                             f'{temporal_kernel}, {kernel_size}')
        c = hidden_channels
        self.window_length = window_length
        self.legacy_memory_bug = legacy_memory_bug
        kernel = (temporal_kernel, kernel_size, kernel_size)
        self.conv_x = SameConv3d(in_channels, 7 * c, kernel)
        self.conv_h = SameConv3d(c, 4 * c, kernel)
        self.conv_m = SameConv3d(c, 4 * c, kernel)
        self.conv_co = SameConv3d(c, c, kernel)
        self.conv_mo = SameConv3d(c, c, kernel)
        self.conv_last = nn.Conv3d(2 * c, c, 1, bias=False)
        self.norm_c = build_norm(norm_type, c, window_length, input_size)
        if layer_norm:
            self.norm_x = build_norm(norm_type, 7 * c, window_length,
                                     input_size)
            self.norm_h = build_norm(norm_type, 4 * c, window_length,
                                     input_size)
            self.norm_m = build_norm(norm_type, 4 * c, window_length,
                                     input_size)
        self.layer_norm = layer_norm

    def _check(self, name: str, x: torch.Tensor, channels: int):
        if x.dim() != 5 or x.shape[1] != channels or \
                x.shape[2] != self.window_length:
            raise ValueError(f'E3DLSTMCell: {name} must be [B, {channels}, '
                             f'{self.window_length}, H, W] (window_length='
                             f'{self.window_length}), got {tuple(x.shape)}')

    def forward(self, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor,
                m: torch.Tensor,
                history: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """One step.

        Args:
            x: input window ``[B, C_in, tau, H', W']``.
            h, c: this layer's previous H and C ``[B, C, tau, H', W']``.
            m: the zigzag global memory ``[B, C, tau, H', W']``.
            history: ``C_hist``, the layer's earlier cell states
                concatenated along time, ``[B, C, n*tau, H', W']``.
        """
        self._check('x', x, self.in_channels)
        for name, t in (('h', h), ('c', c), ('m', m)):
            self._check(name, t, self.hidden_channels)
        gx = self.conv_x(x)
        gh = self.conv_h(h)
        gm = self.conv_m(m)
        if self.layer_norm:
            gx, gh, gm = self.norm_x(gx), self.norm_h(gh), self.norm_m(gm)
        i_x, g_x, r_x, o_x, i_xp, g_xp, f_xp = torch.chunk(gx, 7, dim=1)
        i_h, g_h, r_h, o_h = torch.chunk(gh, 4, dim=1)
        i_m, f_m, g_m, m_m = torch.chunk(gm, 4, dim=1)

        i = torch.sigmoid(i_x + i_h)
        r = torch.sigmoid(r_x + r_h)
        g = torch.tanh(g_x + g_h)
        c_new = self.norm_c(c + eidetic_recall(r, history)) + i * g

        i_p = torch.sigmoid(i_xp + i_m)
        f_p = torch.sigmoid(f_xp + f_m + self.forget_bias)
        g_p = torch.tanh(g_xp + g_m)
        m_new = f_p * torch.tanh(m_m) + i_p * g_p

        o = torch.tanh(o_x + o_h + self.conv_co(c_new) + self.conv_mo(m_new))
        o_eff = torch.sigmoid(o)
        mem = self.conv_last(torch.cat([c_new, m_new], dim=1))
        h_new = o_eff * torch.tanh(mem)
        m_out = m if self.legacy_memory_bug else m_new
        return h_new, c_new, m_out, o_eff
