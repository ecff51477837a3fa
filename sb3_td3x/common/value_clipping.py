"""
Value clipping, as in TD7: For SALE: State-Action Representation Learning for Deep Reinforcement Learning,
Fujimoto et al. 2023, https://arxiv.org/abs/2306.02451 (section 4.2, "Extrapolation error"), reference implementation
https://github.com/sfujim/TD7.

The next-state value in the critic's target is clipped to the range of the target values the critic has seen:
``Q(s', a')`` is clamped to ``[min, max]``, where ``min`` and ``max`` are the smallest and largest targets
``r + gamma * Q(s', a')`` computed since training began, as they stood at the last hard target update. Between two
updates the range is fixed, like the targets themselves; before the first update it is ``[0, 0]`` (the reference's
start), so the first targets are the rewards alone. A value the critic extrapolates far beyond any return it has
seen cannot then feed on itself through the targets.
"""

from __future__ import annotations

import math

import torch as th


class TargetValueRange:
    """
    The clipping range of the next-state values and the extremes of the targets seen since the start.
    Plain floats, saved with the model.
    """

    def __init__(self) -> None:
        self.low = 0.0
        self.high = 0.0
        self.seen_low = math.inf
        self.seen_high = -math.inf

    def clip(self, next_q_values: th.Tensor) -> th.Tensor:
        """:return: the next-state values clamped to the current range."""
        return next_q_values.clamp(self.low, self.high)

    def observe(self, target_q_values: th.Tensor) -> None:
        """Take the extremes of a batch of target values into account (for the next range)."""
        self.seen_low = min(self.seen_low, float(target_q_values.min()))
        self.seen_high = max(self.seen_high, float(target_q_values.max()))

    def refresh(self) -> None:
        """At a hard target update: the range becomes the extremes of every target seen so far."""
        if self.seen_low <= self.seen_high:
            self.low, self.high = self.seen_low, self.seen_high
