# Copyright (c) mmvp contributors. All rights reserved.
"""Video prediction inferencer: a video in, predicted frames out."""
import copy
import inspect
import os
import os.path as osp
import re
import warnings
from datetime import datetime
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.infer import BaseInferencer

from mmvp.registry import DATASETS, INFERENCERS, MODELS, TRANSFORMS
from mmvp.structures import VideoPredDataSample
from mmvp.utils import (check_checkpoint_compatibility, register_all_modules,
                        safe_load)
from .video_input import load_frames

InputType = Union[str, os.PathLike, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]

# keys of a dataset config that give the frame size (int or (h, w))
_SIZE_KEYS = ('frame_size', 'image_size', 'img_size', 'resolution')
# deterministic geometric steps of a test pipeline that the inferencer
# applies to its inputs (the rest loads, encodes values or packs)
FRAME_STEPS = ('CenterCropFrames', 'ResizeFrames')


def _as_hw(value: Any, where: str) -> Tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return int(value[0]), int(value[1])
    raise ValueError(f'{where}: expected a frame size int or (height, '
                     f'width), got {value!r}')


def config_frame_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """Frame size ``(height, width)`` the model was trained on, read from
    ``test_dataloader.dataset`` (or ``val``/``train``): an explicit size key,
    ``metainfo.resolution``, a ``Resize`` step of the pipeline
    (``scale=(w, h)``) or the default ``image_size`` of the dataset class.
    None when nothing says."""
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = (cfg.get(loader) or {}).get('dataset') or {}
        for key in _SIZE_KEYS:
            if dataset.get(key) is not None:
                return _as_hw(dataset[key], f'{loader}.dataset.{key}')
        meta = dataset.get('metainfo') or {}
        if isinstance(meta, dict) and meta.get('resolution') is not None:
            return _as_hw(meta['resolution'],
                          f'{loader}.dataset.metainfo.resolution')
        for step in dataset.get('pipeline') or []:
            if 'Resize' in str(step.get('type', '')) and \
                    step.get('scale') is not None:
                w, h = _as_hw(step['scale'], f'{loader} Resize.scale')
                return h, w
        dataset_type = dataset.get('type')
        if isinstance(dataset_type, str):
            cls = DATASETS.get(dataset_type)
            if cls is not None:
                params = inspect.signature(cls.__init__).parameters
                for key in _SIZE_KEYS:
                    if key in params and isinstance(params[key].default,
                                                    (int, tuple, list)):
                        return _as_hw(params[key].default,
                                      f'{dataset_type} default {key}')
    return None


