# Copyright (c) mmvp contributors. All rights reserved.
"""The Parameters and FLOPs of ``configs/metafile.yml`` are recomputed with
``tools/analysis_tools/get_flops.py`` (all parameters; true multiply-
accumulates of one batch-1 sequence at the config's own setting)."""
import importlib.util
import os.path as osp
import sys

import pytest
from docs_helpers import REPO
from mmengine.config import Config
from test_docs_metafile import MODELS

GET_FLOPS = osp.join(REPO, 'tools', 'analysis_tools', 'get_flops.py')


@pytest.fixture(scope='module')
def get_flops():
    spec = importlib.util.spec_from_file_location('get_flops', GET_FLOPS)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, REPO)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(REPO)
    return module


def frame_size_args(config: str) -> list:
    """``--shape H W`` from the test pipeline's ``ResizeFrames`` (the
    frame size of configs whose dataset has no ``image_size``)."""
    cfg = Config.fromfile(config)
    for step in cfg.test_dataloader.dataset.get('pipeline') or []:
        if step.get('type') == 'ResizeFrames':
            scale = step['scale']
            w, h = (scale, scale) if isinstance(scale, int) else scale
            return ['--shape', str(h), str(w)]
    return []


@pytest.mark.parametrize('model', MODELS, ids=lambda m: m['Name'])
def test_metafile_complexity(get_flops, model):
    config = osp.join(REPO, model['Config'])
    out = get_flops.run(
        get_flops.parse_args([config] + frame_size_args(config)))
    meta = model['Metadata']
    assert meta['Parameters'] == out['params_all'], (
        f"{model['Name']}: Parameters {meta['Parameters']} in "
        f"configs/metafile.yml, the model has {out['params_all']}")
    assert meta['FLOPs'] == out['macs_true'], (
        f"{model['Name']}: FLOPs {meta['FLOPs']} in configs/metafile.yml, "
        f"get_flops.py counts {out['macs_true']}")
