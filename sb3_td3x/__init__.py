"""TD3X: Stable-Baselines3 TD3 with PER/LAP prioritized replay, n-step returns, NoisyNet policies and decaying noise."""

from sb3_td3x.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.noise import DecayingNormalActionNoise
from sb3_td3x.policies import LayerNormContinuousCritic, NoisyLinear, NoisyMlpPolicy, NoisyTD3Policy, TD3XPolicy
from sb3_td3x.td3x import TD3X
from sb3_td3x.version import __version__

__all__ = [
    "TD3X",
    "DecayingNormalActionNoise",
    "LAPReplayBuffer",
    "LayerNormContinuousCritic",
    "NoisyLinear",
    "NoisyMlpPolicy",
    "NoisyTD3Policy",
    "PrioritizedReplayBuffer",
    "TD3XPolicy",
    "__version__",
]
