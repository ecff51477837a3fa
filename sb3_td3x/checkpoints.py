"""
Moved to :mod:`sb3_td3x.td3x.checkpoints`. This module stays so that old imports work, and so that models saved before the
move (which name its classes by this path) still load.
"""

from sb3_td3x.td3x.checkpoints import *  # noqa: F403
