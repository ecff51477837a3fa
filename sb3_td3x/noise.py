"""
Moved to :mod:`sb3_td3x.common.noise`. This module stays so that old imports work, and so that models and replay buffers
pickled before the move (which name their classes by this path) still load.
"""

from sb3_td3x.common.noise import *  # noqa: F403
