"""What the algorithms of the package share: prioritized replay buffers and their trees, the prioritized-replay
mechanism of the algorithms, NoisyNet layers and decaying exploration noise."""

from sb3_td3x.common.buffers import (
    BasePrioritizedReplayBuffer,
    LAPReplayBuffer,
    PrioritizedReplayBuffer,
    PrioritizedReplayBufferSamples,
)
from sb3_td3x.common.indexed_buffer import IndexedReplayBuffer, IndexedReplayBufferSamples, ReplayHooks
from sb3_td3x.common.noise import DecayingNormalActionNoise
from sb3_td3x.common.noisy import NoisyLinear
from sb3_td3x.common.segment_tree import MinSegmentTree, SumSegmentTree

__all__ = [
    "BasePrioritizedReplayBuffer",
    "DecayingNormalActionNoise",
    "IndexedReplayBuffer",
    "IndexedReplayBufferSamples",
    "LAPReplayBuffer",
    "MinSegmentTree",
    "NoisyLinear",
    "PrioritizedReplayBuffer",
    "PrioritizedReplayBufferSamples",
    "ReplayHooks",
    "SumSegmentTree",
]
