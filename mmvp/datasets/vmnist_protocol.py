# Copyright (c) mmvp contributors. All rights reserved.
"""The ``vmnist-v1`` generation protocol
(``docs/en/advanced_guides/dataset_protocols.md#protocol-vmnist-v1``), as
plain functions.

V-MNIST is not public; ``vmnist-v1`` is mmvp's documented re-creation: two
distinct digits that always move, rotate and scale at once. Every sequence is
a pure function of ``(base_seed, split, index[, epoch])`` and the digit
source, so generation does not depend on worker order.

Pieces (each usable on its own in tests):

- :func:`vmnist_rng` - the per-sample generator;
- :func:`sample_vmnist_params` - the draws, in the protocol's order;
- :func:`vmnist_trajectory` - per-frame centre, angle and scale;
- :func:`render_vmnist` - bilinear warps composited by max;
- :func:`generate_vmnist_sequence` - all of the above for one index.
"""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np

from .digit_sources import DIGIT_SIZE, check_split

__all__ = [
    'VMNIST_PROTOCOL', 'vmnist_rng', 'sample_vmnist_params',
    'vmnist_trajectory', 'render_vmnist', 'generate_vmnist_sequence',
    'to_uint8'
]

VMNIST_PROTOCOL = 'vmnist-v1'

# ranges of dataset_protocols.md#protocol-vmnist-v1
SCALE0_RANGE = (0.8, 1.2)
SCALE_RATE_RANGE = (math.log(1.03), math.log(1.08))
SCALE_BOUNDS = (0.6, 1.4)
OMEGA_RANGE = (10.0, 30.0)  # degrees per frame
SPEED_RANGE = (3.0, 6.0)  # pixels per frame
HALF = DIGIT_SIZE / 2.0  # 14: margin per unit scale
PIVOT = (DIGIT_SIZE - 1) / 2.0  # 13.5: digit centre in pixel coordinates


def vmnist_rng(base_seed: int,
               split: str,
               index: int,
               epoch: Optional[int] = None) -> np.random.Generator:
    """``np.random.default_rng([base_seed, split_id, index(, epoch)])``."""
    seed = [int(base_seed), check_split(split), int(index)]
    if epoch is not None:
        seed.append(int(epoch))
    return np.random.default_rng(seed)


def _sign(rng: np.random.Generator) -> float:
    """+1 or -1 with p = 0.5 each (one ``rng.random()`` draw)."""
    return 1.0 if rng.random() < 0.5 else -1.0


