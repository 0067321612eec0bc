# Copyright (c) mmvp contributors. All rights reserved.
"""The inferencer's pipeline: a config's test pipeline with its decode step
swapped for the decode transform of each input's storage, as mmaction2's
inferencers swap the loading step."""
import copy
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.config import Config

from mmvp.datasets.transforms import (DECODE_TRANSFORMS, BaseDecode,
                                      ResizeFrames)
from mmvp.registry import TRANSFORMS

__all__ = [
    'InferencePipeline', 'InMemoryDecode', 'FitFrameSize',
    'split_test_pipeline', 'build_decoders'
]

#: where the inferencer reads the pipeline
PIPELINE_KEY = 'test_dataloader.dataset.pipeline'
# the decode step of old configs, kept registered by the datasets
_LEGACY_DECODE = 'LoadVideoFrames'


class InMemoryDecode(BaseDecode):
    """The decode step of a numpy array input: rows ``frame_inds`` of
    ``results['array']``, converted to ``color_type`` like every decode
    transform (alpha dropped, RGB -> grey by OpenCV's weights, grey
    repeated for colour)."""

    def read(self, results: dict, inds: np.ndarray) -> np.ndarray:
        frames = results['array']
        if inds.min() < 0 or inds.max() >= len(frames):
            raise ValueError(f'{results["filename"]}: frame {inds.max()} '
                             f'requested, the array has {len(frames)}')
        return np.ascontiguousarray(frames[inds])


class FitFrameSize(BaseTransform):
    """Resize the frames to ``size_hw``: ``cv2.INTER_AREA`` when the frames
    shrink, ``cv2.INTER_LINEAR`` when they grow (the size a user asks for,
    or the dataset's frame size when the test pipeline has no resize)."""

    def __init__(self, size_hw: Tuple[int, int]):
        self.size_hw = tuple(size_hw)
        h, w = self.size_hw
        self.shrink = ResizeFrames((w, h), interpolation='area')
        self.grow = ResizeFrames((w, h), interpolation='linear')

    def transform(self, results: dict) -> dict:
        height, width = results['frames'].shape[1:3]
        h, w = self.size_hw
        step = self.shrink if height * width > h * w else self.grow
        return step(results)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size_hw={self.size_hw})'


class InferencePipeline:
    """Decode with ``decoders[results['storage']]``, then run
    ``transforms`` (the rest of the test pipeline)."""

    def __init__(self, decoders: Dict[str, BaseTransform],
                 transforms: List[BaseTransform]):
        self.decoders = decoders
        self.transforms = transforms

    def __call__(self, results: dict) -> dict:
        results = self.decoders[results['storage']](results)
        for step in self.transforms:
            results = step(results)
            if results is None:
                raise RuntimeError(f'{step!r} dropped the window')
        return results

    def __repr__(self) -> str:
        steps = ', '.join(repr(t) for t in self.transforms)
        return (f'{self.__class__.__name__}(decoders='
                f'{sorted(self.decoders)}, transforms=[{steps}])')


def split_test_pipeline(cfg: Config) -> Tuple[Optional[dict], List]:
    """``(decode step config or None, the other steps)`` of the config's
    test pipeline."""
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    steps = dataset.get('pipeline')
    if not steps:
        raise ValueError(f'the config has no {PIPELINE_KEY}; the inferencer '
                         'prepares inputs with the test pipeline')
    decode, rest = None, []
    for step in steps:
        kind = step.get('type') if isinstance(step, dict) else None
        kind = getattr(kind, '__name__', kind)
        if kind in DECODE_TRANSFORMS or kind == _LEGACY_DECODE:
            if decode is not None:
                raise ValueError(f'{PIPELINE_KEY} has two decode steps: '
                                 f'{decode["type"]} and {kind}')
            decode = dict(step, type=kind)
        else:
            rest.append(copy.deepcopy(step))
    return decode, rest


def build_decoders(decode: Optional[dict],
                   img_channels: int) -> Tuple[Dict[str, BaseTransform], str]:
    """One decode transform per input storage with the colour handling of
    the config's decode step (without one: grey for 1-channel models, RGB
    otherwise), and the video backend. Inputs are local files or arrays,
    so the config's ``backend_args`` are not used.

    Raises:
        ValueError: for a frame-cache pipeline (no crop / resize steps) or
            a decode step that loads raw values for a later encoding.
    """
    if decode is not None and decode['type'] == 'FrameCacheDecode':
        raise ValueError(
            f'{PIPELINE_KEY} decodes a frame cache (FrameCacheDecode): the '
            'cache already holds cropped and resized frames, so this '
            'pipeline has no crop or resize steps and cannot prepare a '
            'video. Predict with the config of the same protocol that '
            'decodes videos (its pipeline has the crop and resize).')
    decode = decode or {}
    out_key = decode.get('out_key', 'frames')
    if out_key != 'frames':
        raise ValueError(
            f'{PIPELINE_KEY}: its {decode["type"]} step loads raw values '
            f'(out_key={out_key!r}) that a later step encodes with '
            'dataset-specific keys; the inferencer takes uint8 frames, so '
            'use a config whose pipeline decodes frames')
    color_type = decode.get('color_type')
    if color_type is None:
        color_type = 'color' if decode or img_channels != 1 else 'grayscale'
    backend = 'decord'
    if decode.get('type') == 'OpenCVDecode' or decode.get(
            'backend') == 'opencv':
        backend = 'opencv'
    args = dict(color_type=color_type)
    video = 'OpenCVDecode' if backend == 'opencv' else 'DecordDecode'
    return dict(
        video=TRANSFORMS.build(dict(type=video, **args)),
        frames=TRANSFORMS.build(dict(type='FrameFolderDecode', **args)),
        array=TRANSFORMS.build(dict(type='ArrayDecode', **args)),
        memory=InMemoryDecode(**args)), backend
