from sb3_td3x.dqnx.dqnx import DQNX
from sb3_td3x.dqnx.policies import NoisyDQNPolicy, NoisyMlpPolicy, NoisyQNetwork

__all__ = ["DQNX", "NoisyDQNPolicy", "NoisyMlpPolicy", "NoisyQNetwork"]
