# Copyright (c) mmvp contributors. All rights reserved.
"""Capture and draw the motion filters of MotionGRU (paper Figure 9).

Every MotionGRU block returns ``(X, F', D')`` per step
(``docs/en/advanced_guides/model_equations.md``): ``D'`` the trending
momentum, ``F' = F~ + D'`` the final filter and ``F~ = F' - D'`` the
transient variation. They are offsets ``[B, 2N, h, w]`` on the block's
half-resolution grid (half the hidden state, i.e. ``h = H / (2 *
patch_size)``), in pixels of that grid, laid out ``[all dy | all dx]`` over
the ``N = k_m**2`` warp taps in row-major tap order: tap ``n`` of grid
position ``(i, j)`` samples the encoded features at ``(i + a_n + dy_n, j +
b_n + dx_n)``.

:class:`MotionRecorder` records them with forward hooks, without touching
the model (and without importing the model classes: blocks are found by
class name). :func:`reduce_taps` turns the ``N`` taps into one vector per
position: ``'mean'`` (default) is the mean offset over the taps, i.e. how
far the centroid of the ``k_m x k_m`` sampling pattern moves (the base
positions ``(a_n, b_n)`` average to 0); ``'center'`` is the offset of the
middle tap. Arrows point to where features are sampled **from** (a
backward warp), so content moves roughly the opposite way; ``as_motion=
True`` in :func:`plot_motion_fields` flips them to show that apparent
motion.
"""
import math
from collections import OrderedDict
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Type, Union

import numpy as np
import torch
import torch.nn as nn

from mmvp.utils.atomic_io import atomic_write

TAP_REDUCTIONS = ('mean', 'center')
FIELD_NAMES = OrderedDict(
    trend='trend D', filter='filter F', transient='transient F~ = F - D')
FIELD_COLOURS = dict(trend='#00e5ff', filter='#ff3030', transient='#ffd000')
MOTION_BLOCK_NAME = 'MotionGRU'

BlockSelector = Union[None, str, Type[nn.Module], Callable[[nn.Module], bool]]


def _block_predicate(blocks: BlockSelector) -> Callable[[nn.Module], bool]:
    if blocks is None:
        blocks = MOTION_BLOCK_NAME
    if isinstance(blocks, str):
        name = blocks
        return lambda m: any(c.__name__ == name for c in type(m).__mro__)
    if isinstance(blocks, type):
        return lambda m: isinstance(m, blocks)
    if callable(blocks):
        return blocks
    raise TypeError('blocks must be None, a class name, a module class or '
                    f'a predicate, got {type(blocks).__name__}')


class MotionRecorder:
    """Record ``F'`` and ``D'`` of every MotionGRU block of ``model``.

    Use as a context manager around the forward passes to record::

        with MotionRecorder(model) as rec:
            model.test_step(data)
        fields = rec.fields()  # {block name: {'filter', 'trend', ...}}

    Args:
        model (nn.Module): Any module containing MotionGRU blocks
            (MotionRNN necks, 2-D or 3-D).
        blocks (str | type | callable, optional): Which submodules to
            record: a class name matched against each module's class and
            its bases (default ``'MotionGRU'``, which covers its 3-D
            subclass), a class, or a predicate ``module -> bool``. A
            recorded module must return ``(X, F', D')``.
    """

    def __init__(self, model: nn.Module, blocks: BlockSelector = None) -> None:
        wanted = _block_predicate(blocks)
        self.blocks = [(name, m) for name, m in model.named_modules()
                       if wanted(m)]
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


