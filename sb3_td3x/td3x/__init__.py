from sb3_td3x.td3x.policies import (
    CnnPolicy,
    CrossQPolicy,
    CrossQTD3Policy,
    MlpPolicy,
    MultiInputPolicy,
    NoisyMlpPolicy,
    NoisyTD3Policy,
    TD3XPolicy,
)
from sb3_td3x.td3x.td3x import TD3X

__all__ = [
    "TD3X",
    "CnnPolicy",
    "CrossQPolicy",
    "CrossQTD3Policy",
    "MlpPolicy",
    "MultiInputPolicy",
    "NoisyMlpPolicy",
    "NoisyTD3Policy",
    "TD3XPolicy",
]
