# Copyright (c) mmvp contributors. All rights reserved.
from abc import ABCMeta, abstractmethod
from typing import Any, List, Optional, Tuple

import torch
import torch.nn as nn


class BaseRecurrentNeck(nn.Module, metaclass=ABCMeta):
    """What a recurrent stack calls between its layers.

    A neck is built by the predictor with the stack's ``in_channels``,
    ``hidden_channels`` and ``num_layers``, and is called by
    :meth:`BaseRecurrentStack.forward_step` at every step:

    * :meth:`init_state` once per sequence, from the first hidden state;
    * :meth:`begin_step` with the step's input frame, before layer 0;
    * :meth:`after_layer` after each layer with that layer's raw output and
      output gate; its result replaces the layer's hidden state.
    """

    @abstractmethod
    def init_state(self, hidden: torch.Tensor, mode: str = 'zeros') -> Any:
        """Per-sequence neck state for hidden states like ``hidden``."""

    @abstractmethod
    def begin_step(self, frame: torch.Tensor) -> Optional[torch.Tensor]:
        """Called with the step's input frame; returns the highway seed."""

    @abstractmethod
    def after_layer(self, layer: int, h: torch.Tensor, o: torch.Tensor,
                    highway: Optional[torch.Tensor], state: Any
                    ) -> Tuple[torch.Tensor, Optional[torch.Tensor], Any]:
        """Returns ``(new_h, new_highway, new_state)``."""

    def regions(self) -> List[nn.Module]:
        """The modules called once per layer and step (see
        :meth:`BaseRecurrentStack.regions`); none by default."""
        return []