def arrow_layout(fields: Dict[str, Tuple[np.ndarray, np.ndarray]],
                 frame_size: Tuple[int, int],
                 arrow_scale: Union[float, str, Sequence[float]] = 'auto-step',
                 grid_step: int = 1,
                 as_motion: bool = False,
                 max_length: Optional[float] = 1.5) -> Dict[str, dict]:
    """Where each arrow of :func:`plot_motion_fields` is drawn.

    Args:
        fields, arrow_scale, grid_step, as_motion: see
            :func:`plot_motion_fields`.
        frame_size (tuple): ``(H, W)`` of the frames drawn under the
            arrows (image pixels).
        max_length (float, optional): Longest arrow drawn, in grid cells;
            longer arrows keep their direction and colour. None: no limit.

    Returns:
        dict: ``{name: {'x', 'y', 'u', 'v', 'magnitude', 'cell'}}``: arrow
        tails ``x``, ``y`` (``[n]``, image pixels), drawn vectors ``u``,
        ``v`` (``[S, n]``, image pixels), the true length of each offset
        (``[S, n]``, grid pixels) and the cell size ``(cell_y, cell_x)``.
    """
    if int(grid_step) < 1:
        raise ValueError(f'grid_step must be >= 1, got {grid_step}')
    height, width = frame_size
    pairs = OrderedDict()
    steps = None
    for name, (dy, dx) in fields.items():
        dy, dx = np.asarray(dy, np.float64), np.asarray(dx, np.float64)
        if steps is None:
            steps = dy.shape[0] if dy.ndim == 3 else -1
        if dy.ndim != 3 or dy.shape != dx.shape or dy.shape[0] != steps:
            raise ValueError(f'field {name!r}: dy {dy.shape} and dx '
                             f'{dx.shape} must be [{steps}, h, w]')
        pairs[name] = (dy, dx)
    scales = step_scales(pairs, arrow_scale, steps)
    sign = -1.0 if as_motion else 1.0
    out = OrderedDict()
    for name, (dy, dx) in pairs.items():
        gh, gw = dy.shape[1:]
        cell_y, cell_x = height / gh, width / gw
        ii, jj = np.meshgrid(
            np.arange(0, gh, grid_step),
            np.arange(0, gw, grid_step),
            indexing='ij')
        ii, jj = ii.reshape(-1), jj.reshape(-1)
        scale = np.asarray(scales)[:, None]
        u = sign * dx[:, ii, jj] * cell_x * scale
        v = sign * dy[:, ii, jj] * cell_y * scale
        if max_length is not None:
            limit = float(max_length) * min(cell_x, cell_y)
            length = np.hypot(u, v)
            shrink = np.where(length > limit,
                              limit / np.maximum(length, 1e-12), 1.)
            u, v = u * shrink, v * shrink
        out[name] = dict(
            x=(jj + 0.5) * cell_x - 0.5,
            y=(ii + 0.5) * cell_y - 0.5,
            u=u,
            v=v,
            magnitude=np.hypot(dy[:, ii, jj], dx[:, ii, jj]),
            cell=(cell_y, cell_x),
            scales=list(scales))
    return out


