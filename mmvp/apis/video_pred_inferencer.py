# Copyright (c) mmvp contributors. All rights reserved.
"""Video prediction inferencer: a video in, predicted frames out."""
import copy
import os
import os.path as osp
import re
import warnings
from datetime import datetime
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.device import get_device
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log

from mmvp.datasets.transforms import PackVideoPredInputs, ResizeFrames
from mmvp.registry import INFERENCERS, MODELS, TRANSFORMS
from mmvp.structures import VideoPredDataSample
from mmvp.utils import (check_checkpoint_compatibility, register_all_modules,
                        safe_load)
from .config_facts import as_hw, frame_interval_of, metainfo_of_test_dataset
from .inference_pipeline import (PIPELINE_KEY, FitFrameSize, InferencePipeline,
                                 build_decoders, split_test_pipeline)
from .model_index import resolve_model
from .video_input import open_input

InputType = Union[str, os.PathLike, np.ndarray]
InputsType = Union[InputType, Sequence[InputType]]


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

    **Model.** A config file, a :class:`Config` / dict, or a model name of
    the model index (:func:`mmvp.apis.list_models`), whose listed weights
    are used when ``weights`` is None.

    **Inputs.** A video file (decord, OpenCV fallback; GIF too), a folder of
    frame images, a uint8 ``.npy`` / ``.npz`` frame array, a uint8 array
    ``[T, H, W, C]`` (or ``[T, H, W]``), or a list of these.

    **Pipeline.** Every window runs through the config's
    ``test_dataloader.dataset.pipeline`` with only its decode step swapped
    for the decode transform of the input's storage (``DecordDecode`` /
    ``OpenCVDecode`` as the config's backend says, ``FrameFolderDecode``,
    ``ArrayDecode``, or an in-memory one for arrays), with the config's
    ``color_type`` (without a decode step: grey for 1-channel models,
    RGB otherwise). So an input is read like the datasets read (frame
    folders in natural order, RGB, alpha dropped) and cropped and resized
    like the test set (e.g. the Human3.6M centre half then 128 x 128).
    ``frame_size=(h, w)`` replaces the pipeline's resize; a pipeline
    without one (V-MNIST draws its frames at their size) gets a resize to
    the dataset's ``resolution``. Both resize with ``INTER_AREA`` when
    shrinking, ``INTER_LINEAR`` when enlarging. A config that reads a frame
    cache is refused: the cache applied the crop and resize, so its
    pipeline has none (use the video config of the same protocol). A
    pipeline that loads raw values for a later encoding step (MeteoNet
    radar) is refused too.

    **Frame interval.** A window takes every ``frame_interval``-th frame of
    the input, as the model saw them in training: by default the test
    dataset's interval (Human3.6M ``mim``: 10 frames of the 50 fps
    videos; video folders: their ``frame_interval``; V-MNIST: 1), read from
    the dataset's metainfo (built with ``lazy_init=True``). The interval
    used is logged.

    **Windows.** The model observes ``in_frames`` (T_in) frames. By default
    it predicts from the last window of each input (the future after the
    video ends). ``start=k`` takes the window whose first frame is frame
    ``k``; ``stride=s`` takes every window ``start, start + s, ...``
    (``start`` defaulting to 0). Only one window is decoded at a time, and
    only its frames: T_in frames, plus up to ``num_frames`` following
    frames when ``with_gt`` (the true future, for comparison).

    ``num_frames`` (N) may exceed the trained horizon ``out_frames``: it
    travels to the model in each data sample's ``num_future`` metainfo.

    Checkpoints are read with ``torch.load(weights_only=True)``
    (:func:`mmvp.utils.safe_load`) and must fit the config exactly.

    Args:
        model (str | Config | dict): Config file, model name or config.
        weights (str, optional): Checkpoint file. None: the weights the
            model index lists for a model name, else random weights (with
            a warning).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...;
            None picks the available accelerator.
        frame_size (int | tuple, optional): ``(height, width)`` to resize
            the frames to, replacing the test pipeline's resize.
        frame_interval (int, optional): Input frames between two frames of
            a window; overrides the test dataset's interval.
        scope (str): Registry scope. Defaults to ``'mmvp'``.
        show_progress (bool): Show a progress bar. Defaults to False.
    """

    preprocess_kwargs: set = {'start', 'stride', 'num_frames', 'with_gt'}
    forward_kwargs: set = set()
    visualize_kwargs: set = {'return_vis', 'out_dir'}
    postprocess_kwargs: set = {'return_datasamples'}

    def __init__(self,
                 model: Union[str, Config, dict],
                 weights: Optional[str] = None,
                 device: Optional[str] = None,
                 frame_size: Optional[Union[int, Sequence[int]]] = None,
                 frame_interval: Optional[int] = None,
                 scope: str = 'mmvp',
                 show_progress: bool = False) -> None:
        register_all_modules(init_default_scope=False)
        if isinstance(model, (str, os.PathLike)):
            model = os.fspath(model)
            if not osp.isfile(model):
                if model.endswith('.py') or os.sep in model:
                    raise FileNotFoundError(
                        f'config file not found: "{model}" (VideoPredInfer'
                        'encer takes a config file, a model name of '
                        'mmvp.apis.list_models(), a Config or a dict)')
                model, listed = resolve_model(model)
                if weights is None:
                    weights = listed
        if weights is not None:
            weights = os.fspath(weights)
            if '://' not in weights and not osp.isfile(weights):
                raise FileNotFoundError(
                    f'checkpoint file not found: "{weights}"')
        if frame_interval is not None and (
                int(frame_interval) != frame_interval or frame_interval < 1):
            raise ValueError('frame_interval must be a positive int, got '
                             f'{frame_interval!r}')
        self._frame_size_arg = (None if frame_size is None else as_hw(
            frame_size, 'frame_size'))
        self._frame_interval_arg = frame_interval
        #: the checkpoint loaded (None: random weights)
        self.weights = weights
        super().__init__(
            model=model,
            weights=weights,
            device=device or get_device(),
            scope=scope,
            show_progress=show_progress)

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

    def _init_pipeline(self, cfg: Config) -> InferencePipeline:
        """The test pipeline with its decode step swapped (see the class
        docstring); sets :attr:`frame_interval` and :attr:`frame_size`."""
        decode, rest = split_test_pipeline(cfg)
        decoders, self.video_backend = build_decoders(decode,
                                                      self.img_channels)
        transforms = [
            TRANSFORMS.build(t) if isinstance(t, dict) else t for t in rest
        ]
        packs = [
            i for i, t in enumerate(transforms)
            if isinstance(t, PackVideoPredInputs)
        ]
        if not packs:
            raise ValueError(f'{PIPELINE_KEY} has no PackVideoPredInputs '
                             'step')
        resizes = [
            i for i, t in enumerate(transforms) if isinstance(t, ResizeFrames)
        ]
        facts = self._dataset_facts(cfg, need_size=not resizes)
        size, why = self._frame_size_arg, 'frame_size argument'
        if size is not None:
            fit = FitFrameSize(size)
            if resizes:
                for i in resizes:
                    transforms[i] = fit
            else:
                transforms.insert(packs[0], fit)
        elif resizes:
            w, h = transforms[resizes[-1]].scale
            size, why = (h, w), f'{transforms[resizes[-1]]!r} of the test ' \
                'pipeline'
        elif facts.get('resolution') is not None:
            size = as_hw(facts['resolution'], 'test dataset resolution')
            why = 'the test dataset\'s resolution'
            transforms.insert(packs[0], FitFrameSize(size))
        if size is not None:
            self._check_size(size, f'the frame size ({why})')
            print_log(
                f'VideoPredInferencer: frames resized to {size[0]}x{size[1]}'
                f' ({why})',
                logger='current')
        else:
            print_log(
                'VideoPredInferencer: frames keep their size (the test '
                'pipeline has no resize and the dataset states no '
                'resolution); pass frame_size=(h, w) to resize them',
                logger='current')
        self.frame_size = size
        self.frame_interval = facts['frame_interval']
        print_log(
            f'VideoPredInferencer: frame interval {self.frame_interval} '
            f'({facts["interval_source"]})',
            logger='current')
        return InferencePipeline(decoders, transforms)

    def _dataset_facts(self, cfg: Config, need_size: bool) -> dict:
        """Frame interval (and, with ``need_size``, frame size) of the
        test dataset."""
        facts = dict(
            frame_interval=self._frame_interval_arg,
            interval_source='frame_interval argument')
        if self._frame_interval_arg is not None and (
                not need_size or self._frame_size_arg is not None):
            return facts
        try:
            meta = metainfo_of_test_dataset(cfg)
        except Exception as err:  # the dataset's data may be missing
            if self._frame_interval_arg is None:
                facts.update(
                    frame_interval=1,
                    interval_source='the test dataset cannot be built '
                    f'({type(err).__name__}: {err}); pass frame_interval '
                    'to set it')
            return facts
        facts['resolution'] = meta.get('resolution')
        if self._frame_interval_arg is None:
            interval, key = frame_interval_of(meta)
            facts.update(
                frame_interval=interval,
                interval_source=f'the test dataset\'s {key}'
                if key else 'the test dataset states none: every frame')
        return facts

    def _init_collate(self, cfg: Config):
        return _collate

    def _init_visualizer(self, cfg: Config):
        from mmvp.visualization import VideoPredVisualizer
        name = f'video_pred_inferencer-{datetime.now().timestamp()}'
        return VideoPredVisualizer(name=name)

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

    def default_num_frames(self) -> int:
        """Frames predicted when ``num_frames`` is not given."""
        test_cfg = getattr(self.model, 'test_cfg', None) or {}
        return int(test_cfg.get('num_future') or self.model.out_frames)

    # ------------------------------------------------------------------
    # preprocessing
    def window_starts(self, num: int, start: Optional[int],
                      stride: Optional[int], name: str) -> List[int]:
        """First frame of every window of ``in_frames`` frames taken every
        :attr:`frame_interval` frames of an input of ``num`` frames."""
        t_in, step = self.in_frames, self.frame_interval
        span = (t_in - 1) * step + 1
        spans = f' every {step} frames (a window spans {span})' \
            if step > 1 else ''
        if num < span:
            raise ValueError(f'{name} has {num} frames; the model observes '
                             f'in_frames={t_in} frames{spans} before '
                             'predicting')
        last = num - span
        if start is not None and not -num <= start <= last:
            raise ValueError(f'{name}: start={start} leaves fewer than '
                             f'in_frames={t_in} frames{spans} (the video '
                             f'has {num})')
        if start is not None and start < 0:
            start += num
            if start > last:
                raise ValueError(f'{name}: start leaves fewer than '
                                 f'in_frames={t_in} frames{spans}')
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
                   stride: Optional[int] = None,
                   num_frames: Optional[int] = None,
                   with_gt: bool = True) -> Iterator[dict]:
        """Yield batches of windows ``dict(inputs=[uint8 [T_in, C, h, w]],
        data_samples=[...])``, decoding each window only when its batch is
        asked for."""
        if num_frames is None:
            num_frames = self.default_num_frames()
        if int(num_frames) != num_frames or num_frames < 1:
            raise ValueError(f'num_frames must be >= 1, got {num_frames}')
        num_frames = int(num_frames)
        t_in, step = self.in_frames, self.frame_interval

        def windows():
            for i, source in enumerate(inputs):
                video = open_input(source, i, self.video_backend)
                for s in self.window_starts(video.num_frames, start, stride,
                                            video.name):
                    last = s + (t_in - 1) * step
                    num_gt = 0
                    if with_gt:
                        num_gt = min(num_frames,
                                     (video.num_frames - 1 - last) // step)
                    inds = s + step * np.arange(t_in + num_gt)
                    yield self._window(video, i, s, inds, num_gt, num_frames)

        yield from map(self.collate_fn,
                       self._get_chunk_data(windows(), batch_size))

    def _window(self, video, index: int, start: int, inds: np.ndarray,
                num_gt: int, num_frames: int) -> dict:
        """Run the pipeline on the frames ``inds`` of ``video``."""
        results = dict(video.results)
        results.setdefault('filename', video.name)
        results.update(
            storage=video.storage,
            frame_inds=inds,
            in_frames=self.in_frames,
            out_frames=num_gt,
            source=video.name)
        packed = self.pipeline(results)
        frames, sample = packed['inputs'], packed['data_samples']
        if frames.shape[1] != self.img_channels:
            raise ValueError(
                f'{video.name}: the test pipeline gives {frames.shape[1]}-'
                f'channel frames, the model takes {self.img_channels}; set '
                "the decode step's color_type in the config")
        sample.set_metainfo(
            dict(
                input_index=index,
                window_start=start,
                source=video.name,
                frame_inds=inds,
                frame_interval=self.frame_interval,
                frame_size=tuple(frames.shape[2:]),
                out_frames=int(self.model.out_frames),
                num_future=num_frames))
        sample.future_frames = frames[self.in_frames:]
        return dict(inputs=frames[:self.in_frames], data_sample=sample)

    # ------------------------------------------------------------------
    @torch.no_grad()
    def forward(self, inputs: dict):
        """Predict ``num_future`` frames (data-sample metainfo) after each
        window."""
        samples = self.model.test_step(inputs)
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
        ``input<i>_w<start>.png`` when given."""
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
        ``source``, ``frame_inds`` (the input's frames the window took),
        ``input_frames`` (uint8 ``[T_in, h, w, C]``, the model's view of
        the window), ``pred_frames`` (uint8 ``[N, h, w, C]``, clipped and
        rounded), ``gt_frames`` (uint8 ``[k, h, w, C]``: the true frames
        that follow the window in the input, ``k <= N``; empty when the
        window ends the video or ``with_gt=False``). With
        ``return_datasamples=True`` the predictions are the
        :class:`VideoPredDataSample` objects (float ``pred_frames`` on
        [0, 1], unclipped).
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
                        frame_inds=meta['frame_inds'][:self.in_frames],
                        input_frames=_hwc(sample.input_frames),
                        pred_frames=_hwc(pred),
                        gt_frames=_hwc(sample.future_frames[:num])))
        return dict(predictions=results, visualization=visualization or [])

    def iter_predictions(self,
                         inputs: InputsType,
                         batch_size: int = 1,
                         **kwargs) -> Iterator[dict]:
        """Yield the predictions of :meth:`__call__` one window at a time,
        each batch decoded, predicted and postprocessed before the next is
        read (``tools/predict.py`` writes every window as it comes).

        Args:
            inputs: As for :meth:`__call__`.
            batch_size (int): Windows per forward pass.
            **kwargs: ``num_frames``, ``start``, ``stride``, ``with_gt``,
                ``return_datasamples``.
        """
        pre, fwd, vis, post = self._dispatch_kwargs(**kwargs)
        if vis:
            raise ValueError('iter_predictions draws no strips; got '
                             f'{sorted(vis)}')
        data = self.preprocess(
            self._inputs_to_list(inputs), batch_size=batch_size, **pre)
        for batch in data:
            preds = self.forward(batch, **fwd)
            yield from self.postprocess(preds, None, **post)['predictions']

    def __call__(self,
                 inputs: InputsType,
                 num_frames: Optional[int] = None,
                 start: Optional[int] = None,
                 stride: Optional[int] = None,
                 batch_size: int = 1,
                 with_gt: bool = True,
                 return_vis: bool = False,
                 out_dir: Optional[str] = None,
                 return_datasamples: bool = False) -> Dict[str, list]:
        """Predict the future of ``inputs``.

        Args:
            inputs: A video file, a frame folder, a .npy/.npz frame array,
                a uint8 array ``[T, H, W, C]``, or a list of them.
            num_frames (int, optional): Frames to predict per window
                (default: the model's ``test_cfg.num_future`` or
                ``out_frames``).
            start (int, optional): First frame of the (first) window;
                negative counts from the end. Default: the last window (no
                ``stride``) or 0 (with ``stride``).
            stride (int, optional): Predict from every window ``start,
                start + stride, ...`` (in the input's frames).
            batch_size (int): Windows per forward pass.
            with_gt (bool): Also decode the true frames that follow each
                window (``gt_frames``, truth rows of the strips). False
                decodes only the T_in observed frames per window.
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
            with_gt=with_gt,
            return_vis=return_vis,
            out_dir=out_dir)


def _hwc(frames: torch.Tensor) -> np.ndarray:
    """uint8 ``[T, C, H, W]`` tensor -> ``[T, H, W, C]`` array."""
    return np.ascontiguousarray(frames.cpu().numpy().transpose(0, 2, 3, 1))


def _collate(batch: List[dict]) -> dict:
    return dict(
        inputs=[item['inputs'] for item in batch],
        data_samples=[item['data_sample'] for item in batch])
