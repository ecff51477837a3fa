"""
Moved to :mod:`sb3_td3x.td3x.policies` (the NoisyNet layers to :mod:`sb3_td3x.common.noisy`). This module stays so
that old imports work, and so that models and replay buffers pickled before the move (which name their classes by
this path) still load.
"""

from sb3_td3x.common.noisy import *  # noqa: F403
from sb3_td3x.td3x.policies import *  # noqa: F403
