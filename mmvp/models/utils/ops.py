# Copyright (c) mmvp contributors. All rights reserved.
"""Small fused elementwise helpers for the recurrent time loop."""
from typing import Union

import torch


def lerp(start: torch.Tensor, end: torch.Tensor,
         weight: Union[torch.Tensor, float]) -> torch.Tensor:
    """``weight * end + (1 - weight) * start`` as one ``torch.lerp`` call.

    One kernel forward (four unfused) and exact for ``weight`` in
    ``{0, 1}``; otherwise equal up to fp rounding. Unlike ``torch.lerp``
    it accepts mixed dtypes, as under autocast, where conv outputs are
    bf16/fp16 and recurrent states fp32: all operands are promoted first
    (a no-op when they already agree).
    """
    dtype = torch.promote_types(start.dtype, end.dtype)
    if isinstance(weight, torch.Tensor):
        dtype = torch.promote_types(dtype, weight.dtype)
        weight = weight.to(dtype)
    return torch.lerp(start.to(dtype), end.to(dtype), weight)