def sample_vmnist_params(rng: np.random.Generator,
                         pool_size: int,
                         num_digits: int = 2,
                         image_size: int = 64,
                         distinct_labels: bool = False,
                         label_fn=None,
                         speed_range: Tuple[float, float] = SPEED_RANGE,
                         omega_range: Tuple[float, float] = OMEGA_RANGE,
                         scale_rate_range: Tuple[float,
                                                 float] = SCALE_RATE_RANGE
                         ) -> List[Dict]:
    """Draw the parameters of one sequence in the protocol's order.

    Per digit k: digit index (redrawn while equal to an earlier digit's, or,
    with ``distinct_labels``, while its label equals an earlier one's); s0;
    scale rate magnitude and sign; theta0; omega magnitude and sign; speed;
    direction phi; centre cx, cy ~ U[m0, size - m0] with m0 = 14 * s0.

    Args:
        rng (np.random.Generator): From :func:`vmnist_rng`.
        pool_size (int): Number of digits in the source.
        num_digits (int): Digits per sequence. Defaults to 2.
        image_size (int): Canvas side. Defaults to 64.
        distinct_labels (bool): Also require different classes.
        label_fn (callable, optional): ``index -> label``; needed with
            ``distinct_labels``.
        speed_range (tuple[float, float]): Range of the speed in pixels
            per frame. Defaults to ``SPEED_RANGE`` (3, 6) of ``vmnist-v1``;
            other ranges make clips of speeds a model was not trained on.
        omega_range (tuple[float, float]): Range of the rotation speed
            magnitude in degrees per frame. Defaults to ``OMEGA_RANGE``
            (10, 30); ``(0, 0)`` keeps every digit at its initial angle.
        scale_rate_range (tuple[float, float]): Range of the scaling rate
            magnitude (log space, per frame). Defaults to
            ``SCALE_RATE_RANGE`` (log 1.03, log 1.08); ``(0, 0)`` keeps
            every digit at its initial scale.

    Whatever the ranges, the same number of values is drawn in the same
    order, so the other parameters of a sequence do not change with them.

    Returns:
        list[dict]: Per digit: ``digit_idx``, ``scale0``, ``scale_rate``
        (signed, log space), ``theta0``, ``omega`` (signed, degrees),
        ``speed``, ``phi``, ``cx``, ``cy``.
    """
    if distinct_labels and label_fn is None:
        raise ValueError('distinct_labels=True needs label_fn')
    for name, rng_range in (('speed_range', speed_range),
                            ('omega_range', omega_range), ('scale_rate_range',
                                                           scale_rate_range)):
        if len(rng_range) != 2 or not 0.0 <= float(rng_range[0]) <= float(
                rng_range[1]):
            raise ValueError(f'{name} must be (low, high) with 0 <= low <= '
                             f'high, got {tuple(rng_range)}')
    lo, hi = (float(v) for v in speed_range)
    if pool_size < num_digits:
        raise ValueError(f'digit pool of {pool_size} is smaller than '
                         f'num_digits={num_digits}')
    params = []
    for _ in range(num_digits):
        while True:
            idx = int(rng.integers(pool_size))
            clash = any(p['digit_idx'] == idx for p in params)
            if not clash and distinct_labels:
                lab = label_fn(idx)
                clash = any(label_fn(p['digit_idx']) == lab for p in params)
            if not clash:
                break
        s0 = rng.uniform(*SCALE0_RANGE)
        rate = rng.uniform(*scale_rate_range)
        rate *= _sign(rng)
        theta0 = rng.uniform(0.0, 360.0)
        omega = rng.uniform(*omega_range)
        omega *= _sign(rng)
        speed = rng.uniform(lo, hi)
        phi = rng.uniform(0.0, 2.0 * math.pi)
        m0 = HALF * s0
        cx = rng.uniform(m0, image_size - m0)
        cy = rng.uniform(m0, image_size - m0)
        params.append(
            dict(
                digit_idx=idx,
                scale0=float(s0),
                scale_rate=float(rate),
                theta0=float(theta0),
                omega=float(omega),
                speed=float(speed),
                phi=float(phi),
                cx=float(cx),
                cy=float(cy)))
    return params


def vmnist_trajectory(params: Sequence[Dict],
                      num_frames: int = 20,
                      image_size: int = 64) -> Dict[str, np.ndarray]:
    """Per-frame state of every digit (frame 0 is the initial state).

    Update from frame t to t + 1
    (``dataset_protocols.md#protocol-vmnist-v1``): scale ``s *= exp(rate)``,
    reflected in log space at [0.6, 1.4] (``s = bound**2 / s``, rate sign
    flipped); angle ``theta += omega``; centre ``c += v`` with margin
    ``m = 14 * s``: below m -> ``c = 2m - c``, above ``size - m`` ->
    ``c = 2(size - m) - c``, negating that velocity component; then clamp
    to [m, size - m].

    Returns:
        dict: ``cx``, ``cy``, ``theta`` (degrees), ``scale`` of shape
        ``[num_digits, num_frames]`` (float64), and ``bounced`` (bool, True
        where the step into that frame reflected or clamped the centre).
    """
    lo, hi = SCALE_BOUNDS
    n = len(params)
    out = {
        k: np.zeros((n, num_frames))
        for k in ('cx', 'cy', 'theta', 'scale')
    }
    out['bounced'] = np.zeros((n, num_frames), bool)
    for k, p in enumerate(params):
        s, rate = p['scale0'], p['scale_rate']
        theta, omega = p['theta0'], p['omega']
        c = [p['cx'], p['cy']]
        v = [p['speed'] * math.cos(p['phi']), p['speed'] * math.sin(p['phi'])]
        for t in range(num_frames):
            if t > 0:
                s *= math.exp(rate)
                if s > hi:
                    s, rate = hi * hi / s, -rate
                elif s < lo:
                    s, rate = lo * lo / s, -rate
                theta += omega
                m = HALF * s
                bounced = False
                for ax in range(2):
                    c[ax] += v[ax]
                    if c[ax] < m:
                        c[ax] = 2.0 * m - c[ax]
                        v[ax] = -v[ax]
                        bounced = True
                    if c[ax] > image_size - m:
                        c[ax] = 2.0 * (image_size - m) - c[ax]
                        v[ax] = -v[ax]
                        bounced = True
                    clamped = min(max(c[ax], m), image_size - m)
                    bounced |= clamped != c[ax]
                    c[ax] = clamped
                out['bounced'][k, t] = bounced
            out['cx'][k, t], out['cy'][k, t] = c
            out['theta'][k, t] = theta
            out['scale'][k, t] = s
    return out


