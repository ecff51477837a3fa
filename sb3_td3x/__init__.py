"""
sb3_td3x: TD3X (SB3's TD3 with prioritized replay, n-step returns, NoisyNet, decaying noise and policy checkpoints),
TD7 (TD3 with learned state and state-action embeddings, LAP, checkpoints, hard updates and value clipping), and TD3X's
prioritized replay behind SB3's other off-policy algorithms.

Layout, as sb3-contrib: a folder per algorithm (``td3x/``, ``td7/``, ``dqnx/``, ``sacx/``, ``ddpgx/``), what they share in
``common/`` (buffers, segment trees, the prioritized-replay mechanism, NoisyNet layers, noise, checkpoints, value
clipping, the run summary) and the RL Zoo door (``zoo/``, one module per job, ``train.py``; the yml files in the
repository's ``hyperparams/``, installed as ``sb3_td3x.hyperparams``).
"""

from sb3_td3x.common.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.common.noise import DecayingNormalActionNoise
from sb3_td3x.common.noisy import NoisyLinear
from sb3_td3x.ddpgx import DDPGX
from sb3_td3x.dqnx import DQNX
from sb3_td3x.sacx import SACX
from sb3_td3x.td3x import TD3X
from sb3_td3x.td3x.networks import LayerNormContinuousCritic
from sb3_td3x.td3x.policies import CrossQTD3Policy, NoisyMlpPolicy, NoisyTD3Policy, TD3XPolicy
from sb3_td3x.td7 import TD7, TD7Policy
from sb3_td3x.version import __version__

__all__ = [
    "DDPGX",
    "DQNX",
    "SACX",
    "TD3X",
    "TD7",
    "CrossQTD3Policy",
    "DecayingNormalActionNoise",
    "LAPReplayBuffer",
    "LayerNormContinuousCritic",
    "NoisyLinear",
    "NoisyMlpPolicy",
    "NoisyTD3Policy",
    "PrioritizedReplayBuffer",
    "TD3XPolicy",
    "TD7Policy",
    "__version__",
]