@INFERENCERS.register_module()
class VideoPredInferencer(BaseInferencer):
    """Predict future frames of videos with an mmvp model.

    Example::

        from mmvp.apis import VideoPredInferencer
        inferencer = VideoPredInferencer(
            model='configs/motionrnn_predrnn_vmnist.py',
            weights='work_dirs/motionrnn_predrnn_vmnist/iter_100000.pth')
        result = inferencer('clip.mp4', num_frames=20)
        frames = result['predictions'][0]['pred_frames']  # uint8 [20,H,W,C]

    Inputs: a video file (decord, OpenCV fallback; GIF via Pillow), a folder
    of frame images (natural order), a uint8 array ``[T, H, W, C]`` (or
    ``[T, H, W]``), or a list of these. Each input is converted the way the
    model was trained: channels to the model's ``img_channels`` (RGB ->
    grey by OpenCV's luma weights, grey repeated to RGB, alpha dropped);
    the geometric steps of the config's test pipeline (``CenterCropFrames``,
    ``ResizeFrames``, e.g. the Human3.6M centre half crop); then, if the
    size still differs, a resize to the config's frame size (INTER_AREA
    when shrinking, INTER_LINEAR otherwise). Frames stay uint8; the model's
    own data preprocessor scales them to [0, 1] and patchifies.

    Windows: the model observes ``in_frames`` (T_in) frames. By default it
    predicts from the last T_in frames of each input (the future after the
    video ends). ``start=k`` takes the window starting at frame ``k``;
    ``stride=s`` takes every window ``start, start + s, ...`` (sliding
    windows over a long video, ``start`` defaulting to 0).

    ``num_frames`` (N) may exceed the trained horizon ``out_frames``: the
    model's ``test_cfg.num_future`` is set to N for the call.

    Checkpoints are read with ``torch.load(weights_only=True)``
    (:func:`mmvp.utils.safe_load`) and must fit the config exactly.

    Args:
        model (str | Config | dict): Config file or config of the model.
        weights (str, optional): Checkpoint file. None keeps random
            weights (with a warning).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...;
            None picks the available accelerator.
        frame_size (int | tuple, optional): ``(height, width)`` override of
            the frame size read from the config.
        scope (str): Registry scope. Defaults to ``'mmvp'``.
        show_progress (bool): Show a progress bar. Defaults to False.
    """

    preprocess_kwargs: set = {'start', 'stride'}
    forward_kwargs: set = {'num_frames'}
    visualize_kwargs: set = {'return_vis', 'out_dir'}
    postprocess_kwargs: set = set()

    def __init__(self,
                 model: Union[str, Config, dict],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 frame_size: Optional[Union[int, Sequence[int]]] = None,
                 scope: str = 'mmvp',
                 show_progress: bool = False) -> None:
        register_all_modules(init_default_scope=False)
        if isinstance(model, (str, os.PathLike)):
            model = os.fspath(model)
            if not osp.isfile(model):
                raise FileNotFoundError(
                    f'config file not found: "{model}" (VideoPredInferencer'
                    ' takes a config file path, Config or dict)')
        if weights is not None and not osp.isfile(os.fspath(weights)):
            raise FileNotFoundError(f'checkpoint file not found: "{weights}"')
        self._frame_size_arg = frame_size
        super().__init__(
            model=model,
            weights=None if weights is None else os.fspath(weights),
            device=device or get_device(),
            scope=scope,
            show_progress=show_progress)
        self.frame_size = self._resolve_frame_size(self.cfg)
        self.frame_steps = self._init_frame_steps(self.cfg)

    # ------------------------------------------------------------------
    # set-up
    def _init_model(self,
                    cfg: Config,
                    weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        if not cfg or 'model' not in cfg:
            raise ValueError('VideoPredInferencer needs a config with a '
                             '`model` entry')
        model_cfg = copy.deepcopy(cfg.model)
        model = MODELS.build(model_cfg)
        if weights is not None:
            checkpoint = safe_load(weights, map_location='cpu')
            # raises with the first mismatching parameter named
            check_checkpoint_compatibility(
                model, checkpoint, weights, config=cfg.filename)
            state = checkpoint.get('state_dict', checkpoint)
            state = {re.sub(r'^module\.', '', k): v for k, v in state.items()}
            model.load_state_dict(state, strict=True)
        else:
            warnings.warn('VideoPredInferencer: no weights given; the '
                          'predictions come from a randomly initialised '
                          'model')
        model.cfg = cfg
        model.to(device)
        model.eval()
        return model

    def _init_pipeline(self, cfg: Config):
        return load_frames

    def _init_collate(self, cfg: Config):
        return _collate

    def _init_visualizer(self, cfg: Config):
        from mmvp.visualization import VideoPredVisualizer
        name = f'video_pred_inferencer-{datetime.now().timestamp()}'
        return VideoPredVisualizer(name=name)

    def _init_frame_steps(self, cfg: Config) -> list:
        """The test pipeline's geometric steps (``FRAME_STEPS``), e.g. the
        Human3.6M centre crop then resize; a ``frame_size`` given to the
        inferencer replaces the pipeline's resize."""
        dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
        steps = []
        for step in dataset.get('pipeline') or []:
            kind = step.get('type') if isinstance(step, dict) else None
            if kind not in FRAME_STEPS:
                continue
            if kind == 'ResizeFrames' and self._frame_size_arg is not None:
                continue
            steps.append(TRANSFORMS.build(copy.deepcopy(step)))
        return steps

    def _resolve_frame_size(self, cfg: Config) -> Optional[Tuple[int, int]]:
        if self._frame_size_arg is not None:
            size = _as_hw(self._frame_size_arg, 'frame_size')
        else:
            size = config_frame_size(cfg)
        if size is not None:
            self._check_size(size, 'the frame size')
        return size

    def _check_size(self, size: Tuple[int, int], what: str) -> None:
        patch = int(getattr(self.model, 'patch_size', 1))
        mult = 2 * patch if getattr(self.model, 'neck', None) is not None \
            else patch
        if size[0] % mult or size[1] % mult or min(size) <= 0:
            raise ValueError(
                f'{what} {size[0]}x{size[1]} does not suit the model: height '
                f'and width must be multiples of {mult} (patch size {patch}'
                f'{" x 2 for MotionGRU" if mult != patch else ""}); pass '
                'frame_size=(h, w)')

    @property
    def in_frames(self) -> int:
        return int(self.model.in_frames)

    @property
    def img_channels(self) -> int:
        return int(getattr(self.model, 'img_channels', 3))

    # ------------------------------------------------------------------
    # preprocessing
    def convert_frames(self, frames: np.ndarray) -> np.ndarray:
        """Channels and size as the model was trained: uint8
        ``[T, h, w, img_channels]``."""
        channels = self.img_channels
        if frames.shape[-1] == 4:
            frames = frames[..., :3]
        if channels == 1 and frames.shape[-1] == 3:
            frames = np.stack(
                [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])[...,
                                                                       None]
        elif channels == 3 and frames.shape[-1] == 1:
            frames = np.repeat(frames, 3, axis=-1)
        elif frames.shape[-1] != channels:
            raise ValueError(f'cannot convert {frames.shape[-1]}-channel '
                             f'frames to the model\'s {channels} channels')
        if self.frame_steps:
            results = dict(frames=frames)
            for step in self.frame_steps:
                results = step(results)
            frames = results['frames']
        size = self.frame_size
        if size is None:
            size = frames.shape[1:3]
            self._check_size(size, 'the input frame size (the config names '
                             'none)')
        h, w = size
        if frames.shape[1:3] != (h, w):
            shrink = frames.shape[1] * frames.shape[2] > h * w
            interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
            resized = [
                cv2.resize(f, (w, h), interpolation=interp) for f in frames
            ]
            frames = np.stack(
                [r if r.ndim == 3 else r[..., None] for r in resized])
        return np.ascontiguousarray(frames)

    def window_starts(self, num: int, start: Optional[int],
                      stride: Optional[int], name: str) -> List[int]:
        """First frame of every window of ``in_frames`` frames."""
        t_in = self.in_frames
        if num < t_in:
            raise ValueError(f'{name} has {num} frames; the model observes '
                             f'in_frames={t_in} frames before predicting')
        last = num - t_in
        if start is not None and not -num <= start <= last:
            raise ValueError(f'{name}: start={start} leaves fewer than '
                             f'in_frames={t_in} frames (the video has {num})')
        if start is not None and start < 0:
            start += num
            if start > last:
                raise ValueError(f'{name}: start leaves fewer than '
                                 f'in_frames={t_in} frames')
        if stride is None:
            return [last if start is None else start]
        if stride < 1:
            raise ValueError(f'stride must be >= 1, got {stride}')
        return list(range(start or 0, last + 1, stride))

    def _inputs_to_list(self, inputs: InputsType) -> list:
        # a folder is one video of frames, not a list of inputs
        if isinstance(inputs, (list, tuple)):
            return list(inputs)
        return [inputs]

    def preprocess(self,
                   inputs: list,
                   batch_size: int = 1,
                   start: Optional[int] = None,
                   stride: Optional[int] = None) -> Iterator[dict]:
        """Yield batches of windows ``dict(inputs=[uint8 [T_in, C, h, w]],
        data_samples=[...])``."""

        def windows():
            for i, source in enumerate(inputs):
                name = source if isinstance(source,
                                            (str, os.PathLike)) else \
                    f'input {i} (array)'
                frames = self.convert_frames(self.pipeline(source))
                for s in self.window_starts(
                        len(frames), start, stride, str(name)):
                    clip = frames[s:s + self.in_frames]
                    future = frames[s + self.in_frames:]
                    sample = VideoPredDataSample(
                        metainfo=dict(
                            input_index=i,
                            window_start=s,
                            source=str(name),
                            frame_size=tuple(frames.shape[1:3])))
                    sample.future_frames = torch.from_numpy(
                        future.transpose(0, 3, 1, 2).copy())
                    yield dict(
                        inputs=torch.from_numpy(
                            clip.transpose(0, 3, 1, 2).copy()),
                        data_sample=sample)

        yield from map(self.collate_fn,
                       self._get_chunk_data(windows(), batch_size))

    # ------------------------------------------------------------------
    @torch.no_grad()
    def forward(self, inputs: dict, num_frames: Optional[int] = None):
        """Predict ``num_frames`` frames after each window."""
        test_cfg = self.model.test_cfg
        saved = copy.deepcopy(test_cfg)
        if num_frames is not None:
            if int(num_frames) < 1:
                raise ValueError(f'num_frames must be >= 1, got {num_frames}')
            test_cfg['num_future'] = int(num_frames)
        try:
            samples = self.model.test_step(inputs)
        finally:
            test_cfg.clear()
            test_cfg.update(saved)
        for sample, clip in zip(samples, inputs['inputs']):
            sample.input_frames = clip
            num = sample.pred_frames.shape[0]
            future = sample.future_frames
            if future.shape[0] >= num:
                sample.gt_frames = future[:num].float().to(
                    sample.pred_frames.device) / 255.
        return samples

    def visualize(self,
                  inputs: list,
                  preds: List[VideoPredDataSample],
                  return_vis: bool = False,
                  out_dir: Optional[str] = None) -> Optional[list]:
        """Prediction strips (input | truth when known | prediction |
        error) as uint8 RGB images; written to ``out_dir`` as
        ``<input>_w<start>.png`` when given."""
        if not return_vis and out_dir is None:
            return None
        strips = []
        for sample in preds:
            strip = self.visualizer.make_strip(sample.input_frames, sample)
            strips.append(strip)
            if out_dir is not None:
                os.makedirs(out_dir, exist_ok=True)
                meta = sample.metainfo
                name = (f'input{meta["input_index"]}_w'
                        f'{meta["window_start"]:05d}.png')
                cv2.imwrite(osp.join(out_dir, name), strip[..., ::-1])
        return strips if return_vis else None

    def postprocess(self,
                    preds: List[VideoPredDataSample],
                    visualization: Optional[list] = None,
                    return_datasamples: bool = False) -> dict:
        """``dict(predictions=[...], visualization=[...])``.

        Each prediction is a dict: ``input_index``, ``window_start``,
        ``source``, ``input_frames`` (uint8 ``[T_in, h, w, C]``, the model's
        view of the window), ``pred_frames`` (uint8 ``[N, h, w, C]``,
        clipped and rounded), ``gt_frames`` (uint8 ``[k, h, w, C]``: the
        true frames that follow the window in the input, ``k <= N``; empty
        when the window ends the video). With ``return_datasamples=True``
        the predictions are the :class:`VideoPredDataSample` objects
        (float ``pred_frames`` on [0, 1], unclipped).
        """
        if return_datasamples:
            results = preds
        else:
            results = []
            for sample in preds:
                meta = sample.metainfo
                pred = sample.pred_frames.detach().float().clamp(0, 1)
                pred = (pred * 255).round().to(torch.uint8).cpu()
                num = pred.shape[0]
                results.append(
                    dict(
                        input_index=meta['input_index'],
                        window_start=meta['window_start'],
                        source=meta['source'],
                        input_frames=_hwc(sample.input_frames),
                        pred_frames=_hwc(pred),
                        gt_frames=_hwc(sample.future_frames[:num])))
        return dict(predictions=results, visualization=visualization or [])

    def __call__(self,
                 inputs: InputsType,
                 num_frames: Optional[int] = None,
                 start: Optional[int] = None,
                 stride: Optional[int] = None,
                 batch_size: int = 1,
                 return_vis: bool = False,
                 out_dir: Optional[str] = None,
                 return_datasamples: bool = False) -> Dict[str, list]:
        """Predict the future of ``inputs``.

        Args:
            inputs: A video file, a frame folder, a uint8 array
                ``[T, H, W, C]``, or a list of them.
            num_frames (int, optional): Frames to predict per window
                (default: the model's ``test_cfg.num_future`` or
                ``out_frames``).
            start (int, optional): First frame of the (first) window;
                negative counts from the end. Default: the last
                ``in_frames`` frames (no ``stride``) or 0 (with ``stride``).
            stride (int, optional): Predict from every window ``start,
                start + stride, ...``.
            batch_size (int): Windows per forward pass.
            return_vis (bool): Return prediction strips.
            out_dir (str, optional): Write the strips there.
            return_datasamples (bool): Return data samples instead of
                dicts.

        Returns:
            dict: ``predictions`` (one entry per window, see
            :meth:`postprocess`) and ``visualization``.
        """
        return super().__call__(
            inputs,
            return_datasamples=return_datasamples,
            batch_size=batch_size,
            num_frames=num_frames,
            start=start,
            stride=stride,
            return_vis=return_vis,
            out_dir=out_dir)


def _hwc(frames: torch.Tensor) -> np.ndarray:
    """uint8 ``[T, C, H, W]`` tensor -> ``[T, H, W, C]`` array."""
    return np.ascontiguousarray(frames.cpu().numpy().transpose(0, 2, 3, 1))


def _collate(batch: List[dict]) -> dict:
    return dict(
        inputs=[item['inputs'] for item in batch],
        data_samples=[item['data_sample'] for item in batch])
