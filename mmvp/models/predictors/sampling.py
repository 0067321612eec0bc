# Copyright (c) mmvp contributors. All rights reserved.
"""Scheduled sampling as pure functions of the global iteration.

Nothing here keeps state, so a resumed run draws from the same schedule.
``itr`` is 1-based as in the official code: at mmengine's 0-based
``runner.iter`` the probability is that of ``itr = runner.iter + 1``.
"""
import math
from typing import Optional, Tuple

import torch


def linear_sampling_prob(itr: int,
                         start: float = 1.0,
                         rate: float = 2e-5,
                         stop_iter: int = 50000) -> float:
    """P(use ground truth) of PredRNN's linear schedule
    (model_equations.md#scheduled-sampling).

    eta is decremented *before* use at every iteration ``itr`` (1-based)
    while ``itr < stop_iter``, so ``eta(itr) = max(0, start - rate * itr)``
    for ``itr < stop_iter`` and 0 after.
    """
    if itr >= stop_iter:
        return 0.0
    return max(0.0, start - rate * itr)


def reverse_sampling_probs(itr: int,
                           start_iter: int = 25000,
                           stop_iter: int = 50000,
                           alpha: float = 5000.) -> Tuple[float, float]:
    """``(r_eta, eta)`` of PredRNN-v2's reverse schedule
    (model_equations.md#reverse-scheduled-sampling).

    ``r_eta`` is P(true frame) for the input-phase positions and ``eta``
    for the prediction-phase positions.
    """
    if itr < start_iter:
        return 0.5, 0.5
    if itr < stop_iter:
        r_eta = 1.0 - 0.5 * math.exp(-float(itr - start_iter) / alpha)
        eta = 0.5 - 0.5 * (itr - start_iter) / (stop_iter - start_iter)
        return r_eta, eta
    return 1.0, 0.0


def sampling_mask(batch_size: int,
                  in_frames: int,
                  total_frames: int,
                  mode: Optional[str],
                  itr: Optional[int],
                  device: torch.device,
                  generator: Optional[torch.Generator] = None,
                  **schedule) -> Tuple[torch.Tensor, dict]:
    """The per-(sample, step) mask of true frames, made on the device.

    Returns ``(mask, info)``: ``mask`` is float ``[B, T - 1]``; entry ``t``
    says whether step ``t`` (which consumes frame ``t``) reads the true frame
    (1) or the model's previous prediction (0). ``itr=None`` means testing.

    * ``mode=None``: true frames for ``t < in_frames``, predictions after;
    * ``'linear'`` (scheduled sampling): steps ``t >= in_frames`` read the
      truth with probability ``linear_sampling_prob(itr)``;
    * ``'reverse'`` (reverse scheduled sampling): steps
      ``1 <= t < in_frames`` read the truth with probability ``r_eta``,
      later steps with ``eta``; at test time the first ``in_frames`` steps
      read the truth.

    One Bernoulli draw covers a whole frame, as in the official code.
    """
    steps = total_frames - 1
    t = torch.arange(steps, device=device)
    context = (t < in_frames).float().expand(batch_size, steps)
    info = {}
    if itr is None or mode is None:
        return context.clone(), info
    if mode == 'linear':
        prob = linear_sampling_prob(itr, **schedule)
        info['ss_prob'] = prob
        probs = torch.where(t < in_frames, 1.0, prob)
    elif mode == 'reverse':
        r_eta, eta = reverse_sampling_probs(itr, **schedule)
        info['ss_prob'] = eta
        info['rss_prob'] = r_eta
        probs = torch.where(t < in_frames, r_eta, eta)
        probs[0] = 1.0  # step 0 always reads x_0
    else:
        raise ValueError(f"sampling mode must be None, 'linear' or "
                         f"'reverse', got {mode!r}")
    draws = torch.rand(batch_size, steps, device=device, generator=generator)
    return (draws < probs).float(), info
