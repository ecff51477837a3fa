"""TD3X: TD3 with PER/LAP, n-step returns, NoisyNet policies and decaying exploration noise."""

from sb3_td3x.version import __version__

__all__ = ["__version__"]
