# Copyright (c) mmvp contributors. All rights reserved.
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper

from mmvp.registry import MODELS
from mmvp.structures import VideoPredDataSample
from ..utils import (channels_last_inputs, compile_modules, to_channels_last,
                     unpatchify)
from ..utils.ops import lerp
from .sampling import sampling_mask


@MODELS.register_module()
class VideoPredictor(BaseModel):
    """A recurrent video predictor: the time loop, sampling and the loss.

    The same class serves every backbone, with or without a neck:
    ``PredRNN`` is ``VideoPredictor(backbone=dict(type='PredRNN'))`` and
    MotionRNN-PredRNN adds ``neck=dict(type='MotionRNNNeck')``.

    Rollout (model_equations.md#rollout): ``T - 1`` steps; step ``t``
    consumes frame ``t`` (true, or the previous prediction as the sampling
    mask says) and predicts frame ``t + 1``. The loss covers all ``T - 1``
    outputs, as in the official code; evaluation uses the last ``T_out``.

    Args:
        backbone (dict): A :class:`BaseRecurrentStack` config; its
            ``in_channels`` defaults to ``patch_size**2 * img_channels``.
        neck (dict, optional): A :class:`BaseRecurrentNeck` config; its
            ``in_channels``, ``hidden_channels`` and ``num_layers`` default
            to the backbone's.
        loss (dict): Reconstruction loss (``MSELoss`` official, ``L1L2Loss``
            paper).
        img_channels (int): Channels of a frame (1 grey, 3 RGB).
        in_frames (int): Observed frames T_in.
        out_frames (int): Predicted frames T_out.
        sampling (dict, optional): ``dict(mode='linear', start, rate,
            stop_iter)`` (model_equations.md#scheduled-sampling) or
            ``dict(mode='reverse', start_iter, stop_iter, alpha)``
            (model_equations.md#reverse-scheduled-sampling); None feeds
            predictions back from ``T_in`` on.
        reverse_input (bool): Also train on the time-reversed batch, a
            second optimiser step with the same sampling mask
            (model_equations.md#training-loss).
        init_state (str): ``'zeros'`` or ``'xavier_normal'`` (official).
        channels_last (bool): Store conv weights, frames and states
            channels-innermost (NHWC), the layout oneDNN and cuDNN tensor
            cores convolve fastest (4-18% shorter CPU training steps for
            the 2-D backbones, no gain for E3D-LSTM; see
            docs/en/benchmarks.md). Values, shapes and ``state_dict`` keys
            are unchanged.
        compile_regions (bool | dict): ``torch.compile`` each module the
            time loop calls per layer and step (the cells and MotionGRU
            blocks, see :meth:`regions`) rather than the whole step. Every
            instance of a class shares the compiled code, so compiling
            takes a fraction of ``cfg.compile``'s time (71 s against 183 s
            for MotionRNN-PredRNN on a 2-core CPU; docs/en/benchmarks.md).
            True, or a dict of ``torch.compile`` keyword arguments (e.g.
            ``dict(mode='reduce-overhead')``). Parameters and
            ``state_dict`` keys are unchanged.
        sampling_seed (int): Seeds the sampling masks together with the
            iteration and the rank (see :meth:`make_sampling_mask`).
        data_preprocessor (dict): Defaults to ``VideoPredDataPreprocessor``.
        test_cfg (dict, optional): ``num_future``: frames to roll out in
            predict mode (default ``out_frames``; may be larger). A data
            sample's ``num_future`` metainfo wins (the inferencer's
            ``num_frames``).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 neck: Optional[dict] = None,
                 loss: dict = dict(type='MSELoss'),
                 img_channels: int = 1,
                 in_frames: int = 10,
                 out_frames: int = 10,
                 sampling: Optional[dict] = dict(
                     mode='linear', start=1.0, rate=2e-5, stop_iter=50000),
                 reverse_input: bool = False,
                 init_state: str = 'zeros',
                 channels_last: bool = False,
                 compile_regions: Union[bool, dict] = False,
                 sampling_seed: int = 0,
                 data_preprocessor: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        if data_preprocessor is None:
            data_preprocessor = dict(type='VideoPredDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            # build in mmvp's scope even when no default scope is set
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if in_frames < 1 or out_frames < 1:
            raise ValueError('in_frames and out_frames must be >= 1, got '
                             f'{in_frames} and {out_frames}')
        if init_state not in ('zeros', 'xavier_normal'):
            raise ValueError("init_state must be 'zeros' or "
                             f"'xavier_normal', got {init_state!r}")
        self.patch_size = getattr(self.data_preprocessor, 'patch_size', 1)
        backbone = dict(backbone)
        backbone.setdefault('in_channels', self.patch_size**2 * img_channels)
        self.backbone = MODELS.build(backbone)
        if neck is not None:
            neck = dict(neck)
            neck.setdefault('in_channels', self.backbone.in_channels)
            neck.setdefault('hidden_channels', self.backbone.hidden_channels)
            neck.setdefault('num_layers', self.backbone.num_layers)
            self.neck = MODELS.build(neck)
        else:
            self.neck = None
        self.loss_module = MODELS.build(loss)
        self.img_channels = img_channels
        self.in_frames = in_frames
        self.out_frames = out_frames
        sampling = dict(sampling) if sampling else {}
        self.sampling_mode = sampling.pop('mode', None)
        self.sampling_schedule = sampling
        # validate the schedule now rather than at the first iteration
        sampling_mask(1, in_frames, in_frames + out_frames, self.sampling_mode,
                      1, torch.device('cpu'), **self.sampling_schedule)
        self.reverse_input = reverse_input
        self.init_state = init_state
        self.channels_last = channels_last
        if channels_last:
            to_channels_last(self)
        self.compile_regions = compile_modules(self.regions(), compile_regions)
        self.sampling_seed = sampling_seed
        self.test_cfg = dict(test_cfg or {})

    def regions(self) -> List[torch.nn.Module]:
        """The backbone's and the neck's per-step modules (what
        ``compile_regions`` compiles)."""
        regions = self.backbone.regions()
        if self.neck is not None:
            regions += self.neck.regions()
        return regions

    # ------------------------------------------------------------------
    # the time loop
    def rollout(self,
                frames: torch.Tensor,
                total_frames: int,
                mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Run ``total_frames - 1`` steps over patchified ``frames``.

        Args:
            frames: ``[B, T_avail, C', h, w]`` true frames (at least
                ``in_frames`` of them).
            total_frames: T; the output holds ``T - 1`` predictions.
            mask: ``[B, T - 1]`` sampling mask; None = true frames for the
                first ``in_frames`` steps, own predictions after.

        Returns:
            ``[B, T - 1, C', h, w]``: prediction ``t`` is of frame ``t + 1``.
        """
        batch = frames.shape[0]
        if self.channels_last:
            # states are then created, and conv outputs come out, NHWC too
            frames = channels_last_inputs(frames)
        state = self.backbone.init_state(frames[:, 0], self.init_state)
        neck_state = None
        if self.neck is not None:
            neck_state = self.neck.init_state(state['h'][0], self.init_state)
        outputs = []
        x_hat = None
        if mask is not None:
            # [B, T - 1, 1, 1, 1] once; mask[:, t] is then a view per step
            mask = mask.to(frames.dtype).reshape(batch, -1, 1, 1, 1)
        for t in range(total_frames - 1):
            if mask is None:
                x = frames[:, t] if t < self.in_frames else x_hat
            elif t == 0:
                x = frames[:, 0]
            else:
                # m * x_t + (1 - m) * x_hat in one op; exact for 0/1 masks
                x = lerp(x_hat, frames[:, t], mask[:, t])
            x_hat, state, neck_state = self.backbone.forward_step(
                x, state, self.neck, neck_state)
            outputs.append(x_hat)
        self._last_state = state
        return torch.stack(outputs, dim=1)

    def _check_length(self, frames: torch.Tensor, need: int, what: str):
        if frames.dim() != 5:
            raise ValueError('expected patchified clips [B, T, C, H, W], got '
                             f'shape {tuple(frames.shape)}')
        if frames.shape[1] < need:
            raise ValueError(
                f'{what} needs {need} frames per clip (in_frames='
                f'{self.in_frames}, out_frames={self.out_frames}), got '
                f'{frames.shape[1]}; check the dataset\'s in/out frames')

    def _check_sample_lengths(self, data_samples):
        """The dataset and the model must agree on T_in / T_out."""
        for sample in data_samples or []:
            for key in ('in_frames', 'out_frames'):
                value = sample.metainfo.get(key) if hasattr(
                    sample, 'metainfo') else None
                if value is not None and value != getattr(self, key):
                    raise ValueError(
                        f'the dataset gives {key}={value} but the model '
                        f'has {key}={getattr(self, key)}; set the same '
                        f'value in model and dataset configs')
            return

    def current_iter(self) -> int:
        """The 1-based training iteration the sampling schedules use."""
        hub = MessageHub.get_current_instance()
        return int(hub.get_info('iter', 0)) + 1

    def make_sampling_mask(self, frames: torch.Tensor):
        """The training mask of the current iteration.

        Its random draws come from a generator seeded by ``(sampling_seed,
        iteration, rank)``, so the mask is a pure function of the iteration:
        a resumed run draws exactly the masks of an uninterrupted one,
        whatever else consumed the global random stream meanwhile.
        """
        total = self.in_frames + self.out_frames
        itr = self.current_iter()
        generator = None
        if self.sampling_mode is not None:
            seed = np.random.SeedSequence(
                [self.sampling_seed, itr, get_rank()]).generate_state(1)[0]
            generator = torch.Generator(device=frames.device)
            generator.manual_seed(int(seed))
        return sampling_mask(
            frames.shape[0],
            self.in_frames,
            total,
            self.sampling_mode,
            itr,
            frames.device,
            generator=generator,
            **self.sampling_schedule)

    # ------------------------------------------------------------------
    # BaseModel interface
    def forward(self,
                inputs: torch.Tensor,
                data_samples: Optional[List[VideoPredDataSample]] = None,
                mode: str = 'tensor',
                sampling_mask: Optional[torch.Tensor] = None):
        if mode == 'loss':
            return self.loss(inputs, data_samples, sampling_mask)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            self._check_length(inputs, self.in_frames, 'forward')
            return self.rollout(inputs, self._num_total())
        raise RuntimeError(f'Invalid mode "{mode}": expected "loss", '
                           '"predict" or "tensor"')

    def _num_total(self, data_samples=None) -> int:
        """``in_frames`` plus the frames to predict: the data samples'
        ``num_future`` metainfo when they carry one (all alike), else
        ``test_cfg.num_future``, else ``out_frames``."""
        num = self.test_cfg.get('num_future') or self.out_frames
        asked = {
            int(s.metainfo['num_future'])
            for s in data_samples or []
            if 'num_future' in getattr(s, 'metainfo', {})
        }
        if len(asked) > 1:
            raise ValueError('the data samples of one batch ask for '
                             f'different num_future: {sorted(asked)}')
        if asked:
            num = asked.pop()
            if num < 1:
                raise ValueError(f'num_future must be >= 1, got {num}')
        return self.in_frames + int(num)

    def loss(self,
             inputs: torch.Tensor,
             data_samples=None,
             sampling_mask: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        total = self.in_frames + self.out_frames
        self._check_length(inputs, total, 'training')
        self._check_sample_lengths(data_samples)
        inputs = inputs[:, :total]
        mask, info = self._iteration_sampling(inputs)
        if sampling_mask is not None:
            mask = sampling_mask
        outputs = self.rollout(inputs, total, mask)
        losses = dict(loss=self.loss_module(outputs, inputs[:, 1:]))
        losses.update(self.backbone.aux_losses(self._last_state))
        losses.update(info)
        return losses

    @torch.compiler.disable
    def _iteration_sampling(self, inputs: torch.Tensor):
        """:meth:`make_sampling_mask` with the logged probabilities as
        tensors. Runs eagerly under ``torch.compile``: the iteration changes
        at every call and, traced, would be baked into the graph and force
        a recompilation per iteration."""
        mask, info = self.make_sampling_mask(inputs)
        return mask, {key: torch.tensor(value) for key, value in info.items()}

    def predict(self,
                inputs: torch.Tensor,
                data_samples=None) -> List[VideoPredDataSample]:
        self._check_length(inputs, self.in_frames, 'prediction')
        total = self._num_total(data_samples)
        num_future = total - self.in_frames
        outputs = self.rollout(inputs, total)
        preds = unpatchify(outputs[:, self.in_frames - 1:], self.patch_size)
        gts = None
        if inputs.shape[1] > self.in_frames:
            gts = unpatchify(inputs[:, self.in_frames:total], self.patch_size)
        if data_samples is None:
            data_samples = [VideoPredDataSample() for _ in range(len(preds))]
        self._check_sample_lengths(data_samples)
        for i, sample in enumerate(data_samples):
            sample.pred_frames = preds[i]
            if gts is not None:
                sample.gt_frames = gts[i]
            sample.set_metainfo(
                dict(in_frames=self.in_frames, num_future=num_future))
        return data_samples

    # ------------------------------------------------------------------
    # training step with the optional time-reversed second update
    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        return self.train_step_with(self, data, optim_wrapper)

    def train_step_with(self, runner_model, data, optim_wrapper):
        """The training step, run through ``runner_model`` (``self``, or a
        DDP wrapper of it) so gradients are synchronised."""
        with optim_wrapper.optim_context(runner_model):
            data = self.data_preprocessor(data, True)
            if self.reverse_input:
                mask, _ = self._iteration_sampling(data['inputs'])
                data['sampling_mask'] = mask
            losses = runner_model._run_forward(data, mode='loss')
        parsed, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        if not self.reverse_input:
            return log_vars
        # reverse_input: same batch flipped in time, same mask
        data['inputs'] = data['inputs'].flip(1)
        with optim_wrapper.optim_context(runner_model):
            losses = runner_model._run_forward(data, mode='loss')
        parsed, rev_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        return {k: (v + rev_vars[k]) / 2 for k, v in log_vars.items()}