def plot_motion_fields(frames: np.ndarray,
                       fields: Dict[str, Tuple[np.ndarray, np.ndarray]],
                       out_file: Optional[str] = None,
                       titles: Optional[Sequence[str]] = None,
                       suptitle: Optional[str] = None,
                       arrow_scale: Union[float, str,
                                          Sequence[float]] = 'auto-step',
                       grid_step: int = 1,
                       as_motion: bool = False,
                       colour: str = 'magnitude',
                       max_cols: int = 10,
                       max_length: Optional[float] = 1.5,
                       dpi: int = 100) -> np.ndarray:
    """Quiver plots over the frames the motion moves: one panel per step.

    Each panel shows the frame the model consumed at that step (the
    MotionGRU filter of step ``t`` warps the features of frame ``t``) with
    one arrow per grid position. Readable by default: arrow lengths are
    normalised **per step** (``arrow_scale='auto-step'``; the filters grow
    over the steps) and the factor is printed in the panel title, while the
    arrow **colour** gives the true length on one scale for all steps, read
    on the colour bar of the field (grid pixels) and as the per-step maximum
    in the titles. Steps wrap to a new row after ``max_cols`` panels.

    Args:
        frames: uint8 ``[S, H, W, C]`` frame drawn under each step.
        fields: ``{name: (dy, dx)}`` with ``dy``, ``dx`` ``[S, h, w]`` in
            pixels of the ``h x w`` grid; names from ``FIELD_NAMES`` get
            their label.
        out_file (str, optional): Write the figure (PNG) there,
            atomically.
        titles (Sequence[str], optional): Panel titles, one per step.
        suptitle (str, optional): Figure title.
        arrow_scale (float | str | Sequence[float]): Arrow length factor
            (1 = true length in image pixels: one grid pixel is ``H / h``
            image pixels); one factor per step; ``'auto'`` scales the 95th
            percentile of all drawn lengths to 0.8 grid cells,
            ``'auto-step'`` (default) does so per step (see
            :func:`auto_arrow_scale`).
        grid_step (int): Draw every ``grid_step``-th grid position.
        as_motion (bool): Flip arrows (sampling offsets -> apparent motion).
        colour (str): ``'magnitude'`` (default: colour of the true
            length, cyan to magenta, with a colour bar) or ``'field'``
            (one fixed colour per field, from ``FIELD_COLOURS``).
        max_cols (int): Panels per row before wrapping.
        max_length (float, optional): Longest arrow drawn, in grid cells
            (see :func:`arrow_layout`).
        dpi (int): Resolution.

    Returns:
        np.ndarray: the figure as uint8 RGB ``[h, w, 3]``.
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    if colour not in ('magnitude', 'field'):
        raise ValueError("colour must be 'magnitude' or 'field', got "
                         f'{colour!r}')
    if int(max_cols) < 1:
        raise ValueError(f'max_cols must be >= 1, got {max_cols}')
    frames = np.asarray(frames)
    steps, height, width = frames.shape[:3]
    layout = arrow_layout(fields, (height, width), arrow_scale, grid_step,
                          as_motion, max_length)
    for name, arrows in layout.items():
        if arrows['u'].shape[0] != steps:
            raise ValueError(f'field {name!r} has {arrows["u"].shape[0]} '
                             f'steps, the frames {steps}; fields must be '
                             f'[{steps}, h, w]')
    cols = min(steps, int(max_cols))
    wraps = math.ceil(steps / cols)
    rows = len(layout) * wraps
    with_bar = colour == 'magnitude'
    fig = Figure(
        figsize=(1.8 * cols + (1.1 if with_bar else 0.3), 1.95 * rows + 0.6),
        dpi=dpi)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        rows,
        cols + (1 if with_bar else 0),
        width_ratios=[1] * cols + ([0.08] if with_bar else []))
    # 'cool' (cyan -> magenta) stays visible on black backgrounds and on
    # the frames, which are dimmed to at most 64 % grey below the arrows
    cmap = colormaps['cool']
    for f, (name, arrows) in enumerate(layout.items()):
        magnitude = arrows['magnitude']
        top = float(np.percentile(magnitude, 99)) if magnitude.size else 0.
        norm = Normalize(0., top if top > 1e-12 else 1.)
        label = FIELD_NAMES.get(name, name)
        for s in range(steps):
            r = f * wraps + s // cols
            ax = fig.add_subplot(grid[r, s % cols])
            ax.imshow(
                _grey(frames[s]),
                cmap='gray',
                vmin=0,
                vmax=400,
                interpolation='nearest')
            kwargs = dict(
                angles='xy',
                scale_units='xy',
                scale=1,
                width=0.014,
                headwidth=3.5,
                headlength=4,
                headaxislength=3.5)
            if with_bar:
                ax.quiver(
                    arrows['x'],
                    arrows['y'],
                    arrows['u'][s],
                    arrows['v'][s],
                    magnitude[s],
                    cmap=cmap,
                    norm=norm,
                    **kwargs)
            else:
                ax.quiver(
                    arrows['x'],
                    arrows['y'],
                    arrows['u'][s],
                    arrows['v'][s],
                    color=FIELD_COLOURS.get(name, '#ff3030'),
                    **kwargs)
            ax.set_xlim(-0.5, width - 0.5)
            ax.set_ylim(height - 0.5, -0.5)
            ax.set_xticks([])
            ax.set_yticks([])
            title = titles[s] if titles is not None else f'step {s}'
            peak = float(magnitude[s].max()) if magnitude[s].size else 0.
            ax.set_title(
                f'{title}\nmax {peak:.2g} px, x{arrows["scales"][s]:.2g}',
                fontsize=7)
            if s % cols == 0:
                ax.set_ylabel(label, fontsize=8)
        if with_bar:
            bar_ax = fig.add_subplot(grid[f * wraps:(f + 1) * wraps, cols])
            bar = fig.colorbar(
                ScalarMappable(norm=norm, cmap=cmap), cax=bar_ax)
            bar.set_label(f'{name}: offset (grid px)', fontsize=7)
            bar.ax.tick_params(labelsize=7)
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    if out_file is not None:
        atomic_write(out_file, lambda f: fig.savefig(f, format='png', dpi=dpi))
    return image
