# Copyright (c) mmvp contributors. All rights reserved.
"""Prediction strips and side-by-side videos of one sequence.

A strip is one image: labelled rows (input, ground truth, prediction,
|error|), time indices over the columns (``t-9 .. t0`` over the observed
frames, ``t+1 .. t+10`` over the predicted ones) and a colour bar giving
the error scale with its end values printed. A side-by-side video shows
input | truth | prediction with the time index of each frame. Text is drawn
with OpenCV's Hershey font (no extra dependency).
"""
import math
import os.path as osp
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from mmvp.registry import VISUALIZERS
from mmvp.utils.atomic_io import atomic_write_bytes
from .video_export import write_video

FONT = cv2.FONT_HERSHEY_SIMPLEX
TEXT = (0, 0, 0)
BACKGROUND = 255
PADDING = 128


def to_uint8_frames(frames) -> np.ndarray:
    """``[T, C, H, W]`` float in [0, 1] (clipped) or uint8 -> uint8
    ``[T, H, W, 3]`` RGB (grey frames are repeated to three channels)."""
    if isinstance(frames, torch.Tensor):
        frames = frames.detach().cpu()
        if frames.dtype.is_floating_point:
            frames = (frames.float().clamp(0, 1) * 255).round()
        frames = frames.numpy()
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        frames = np.clip(frames, 0, 255).astype(np.uint8)
    frames = frames.transpose(0, 2, 3, 1)
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    return np.ascontiguousarray(frames)


def time_labels(num_in: int, num_out: int) -> Tuple[List[str], List[str]]:
    """Column labels of the observed and the predicted frames.

    Returns:
        tuple[list[str], list[str]]: ``['t-{T_in-1}', ..., 't0']`` and
        ``['t+1', ..., 't+{T_out}']``.
    """
    observed = [
        f't{k - num_in + 1}' if k < num_in - 1 else 't0' for k in range(num_in)
    ]
    return observed, [f't+{k + 1}' for k in range(num_out)]


def put_text(image: np.ndarray,
             text: str,
             org: Tuple[int, int],
             scale: float,
             colour=TEXT) -> None:
    """Draw ``text`` with its baseline-left corner at ``org`` (x, y)."""
    cv2.putText(image, text, (int(org[0]), int(org[1])), FONT, scale, colour,
                1, cv2.LINE_AA)


def text_size(text: str, scale: float) -> Tuple[int, int]:
    """``(width, height)`` in pixels of ``text`` at ``scale``."""
    (w, h), baseline = cv2.getTextSize(text, FONT, scale, 1)
    return w, h + baseline


def error_colours(err: np.ndarray, vmax: float) -> np.ndarray:
    """``[..., H, W]`` errors -> RGB jet colours, 0 -> blue, ``vmax`` (and
    above) -> red."""
    scaled = np.clip(err / vmax, 0, 1) * 255
    flat = np.round(scaled).astype(np.uint8).reshape(-1, err.shape[-1])
    rgb = cv2.applyColorMap(flat, cv2.COLORMAP_JET)[..., ::-1]
    return np.ascontiguousarray(rgb.reshape(*err.shape, 3))


def format_value(value: float) -> str:
    """Short text of a colour-bar end value."""
    return f'{value:.2g}' if value < 0.1 else f'{value:.2f}'


