"""TD3X: Stable-Baselines3 TD3 with PER/LAP prioritized replay, n-step returns, NoisyNet policies and decaying noise."""

from sb3_td3x.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.noise import DecayingNormalActionNoise
from sb3_td3x.policies import NoisyLinear, NoisyMlpPolicy, NoisyTD3Policy
from sb3_td3x.td3x import TD3X
from sb3_td3x.version import __version__

__all__ = [
    "TD3X",
    "DecayingNormalActionNoise",
    "LAPReplayBuffer",
    "NoisyLinear",
    "NoisyMlpPolicy",
    "NoisyTD3Policy",
    "PrioritizedReplayBuffer",
    "__version__",
]
