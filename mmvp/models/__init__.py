# Copyright (c) mmvp contributors. All rights reserved.
from .backbones import *  # noqa: F401,F403
from .cells import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .necks import *  # noqa: F401,F403
from .predictors import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