@VISUALIZERS.register_module()
class VideoPredVisualizer(Visualizer):
    """Draws one predicted sequence as a labelled strip image or a video.

    The strip has four rows, each labelled on the left: ``input`` (the
    observed frames, columns ``t-9 .. t0``), ``ground truth``,
    ``prediction`` and ``|error|`` (columns ``t+1 .. t+10``; the time
    indices are printed over the input and ground-truth rows). The error is
    ``|clip(prediction) - truth|`` averaged over channels, drawn with the
    jet colour map from 0 (blue) to ``error_max`` (red); a colour bar right
    of the error row prints both ends. The default ``error_max='p99'`` is
    the 99th percentile of the sequence's errors, so the colours show where
    the errors are (a fixed number keeps one scale across sequences).

    Args:
        name (str): Instance name.
        vis_backends (list[dict], optional): Backends (LocalVisBackend,
            TensorboardVisBackend, ...).
        save_dir (str, optional): Where backends write.
        gap (int): Pixels between frames and rows.
        scale (int | str): Integer upsampling of the frames (nearest), or
            ``'auto'`` (default): the smallest factor that draws a frame at
            least 64 pixels high.
        error_max (float | str): Top of the error colour scale on the
            [0, 1] scale, or ``'pNN'`` for the NN-th percentile of the
            sequence's errors (default ``'p99'``).
        labels (bool): Draw row labels, time indices and the colour bar.
            Defaults to True.
        video_fps (float): Frames per second of the side-by-side videos.
    """

    ROWS = ('input', 'ground truth', 'prediction', '|error|')
    PANELS = ('input', 'truth', 'prediction')

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[list] = None,
                 save_dir: Optional[str] = None,
                 gap: int = 2,
                 scale: Union[int, str] = 'auto',
                 error_max: Union[float, str] = 'p99',
                 labels: bool = True,
                 video_fps: float = 4.0,
                 **kwargs):
        super().__init__(
            name=name, vis_backends=vis_backends, save_dir=save_dir, **kwargs)
        if scale != 'auto' and not (isinstance(scale, int) and scale >= 1):
            raise ValueError("VideoPredVisualizer: scale must be an int >= 1 "
                             f"or 'auto', got {scale!r}")
        self.percentile = None
        if isinstance(error_max, str):
            try:
                self.percentile = float(error_max[1:])
            except ValueError:
                self.percentile = -1.0
            if not error_max.startswith('p') or \
                    not 0 < self.percentile <= 100:
                raise ValueError('VideoPredVisualizer: error_max must be a '
                                 "number > 0 or 'pNN' (a percentile in "
                                 f"(0, 100]), got {error_max!r}")
        elif not float(error_max) > 0:
            raise ValueError('VideoPredVisualizer: error_max must be > 0, '
                             f'got {error_max!r}')
        if video_fps <= 0:
            raise ValueError(f'VideoPredVisualizer: video_fps must be > 0, '
                             f'got {video_fps}')
        self.gap = gap
        self.scale = scale
        self.error_max = error_max
        self.labels = labels
        self.video_fps = video_fps
        self.strip_layout: dict = {}

    # ------------------------------------------------------------------
    # pieces
    # ------------------------------------------------------------------
    def _split(self, inputs, data_sample):
        """uint8 RGB ``(inputs, truth, prediction)`` and the float error
        ``[T_out, H, W]`` (None where missing) of one sample."""
        metainfo = getattr(data_sample, 'metainfo', {}) or {}
        in_frames = int(metainfo.get('in_frames', 0)) or None
        observed = to_uint8_frames(inputs[:in_frames] if in_frames else inputs)
        pred = data_sample.get('pred_frames')
        gt = data_sample.get('gt_frames')
        err = None
        if pred is not None and gt is not None:
            err = (pred.detach().float().clamp(0, 1) -
                   gt.detach().float()).abs().mean(dim=1).cpu().numpy()
        return (observed, None if gt is None else to_uint8_frames(gt),
                None if pred is None else to_uint8_frames(pred), err)

    def error_scale(self, err: np.ndarray) -> float:
        """Top of the colour scale for the errors ``err``."""
        if self.percentile is None:
            return float(self.error_max)
        vmax = float(np.percentile(err, self.percentile)) if err.size else 0.
        if not vmax > 1e-6:  # no error at all: any scale draws blue
            vmax = float(err.max()) if err.size and err.max() > 0 else 1.0
        return vmax

    def _factor(self, height: int, width: int) -> int:
        if self.scale == 'auto':
            return max(1, math.ceil(64 / max(1, min(height, width))))
        return int(self.scale)

    @staticmethod
    def _upscale(frames: np.ndarray, factor: int) -> np.ndarray:
        if factor == 1:
            return frames
        return frames.repeat(factor, axis=1).repeat(factor, axis=2)

    def colour_bar(self, height: int, vmax: float, font: float) -> np.ndarray:
        """A vertical jet bar ``height`` pixels high with ``0`` at the
        bottom and ``vmax`` at the top printed beside it."""
        top = format_value(vmax)
        text_w = max(text_size(top, font)[0], text_size('0', font)[0])
        bar_w = max(8, height // 6)
        image = np.full((height, bar_w + 4 + text_w + 2, 3), BACKGROUND,
                        np.uint8)
        ramp = np.linspace(vmax, 0, height)[:, None].repeat(bar_w, 1)
        image[:, :bar_w] = error_colours(ramp, vmax)
        text_h = text_size('0', font)[1]
        put_text(image, top, (bar_w + 3, text_h), font)
        put_text(image, '0', (bar_w + 3, height - 3), font)
        return image

    # ------------------------------------------------------------------
    # strip
    # ------------------------------------------------------------------
    def make_strip(self, inputs, data_sample) -> np.ndarray:
        """The strip image (uint8 RGB) of one sample.

        Args:
            inputs: the observed frames (``[T, C, H, W]``, uint8 or float;
                only the first ``in_frames`` of the metainfo are drawn).
            data_sample: with ``pred_frames`` and / or ``gt_frames``
                (``[T_out, C, H, W]`` on [0, 1]).

        Returns:
            np.ndarray: uint8 RGB ``[H, W, 3]``. Where each part was drawn
            is kept in :attr:`strip_layout` (``label_width``,
            ``header_height``, ``row_tops``, ``frame_size``, ``columns``,
            ``bar_box`` and ``error_max``).
        """
        observed, gt, pred, err = self._split(inputs, data_sample)
        factor = self._factor(*observed.shape[1:3])
        h, w = observed.shape[1] * factor, observed.shape[2] * factor
        g = self.gap
        rows = [('input', observed)]
        if gt is not None:
            rows.append(('ground truth', gt))
        if pred is not None:
            rows.append(('prediction', pred))
        vmax = None
        if err is not None:
            vmax = self.error_scale(err)
            rows.append(('|error|', error_colours(err, vmax)))
        longest = max(len(frames) for _, frames in rows)
        body_w = longest * (w + g) - g
        font = float(np.clip(h / 160, 0.35, 0.6))
        label_w = header_h = 0
        if self.labels:
            label_w = max(text_size(name, font)[0]
                          for name, _ in rows) + 2 * g + 4
            header_h = text_size('t+10', font)[1] + 4
        in_labels, out_labels = time_labels(
            len(observed),
            max(len(f) for _, f in rows[1:]) if len(rows) > 1 else 0)
        parts = []
        top = 0
        row_tops = []
        for r, (name, frames) in enumerate(rows):
            if self.labels and r <= 1:  # time indices over input and truth
                header = np.full((header_h, label_w + body_w, 3), BACKGROUND,
                                 np.uint8)
                for i, label in enumerate(in_labels if r == 0 else out_labels):
                    tw = text_size(label, font)[0]
                    x = label_w + i * (w + g) + (w - tw) // 2
                    put_text(header, label, (max(x, label_w), header_h - 4),
                             font)
                parts.append(header)
                top += header_h
            row_tops.append(top)
            top += h + g
            row = np.full((h, label_w + body_w, 3), PADDING, np.uint8)
            row[:, :label_w] = BACKGROUND
            frames = self._upscale(frames, factor)
            for i in range(len(frames)):
                x = label_w + i * (w + g)
                row[:, x:x + w] = frames[i]
            if self.labels:
                put_text(row, name, (g, (h + text_size(name, font)[1]) // 2),
                         font)
            parts.append(row)
            parts.append(
                np.full((g, label_w + body_w, 3), BACKGROUND, np.uint8))
        parts = parts[:-1]
        strip = np.concatenate(parts, axis=0)
        bar_box = None
        if self.labels and vmax is not None:
            bar = self.colour_bar(h, vmax, font)
            column = np.full((strip.shape[0], bar.shape[1] + g, 3), BACKGROUND,
                             np.uint8)
            column[-h:, g:] = bar
            # top, left, height and width of the ramp
            bar_box = (strip.shape[0] - h, strip.shape[1] + g, h,
                       max(8, h // 6))
            strip = np.concatenate([strip, column], axis=1)
        self.strip_layout = dict(
            label_width=label_w,
            header_height=header_h,
            row_tops=row_tops,
            frame_size=(h, w),
            columns=[label_w + i * (w + g) for i in range(longest)],
            bar_box=bar_box,
            error_max=vmax)
        return np.ascontiguousarray(strip)

    # ------------------------------------------------------------------
    # video
    # ------------------------------------------------------------------
    def make_video_frames(self, inputs, data_sample) -> np.ndarray:
        """Side-by-side video frames: input | truth | prediction.

        One video frame per time step, ``t-9 .. t0`` then ``t+1 ..
        t+10``: during the observed steps every panel shows the observed
        frame; during the predicted steps the input panel holds the last
        observed frame (``t0``) and the truth and prediction panels play.
        Panel names are printed on top and the time index (``observed`` or
        ``predicted``) below.

        Returns:
            np.ndarray: uint8 RGB ``[T_in + T_out, H, W, 3]``.
        """
        observed, gt, pred, _ = self._split(inputs, data_sample)
        if gt is None or pred is None:
            raise ValueError('a side-by-side video needs both pred_frames '
                             'and gt_frames in the data sample')
        factor = max(2, self._factor(*observed.shape[1:3]))
        observed = self._upscale(observed, factor)
        gt, pred = self._upscale(gt, factor), self._upscale(pred, factor)
        t_in, t_out = len(observed), len(gt)
        h, w = observed.shape[1:3]
        g = max(self.gap, 4)
        font = float(np.clip(h / 200, 0.35, 0.6))
        top_h = text_size('prediction', font)[1] + 6
        bottom_h = text_size('t+10 predicted', font)[1] + 6
        width = 3 * w + 4 * g
        in_labels, out_labels = time_labels(t_in, t_out)
        video = []
        for k in range(t_in + t_out):
            if k < t_in:
                panels = [observed[k]] * 3
                caption = f'{in_labels[k]} observed'
            else:
                j = k - t_in
                panels = [observed[-1], gt[j], pred[j]]
                caption = f'{out_labels[j]} predicted'
            frame = np.full((top_h + h + bottom_h, width, 3), BACKGROUND,
                            np.uint8)
            for p, (panel, name) in enumerate(zip(panels, self.PANELS)):
                x = g + p * (w + g)
                frame[top_h:top_h + h, x:x + w] = panel
                tw = text_size(name, font)[0]
                put_text(frame, name, (x + (w - tw) // 2, top_h - 4), font)
            if k >= t_in:
                x = g + (w - text_size('t0', font)[0]) // 2
                put_text(frame, 't0', (x, top_h + h + bottom_h - 5), font)
            tw = text_size(caption, font)[0]
            put_text(frame, caption,
                     (g + w + g +
                      (2 * w + g - tw) // 2, top_h + h + bottom_h - 5), font)
            video.append(frame)
        return np.stack(video)

    # ------------------------------------------------------------------
    # output
    # ------------------------------------------------------------------
    def _tensorboard_experiments(self) -> list:
        return [
            backend.experiment for backend in self._vis_backends.values()
            if type(backend).__name__ == 'TensorboardVisBackend'
        ]

    def add_video(self, name: str, frames: np.ndarray, step: int = 0) -> bool:
        """Send ``frames`` (uint8 ``[T, H, W, 3]``) to the TensorBoard
        backends as a video.

        TensorBoard videos need the ``moviepy`` package; without it (or
        without a TensorBoard backend) nothing is sent and False is
        returned, the strip image sent by :meth:`add_datasample` stands
        in.
        """
        experiments = self._tensorboard_experiments()
        if not experiments:
            return False
        try:
            import moviepy  # noqa: F401
        except ImportError:
            return False
        video = torch.from_numpy(frames).permute(0, 3, 1, 2)[None]
        for writer in experiments:
            writer.add_video(name, video, step, fps=self.video_fps)
        return True

    @master_only
    def add_datasample(self,
                       name: str,
                       inputs,
                       data_sample,
                       step: int = 0,
                       show: bool = False,
                       out_file: Optional[str] = None,
                       video_file: Optional[str] = None,
                       video: bool = False) -> np.ndarray:
        """Draw ``data_sample`` (with ``pred_frames`` / ``gt_frames``) after
        its observed ``inputs`` (uint8 or float ``[T, C, H, W]``).

        The strip goes to ``out_file`` (PNG, written atomically) when
        given, else to the visualizer's backends (``add_image``; e.g.
        TensorBoard). ``video_file`` (``.gif``, ``.mp4`` or ``.avi``) also
        writes the side-by-side video; ``video=True`` sends it to the
        TensorBoard backends when ``moviepy`` is installed.

        Returns:
            np.ndarray: the strip, uint8 RGB.
        """
        strip = self.make_strip(inputs, data_sample)
        self.set_image(strip)
        if show:
            self.show(strip, win_name=name)
        if out_file is not None:
            ok, encoded = cv2.imencode(
                osp.splitext(out_file)[1] or '.png', strip[..., ::-1])
            if not ok:
                raise ValueError(f'cannot encode the strip for "{out_file}"'
                                 '; use a .png or .jpg file name')
            atomic_write_bytes(out_file, encoded.tobytes())
        else:
            self.add_image(name, strip, step)
        if video_file is not None or video:
            frames = self.make_video_frames(inputs, data_sample)
            if video_file is not None:
                write_video(frames, video_file, fps=self.video_fps)
            if video:
                self.add_video(name, frames, step)
        return strip


def side_by_side(visualizer: VideoPredVisualizer,
                 samples: Sequence[Tuple]) -> np.ndarray:
    """Stack the side-by-side videos of several ``(inputs, data_sample)``
    pairs vertically (same length and frame size), e.g. for a demo GIF."""
    videos = [visualizer.make_video_frames(i, s) for i, s in samples]
    if len({v.shape for v in videos}) != 1:
        raise ValueError('the samples give videos of different shapes '
                         f'{sorted({v.shape for v in videos})}')
    return np.concatenate(videos, axis=1)
