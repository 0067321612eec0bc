# Copyright (c) mmvp contributors. All rights reserved.
"""Child registries of MMEngine's root registries, scope ``mmvp``.

Every registry names the package where its modules live (``locations``), so
``MODELS.build(cfg)`` imports what it needs when ``default_scope='mmvp'``.
The registries are the list of what exists: configs refer to registered names.
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import \
    WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

__all__ = [
    'RUNNERS', 'LOOPS', 'HOOKS', 'DATASETS', 'DATA_SAMPLERS', 'TRANSFORMS',
    'MODELS', 'MODEL_WRAPPERS', 'WEIGHT_INITIALIZERS', 'OPTIMIZERS',
    'OPTIM_WRAPPERS', 'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS',
    'METRICS', 'EVALUATOR', 'VISUALIZERS', 'VISBACKENDS', 'LOG_PROCESSORS',
    'INFERENCERS', 'CLIP_PROTOCOLS'
]

RUNNERS = Registry(
    'runner', parent=MMENGINE_RUNNERS, scope='mmvp', locations=['mmvp.engine'])
LOOPS = Registry(
    'loop', parent=MMENGINE_LOOPS, scope='mmvp', locations=['mmvp.engine'])
HOOKS = Registry(
    'hook', parent=MMENGINE_HOOKS, scope='mmvp', locations=['mmvp.engine'])

DATASETS = Registry(
    'dataset',
    parent=MMENGINE_DATASETS,
    scope='mmvp',
    locations=['mmvp.datasets'])
DATA_SAMPLERS = Registry(
    'data sampler',
    parent=MMENGINE_DATA_SAMPLERS,
    scope='mmvp',
    locations=['mmvp.datasets'])
TRANSFORMS = Registry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    scope='mmvp',
    locations=['mmvp.datasets.transforms'])
#: Clip protocols (Human3.6M, radar, video folders...): what a
#: :class:`mmvp.datasets.ClipDataset` builds its clip list with. mmvp's own
#: registry, since MMEngine has no counterpart.
CLIP_PROTOCOLS = Registry(
    'clip protocol', scope='mmvp', locations=['mmvp.datasets.protocols'])

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmvp', locations=['mmvp.models'])
MODEL_WRAPPERS = Registry(
    'model_wrapper',
    parent=MMENGINE_MODEL_WRAPPERS,
    scope='mmvp',
    locations=['mmvp.models'])
WEIGHT_INITIALIZERS = Registry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope='mmvp',
    locations=['mmvp.models'])

OPTIMIZERS = Registry(
    'optimizer',
    parent=MMENGINE_OPTIMIZERS,
    scope='mmvp',
    locations=['mmvp.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='mmvp',
    locations=['mmvp.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope='mmvp',
    locations=['mmvp.engine'])
PARAM_SCHEDULERS = Registry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    scope='mmvp',
    locations=['mmvp.engine'])

METRICS = Registry(
    'metric',
    parent=MMENGINE_METRICS,
    scope='mmvp',
    locations=['mmvp.evaluation'])
EVALUATOR = Registry(
    'evaluator',
    parent=MMENGINE_EVALUATOR,
    scope='mmvp',
    locations=['mmvp.evaluation'])

VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    scope='mmvp',
    locations=['mmvp.visualization'])
VISBACKENDS = Registry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    scope='mmvp',
    locations=['mmvp.visualization'])
LOG_PROCESSORS = Registry(
    'log_processor',
    parent=MMENGINE_LOG_PROCESSORS,
    scope='mmvp',
    locations=['mmvp.engine'])
INFERENCERS = Registry(
    'inferencer',
    parent=MMENGINE_INFERENCERS,
    scope='mmvp',
    locations=['mmvp.apis'])
