# Copyright (c) mmvp contributors. All rights reserved.
import datetime
import warnings

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Register all modules of mmvp into the registries.

    Args:
        init_default_scope (bool): Whether to set the default scope to
            ``mmvp``, so that configs can name mmvp modules without a scope
            prefix. If the current scope is another one, a new ``mmvp``
            scope instance is created and becomes the current one.
            Defaults to True.
    """
    import mmvp.datasets  # noqa: F401,F403
    import mmvp.engine  # noqa: F401,F403
    import mmvp.evaluation  # noqa: F401,F403
    import mmvp.models  # noqa: F401,F403
    import mmvp.visualization  # noqa: F401,F403

    if not init_default_scope:
        return
    never_created = (
        DefaultScope.get_current_instance() is None
        or not DefaultScope.check_instance_created('mmvp'))
    if never_created:
        DefaultScope.get_instance('mmvp', scope_name='mmvp')
        return
    current_scope = DefaultScope.get_current_instance()
    if current_scope.scope_name != 'mmvp':
        warnings.warn('The current default scope '
                      f'"{current_scope.scope_name}" is not "mmvp", '
                      '`register_all_modules` will force the current '
                      'default scope to be "mmvp". If this is not '
                      'expected, please set `init_default_scope=False`.')
        # avoid name conflicts
        new_instance_name = f'mmvp-{datetime.datetime.now()}'
        DefaultScope.get_instance(new_instance_name, scope_name='mmvp')
