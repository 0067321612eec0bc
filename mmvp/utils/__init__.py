# Copyright (c) mmvp contributors. All rights reserved.
from .atomic_io import (atomic_torch_save, atomic_write, atomic_write_bytes,
                        atomic_write_text)
from .checkpoint import (CheckpointMismatchError, UnsafeCheckpointError,
                         check_checkpoint_compatibility,
                         checkpoint_safe_globals, register_checkpoint_loaders,
                         safe_load)
from .config_check import ConfigError, check_config, config_error_hints
from .dist_utils import (cpu_model_wrapper_cfg, finish_distributed,
                         prepare_distributed, qualify_model_wrapper_type,
                         setup_cpu_distributed)
from .host_sync import HostSync, HostSyncRecorder
from .publish import publish_checkpoint
from .setup_env import register_all_modules

__all__ = [
    'register_all_modules', 'checkpoint_safe_globals',
    'register_checkpoint_loaders', 'safe_load',
    'check_checkpoint_compatibility', 'UnsafeCheckpointError',
    'CheckpointMismatchError', 'setup_cpu_distributed',
    'cpu_model_wrapper_cfg', 'prepare_distributed', 'finish_distributed',
    'qualify_model_wrapper_type', 'ConfigError', 'check_config',
    'config_error_hints', 'atomic_write', 'atomic_write_bytes',
    'atomic_write_text', 'atomic_torch_save', 'HostSyncRecorder', 'HostSync',
    'publish_checkpoint'
]
