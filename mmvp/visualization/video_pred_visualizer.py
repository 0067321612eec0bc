# Copyright (c) mmvp contributors. All rights reserved.
from typing import Optional

import cv2
import mmcv
import numpy as np
import torch
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from mmvp.registry import VISUALIZERS


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


@VISUALIZERS.register_module()
class VideoPredVisualizer(Visualizer):
    """Draws one sequence as a strip image with four rows:

    ``input`` (the observed frames) | ``ground truth`` | ``prediction`` |
    ``|error|`` (absolute error of the prediction, jet colour map, 0 -> blue,
    1 -> red). Frames are laid out left to right in time; rows shorter than
    the longest are padded with grey.

    Args:
        name (str): Instance name.
        vis_backends (list[dict], optional): Backends (LocalVisBackend,
            TensorboardVisBackend, ...).
        save_dir (str, optional): Where backends write.
        gap (int): Pixels between frames and rows.
    """

    ROWS = ('input', 'ground truth', 'prediction', '|error|')

    def __init__(self,
                 name: str = 'visualizer',
                 vis_backends: Optional[list] = None,
                 save_dir: Optional[str] = None,
                 gap: int = 2,
                 **kwargs):
        super().__init__(
            name=name, vis_backends=vis_backends, save_dir=save_dir, **kwargs)
        self.gap = gap

    def _row(self, frames: np.ndarray, width: int) -> np.ndarray:
        t, h, w, _ = frames.shape
        g = self.gap
        row = np.full((h, width, 3), 128, np.uint8)
        for i in range(t):
            x = i * (w + g)
            row[:, x:x + w] = frames[i]
        return row

    def make_strip(self, inputs, data_sample) -> np.ndarray:
        """The strip image (uint8 RGB) of one sample."""
        in_frames = int(data_sample.metainfo.get('in_frames', 0)) or None
        inputs = to_uint8_frames(inputs[:in_frames] if in_frames else inputs)
        rows = [inputs]
        pred = data_sample.get('pred_frames')
        gt = data_sample.get('gt_frames')
        if gt is not None:
            rows.append(to_uint8_frames(gt))
        if pred is not None:
            rows.append(to_uint8_frames(pred))
        if pred is not None and gt is not None:
            err = (pred.detach().float().clamp(0, 1) -
                   gt.detach().float()).abs().mean(dim=1)  # [T, H, W]
            err = (err.cpu().numpy() * 255).clip(0, 255).astype(np.uint8)
            colored = np.stack([
                cv2.applyColorMap(e, cv2.COLORMAP_JET)[..., ::-1] for e in err
            ])
            rows.append(colored)
        h, w = rows[0].shape[1:3]
        longest = max(len(r) for r in rows)
        width = longest * (w + self.gap) - self.gap
        parts = []
        for row in rows:
            parts.append(self._row(row, width))
            parts.append(np.full((self.gap, width, 3), 255, np.uint8))
        return np.concatenate(parts[:-1], axis=0)

    @master_only
    def add_datasample(self,
                       name: str,
                       inputs,
                       data_sample,
                       step: int = 0,
                       show: bool = False,
                       out_file: Optional[str] = None) -> np.ndarray:
        """Draw ``data_sample`` (with ``pred_frames`` / ``gt_frames``) after
        its observed ``inputs`` (uint8 or float ``[T, C, H, W]``); send it to
        the backends, and write it to ``out_file`` when given."""
        strip = self.make_strip(inputs, data_sample)
        self.set_image(strip)
        if show:
            self.show(strip, win_name=name)
        if out_file is not None:
            mmcv.imwrite(strip[..., ::-1], out_file)
        else:
            self.add_image(name, strip, step)
        return strip
