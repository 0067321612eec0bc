# Copyright (c) mmvp contributors. All rights reserved.
"""Capture and draw the motion filters of MotionGRU (paper Figure 9).

Every MotionGRU block returns ``(X, F', D')`` per step (spec/models.md
3.1-3.2): ``D'`` the trending momentum, ``F' = F~ + D'`` the final filter
and ``F~ = F' - D'`` the transient variation. They are offsets
``[B, 2N, h, w]`` on the block's half-resolution grid (half the hidden
state, i.e. ``h = H / (2 * patch_size)``), in pixels of that grid, laid out
``[all dy | all dx]`` over the ``N = k_m**2`` warp taps in row-major tap
order: tap ``n`` of grid position ``(i, j)`` samples the encoded features
at ``(i + a_n + dy_n, j + b_n + dx_n)``.

:class:`MotionRecorder` records them with forward hooks, without touching
the model. :func:`reduce_taps` turns the ``N`` taps into one vector per
position: ``'mean'`` (default) is the mean offset over the taps, i.e. how
far the centroid of the ``k_m x k_m`` sampling pattern moves (the base
positions ``(a_n, b_n)`` average to 0); ``'center'`` is the offset of the
middle tap. Arrows point to where features are sampled **from** (a
backward warp), so content moves roughly the opposite way; ``as_motion=
True`` in :func:`plot_motion_fields` flips them to show that apparent
motion.
"""
import os
import os.path as osp
import tempfile
from collections import OrderedDict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from .video_export import publish_file

TAP_REDUCTIONS = ('mean', 'center')
FIELD_NAMES = OrderedDict(
    trend='trend D', filter='filter F', transient='transient F~ = F - D')
FIELD_COLOURS = dict(trend='#00e5ff', filter='#ff3030', transient='#ffd000')


def _motion_gru_class():
    from mmvp.models.necks import MotionGRU
    return MotionGRU


class MotionRecorder:
    """Record ``F'`` and ``D'`` of every MotionGRU block of ``model``.

    Use as a context manager around the forward passes to record::

        with MotionRecorder(model) as rec:
            model.test_step(data)
        fields = rec.fields()  # {block name: {'filter', 'trend', ...}}

    Args:
        model (nn.Module): Any module containing MotionGRU blocks
            (MotionRNN necks, 2-D or 3-D).
    """

    def __init__(self, model: nn.Module) -> None:
        cls = _motion_gru_class()
        self.blocks = [(name, m) for name, m in model.named_modules()
                       if isinstance(m, cls)]
        if not self.blocks:
            raise ValueError(
                f'{type(model).__name__} has no MotionGRU block: motion '
                'filters exist only in MotionRNN models (a neck with '
                'use_motion_gru=True)')
        self._handles: List = []
        self.records: Dict[str, Dict[str, list]] = OrderedDict(
            (name, dict(filter=[], trend=[])) for name, _ in self.blocks)

    def _hook(self, name: str):

        def hook(module, inputs, output):
            if not (isinstance(output, (tuple, list)) and len(output) == 3):
                raise RuntimeError(f'MotionGRU block {name} returned '
                                   f'{type(output).__name__}; expected '
                                   "(X, F', D')")
            _, filt, trend = output
            self.records[name]['filter'].append(filt.detach().cpu())
            self.records[name]['trend'].append(trend.detach().cpu())

        return hook

    def __enter__(self) -> 'MotionRecorder':
        self.clear()
        for name, module in self.blocks:
            self._handles.append(
                module.register_forward_hook(self._hook(name)))
        return self

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def clear(self) -> None:
        for rec in self.records.values():
            rec['filter'].clear()
            rec['trend'].clear()

    def fields(self) -> Dict[str, Dict[str, torch.Tensor]]:
        """``{block: {'filter', 'trend', 'transient'}}``, each float
        ``[steps, B, 2N, h, w]`` (one entry per recorded call)."""
        out = OrderedDict()
        for name, rec in self.records.items():
            if not rec['filter']:
                raise RuntimeError(f'no step of MotionGRU block {name} was '
                                   'recorded; run the model inside the '
                                   '`with MotionRecorder(...)` block')
            filt = torch.stack(rec['filter'])
            trend = torch.stack(rec['trend'])
            out[name] = dict(filter=filt, trend=trend, transient=filt - trend)
        return out


