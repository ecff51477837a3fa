"""What the algorithms of the package share: prioritized replay buffers and their trees, the prioritized-replay
mechanism of the algorithms, NoisyNet layers and decaying exploration noise."""

from sb3_td3x.common.buffers import (
    IndexedReplayBuffer,
    IndexedReplayBufferSamples,
    LAPReplayBuffer,
    PrioritizedReplayBuffer,
    PrioritizedReplayBufferSamples,
)
from sb3_td3x.common.noise import DecayingNormalActionNoise
from sb3_td3x.common.noisy import NoisyLinear
from sb3_td3x.common.segment_tree import MinSegmentTree, SumSegmentTree

__all__ = [
    "DecayingNormalActionNoise",
    "IndexedReplayBuffer",
    "IndexedReplayBufferSamples",
    "LAPReplayBuffer",
    "MinSegmentTree",
    "NoisyLinear",
    "PrioritizedReplayBuffer",
    "PrioritizedReplayBufferSamples",
    "SumSegmentTree",
]