def render_vmnist(digits: Sequence[np.ndarray],
                  traj: Dict[str, np.ndarray],
                  image_size: int = 64,
                  per_digit: bool = False) -> np.ndarray:
    """Render a trajectory: bilinear warp of each digit, max compositing.

    ``M = cv2.getRotationMatrix2D((13.5, 13.5), theta, s)``, then
    ``M[:, 2] += (cx - 13.5, cy - 13.5)`` and ``cv2.warpAffine`` with
    ``INTER_LINEAR`` and a zero constant border
    (``dataset_protocols.md#protocol-vmnist-v1``).

    Args:
        digits (list[np.ndarray]): uint8 ``[28, 28]`` images, one per digit.
        traj (dict): From :func:`vmnist_trajectory`.
        image_size (int): Canvas side.
        per_digit (bool): Return the layers ``[num_digits, T, H, W]``
            instead of their max.

    Returns:
        np.ndarray: float32 ``[T, H, W]`` in [0, 1] (or the layers).
    """
    num_digits, num_frames = traj['cx'].shape
    layers = np.zeros((num_digits, num_frames, image_size, image_size),
                      np.float32)
    for k, digit in enumerate(digits):
        src = np.asarray(digit, np.float32) * (1.0 / 255.0)
        for t in range(num_frames):
            m = cv2.getRotationMatrix2D((PIVOT, PIVOT),
                                        float(traj['theta'][k, t]),
                                        float(traj['scale'][k, t]))
            m[0, 2] += traj['cx'][k, t] - PIVOT
            m[1, 2] += traj['cy'][k, t] - PIVOT
            cv2.warpAffine(
                src,
                m, (image_size, image_size),
                dst=layers[k, t],
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0)
    if per_digit:
        return layers
    return layers.max(axis=0)


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """``round(255 * x)`` as uint8 (x clipped to [0, 1])."""
    return np.rint(np.clip(frames, 0.0, 1.0) * 255.0).astype(np.uint8)


def generate_vmnist_sequence(
    source,
    index: int,
    split: str = 'train',
    base_seed: int = 2021,
    num_frames: int = 20,
    num_digits: int = 2,
    image_size: int = 64,
    distinct_labels: bool = False,
    epoch: Optional[int] = None,
    return_info: bool = False,
    speed_range: Tuple[float, float] = SPEED_RANGE,
    omega_range: Tuple[float, float] = OMEGA_RANGE,
    scale_rate_range: Tuple[float, float] = SCALE_RATE_RANGE
) -> Tuple[np.ndarray, Dict]:
    """Generate sequence ``index`` of ``vmnist-v1`` as float32 [T, H, W].

    Args:
        source: Digit source of the split (see ``build_digit_source``).
        index (int): Sequence index.
        split (str): ``'train'`` or ``'test'`` (enters the seed).
        base_seed (int): Defaults to 2021.
        num_frames (int): T. Defaults to 20.
        num_digits (int): Defaults to 2.
        image_size (int): Defaults to 64.
        distinct_labels (bool): Digits of different classes.
        epoch (int, optional): Appended to the seed (resampling per epoch).
        return_info (bool): Also return ``dict(params=..., traj=...)``.
        speed_range (tuple[float, float]): Speeds in pixels per frame.
            Defaults to ``SPEED_RANGE`` (3, 6).
        omega_range (tuple[float, float]): Rotation speeds in degrees per
            frame. Defaults to ``OMEGA_RANGE`` (10, 30).
        scale_rate_range (tuple[float, float]): Scaling rates (log space).
            Defaults to ``SCALE_RATE_RANGE``.

    Returns:
        np.ndarray | tuple: float32 ``[T, H, W]`` in [0, 1] (and the info).
    """
    rng = vmnist_rng(base_seed, split, index, epoch)
    params = sample_vmnist_params(
        rng,
        len(source),
        num_digits,
        image_size,
        distinct_labels=distinct_labels,
        label_fn=source.label,
        speed_range=speed_range,
        omega_range=omega_range,
        scale_rate_range=scale_rate_range)
    traj = vmnist_trajectory(params, num_frames, image_size)
    digits = [source.image(p['digit_idx']) for p in params]
    frames = render_vmnist(digits, traj, image_size)
    if return_info:
        return frames, dict(params=params, traj=traj)
    return frames
