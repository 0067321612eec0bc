# Copyright (c) mmvp contributors. All rights reserved.

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmvp.registry import MODELS
from .predrnn import PredRNN


def decoupling_term(delta_c: torch.Tensor, delta_m: torch.Tensor,
                    adapter: nn.Module) -> torch.Tensor:
    """Mean over (batch, channel) of ``|cos(W_a dC, W_a dM)|``, the cosine
    taken over the ``H' * W'`` vector of each channel
    (model_equations.md#predrnn-v2)."""
    b, c = delta_c.shape[:2]
    a_c = F.normalize(adapter(delta_c).reshape(b, c, -1), dim=2)
    a_m = F.normalize(adapter(delta_m).reshape(b, c, -1), dim=2)
    return (a_c * a_m).sum(dim=2).abs().mean()


@MODELS.register_module()
class PredRNNv2(PredRNN):
    """PredRNN-v2: PredRNN with the memory-decoupling loss
    (model_equations.md#predrnn-v2).

    Every ST-LSTM also returns ``dC = i * g`` and ``dM = i' * g'``. One
    shared 1x1 adapter ``W_a`` (C -> C, no bias) maps both; per step and
    layer the term is the mean ``|cos|`` over batch and channels. The terms
    collect in the rollout state and :meth:`aux_losses` returns
    ``loss_decouple = decouple_beta * mean(terms)``. Train it with reverse
    scheduled sampling (model_equations.md#reverse-scheduled-sampling).

    Args:
        decouple_beta (float): Weight beta of the decoupling loss (0.1;
            the official KTH script uses 0.01).
        See :class:`PredRNN` for the others.
    """

    def __init__(self, decouple_beta: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.decouple_beta = decouple_beta
        c = self.hidden_channels
        self.adapter = nn.Conv2d(c, c, 1, bias=False)

    def init_state(self, frame: torch.Tensor, mode: str = 'zeros') -> dict:
        state = super().init_state(frame, mode)
        state['decouple'] = []
        return state

    def layer_step(self, layer, inp, state):
        h, c, m, o, delta_c, delta_m = self.cells[layer](
            inp,
            state['h'][layer],
            state['c'][layer],
            state['m'],
            return_deltas=True)
        state['c'][layer] = c
        state['m'] = m
        state['decouple'].append(
            decoupling_term(delta_c, delta_m, self.adapter))
        return h, o

    def aux_losses(self, state: dict) -> dict:
        terms = state.get('decouple')
        if not terms:
            return {}
        return dict(loss_decouple=self.decouple_beta *
                    torch.stack(terms).mean())