def reduce_taps(offsets, mode: str = 'mean') -> Tuple[np.ndarray, np.ndarray]:
    """One ``(dy, dx)`` per grid position from ``[..., 2N, h, w]`` offsets
    (channels ``[all dy | all dx]``).

    Returns:
        tuple: ``dy`` and ``dx`` float arrays ``[..., h, w]``.
    """
    if mode not in TAP_REDUCTIONS:
        raise ValueError(f'mode must be one of {TAP_REDUCTIONS}, got '
                         f'{mode!r}')
    if isinstance(offsets, torch.Tensor):
        offsets = offsets.detach().cpu().numpy()
    offsets = np.asarray(offsets, dtype=np.float64)
    if offsets.ndim < 3 or offsets.shape[-3] % 2:
        raise ValueError('offsets must be [..., 2N, h, w], got shape '
                         f'{offsets.shape}')
    n = offsets.shape[-3] // 2
    dy, dx = offsets[..., :n, :, :], offsets[..., n:, :, :]
    if mode == 'mean':
        return dy.mean(-3), dx.mean(-3)
    return dy[..., n // 2, :, :], dx[..., n // 2, :, :]


def auto_arrow_scale(fields, target: float = 0.8) -> float:
    """Factor that draws the 95th percentile of the offset lengths
    (in grid pixels) of ``fields`` (``(dy, dx)`` pairs) as ``target`` grid
    cells; 1.0 when every offset is 0."""
    lengths = np.concatenate([
        np.hypot(np.asarray(dy), np.asarray(dx)).reshape(-1)
        for dy, dx in fields
    ])
    ref = float(np.percentile(lengths, 95)) if lengths.size else 0.0
    if not np.isfinite(ref) or ref <= 1e-12:
        return 1.0
    return target / ref


def step_scales(fields: Dict[str, Tuple[np.ndarray, np.ndarray]],
                arrow_scale: Union[float, str, Sequence[float]],
                steps: int) -> List[float]:
    """One arrow length factor per step (see
    :func:`plot_motion_fields`)."""
    pairs = list(fields.values())
    if isinstance(arrow_scale, str):
        if arrow_scale == 'auto':
            return [auto_arrow_scale(pairs)] * steps
        if arrow_scale == 'auto-step':
            return [
                auto_arrow_scale([(np.asarray(dy)[s], np.asarray(dx)[s])
                                  for dy, dx in pairs]) for s in range(steps)
            ]
        raise ValueError("arrow_scale must be a number > 0, 'auto' or "
                         f"'auto-step', got {arrow_scale!r}")
    if np.ndim(arrow_scale) == 0:
        arrow_scale = [float(arrow_scale)] * steps
    scales = [float(v) for v in arrow_scale]
    if len(scales) != steps or not all(v > 0 for v in scales):
        raise ValueError(f'arrow_scale must be > 0 (one value or {steps}), '
                         f'got {arrow_scale!r}')
    return scales


def _grey(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 3 and frame.shape[-1] == 1:
        return frame[..., 0]
    return frame


def plot_motion_fields(frames: np.ndarray,
                       fields: Dict[str, Tuple[np.ndarray, np.ndarray]],
                       out_file: Optional[str] = None,
                       titles: Optional[Sequence[str]] = None,
                       suptitle: Optional[str] = None,
                       arrow_scale: Union[float, str, Sequence[float]] = 1.0,
                       grid_step: int = 1,
                       as_motion: bool = False,
                       dpi: int = 100) -> np.ndarray:
    """Quiver plots: one row per field, one column per step.

    Args:
        frames: uint8 ``[S, H, W, C]`` frame drawn under each column.
        fields: ``{name: (dy, dx)}`` with ``dy``, ``dx`` ``[S, h, w]`` in
            pixels of the ``h x w`` grid; names from ``FIELD_NAMES`` get
            their label and colour.
        out_file (str, optional): Write the figure (PNG) there.
        titles (Sequence[str], optional): Column titles.
        suptitle (str, optional): Figure title.
        arrow_scale (float | str | Sequence[float]): Arrow length factor
            (1 = true length in image pixels: one grid pixel is ``H / h``
            image pixels); one factor per step (column); ``'auto'`` scales
            the 95th percentile of all drawn lengths to 0.8 grid cells,
            ``'auto-step'`` does so per step (see
            :func:`auto_arrow_scale`).
        grid_step (int): Draw every ``grid_step``-th grid position.
        as_motion (bool): Flip arrows (sampling offsets -> apparent motion).
        dpi (int): Resolution.

    Returns:
        np.ndarray: the figure as uint8 RGB ``[h, w, 3]``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    frames = np.asarray(frames)
    steps, height, width = frames.shape[:3]
    rows = list(fields.items())
    scales = step_scales(fields, arrow_scale, steps)
    fig = Figure(figsize=(1.9 * steps + 0.4, 2.0 * len(rows) + 0.5), dpi=dpi)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), steps, squeeze=False)
    sign = -1.0 if as_motion else 1.0
    for r, (name, (dy, dx)) in enumerate(rows):
        dy = np.asarray(dy)
        dx = np.asarray(dx)
        if dy.shape != dx.shape or dy.shape[0] != steps:
            raise ValueError(f'field {name!r}: dy {dy.shape} and dx '
                             f'{dx.shape} must be [{steps}, h, w]')
        gh, gw = dy.shape[1:]
        cell_y, cell_x = height / gh, width / gw
        ii, jj = np.meshgrid(
            np.arange(0, gh, grid_step),
            np.arange(0, gw, grid_step),
            indexing='ij')
        ys = (ii + 0.5) * cell_y - 0.5
        xs = (jj + 0.5) * cell_x - 0.5
        colour = FIELD_COLOURS.get(name, '#ff3030')
        for s in range(steps):
            ax = axes[r][s]
            ax.imshow(
                _grey(frames[s]),
                cmap='gray',
                vmin=0,
                vmax=255,
                interpolation='nearest')
            u = sign * dx[s][ii, jj] * cell_x * scales[s]
            v = sign * dy[s][ii, jj] * cell_y * scales[s]
            ax.quiver(
                xs,
                ys,
                u,
                v,
                color=colour,
                angles='xy',
                scale_units='xy',
                scale=1,
                width=0.012,
                headwidth=3.5)
            ax.set_xlim(-0.5, width - 0.5)
            ax.set_ylim(height - 0.5, -0.5)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0 and titles is not None:
                ax.set_title(titles[s], fontsize=8)
            if s == 0:
                ax.set_ylabel(FIELD_NAMES.get(name, name), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None:
        folder = osp.dirname(osp.abspath(out_file))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix='.png', dir=folder)
        os.close(fd)
        try:
            fig.savefig(tmp, format='png', dpi=dpi)
            publish_file(tmp, out_file)
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
    return image
