# Copyright (c) mmvp contributors. All rights reserved.
import datetime
import sys

import pytest
from mmengine import DefaultScope

from mmvp.utils import register_all_modules


def test_register_all_modules_sets_scope_and_imports():
    register_all_modules(init_default_scope=False)
    for name in ('datasets', 'engine', 'evaluation', 'models',
                 'visualization'):
        assert f'mmvp.{name}' in sys.modules

    register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmvp'

    # from another scope, a new mmvp scope instance becomes current
    DefaultScope.get_instance(
        f'other-{datetime.datetime.now()}', scope_name='mmengine')
    with pytest.warns(UserWarning, match='default scope'):
        register_all_modules()
    assert DefaultScope.get_current_instance().scope_name == 'mmvp'


def test_amp_wrapper_is_registered():
    from mmvp.registry import OPTIM_WRAPPERS
    register_all_modules()
    assert OPTIM_WRAPPERS.get('DeviceAmpOptimWrapper') is not None
