"""
Vectorized segment trees (sum and min) for prioritized experience replay.

The trees are plain NumPy arrays so that a replay buffer holding them pickles as is
(``save_replay_buffer`` / ``load_replay_buffer``). Every operation takes a whole batch of
indices at once: an update writes the leaves and recomputes each affected parent from its two
children, level by level, so the cost is O(batch * log N) NumPy work with no Python loop per item,
duplicate indices are handled (the last write wins), and no float error accumulates however many
updates are made (nothing is ever updated incrementally by a delta).
"""

import operator
from collections.abc import Callable
from typing import Any

import numpy as np


class SegmentTree:
    """
    Complete binary tree over ``capacity`` leaves stored in one array (node ``i`` has children
    ``2i`` and ``2i + 1``, the root is node 1, leaves start at ``size``).

    :param capacity: Number of leaves that can be addressed (rounded up to a power of two internally)
    :param operation: Associative binary ufunc reducing two children into their parent (``np.add``, ``np.minimum``)
    :param neutral_element: Value of an empty leaf for ``operation`` (0 for sums, +inf for minimums)
    """

    # ``operation`` on two scalars for single-leaf updates (same result, less overhead than a ufunc call);
    # a class attribute, so that trees pickled by earlier versions load unchanged
    scalar_operation: Callable[[Any, Any], Any] | None = None

    def __init__(self, capacity: int, operation: np.ufunc, neutral_element: float):
        if not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"capacity must be an integer >= 1, got {capacity!r}")
        self.capacity = int(capacity)
        self.size = 1 << max(int(np.ceil(np.log2(self.capacity))), 0)
        self.depth = int(np.log2(self.size))
        self.operation = operation
        self.neutral_element = neutral_element
        self.tree = np.full(2 * self.size, neutral_element, dtype=np.float64)

    def _check_indices(self, indices: np.ndarray) -> np.ndarray:
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= self.capacity):
            raise IndexError(f"indices must lie in [0, {self.capacity}), got range [{indices.min()}, {indices.max()}]")
        return indices

    def update(self, indices: np.ndarray, values: np.ndarray | float) -> None:
        """
        Set the leaves ``indices`` to ``values`` and refresh their ancestors.

        :param indices: Leaf indices, shape (batch,)
        :param values: New leaf values, shape (batch,) or a scalar
        """
        indices = self._check_indices(indices)
        if indices.size == 0:
            return
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), indices.shape)
        if indices.size == 1:
            self._update_one(int(indices[0]), float(values[0]))
            return
        nodes = indices + self.size
        self.tree[nodes] = values
        # Siblings and duplicates share parents: those parents are just written more than once with the same value,
        # which is cheaper than deduplicating the index array at every level
        tree, operation = self.tree, self.operation
        for _ in range(self.depth):
            nodes = nodes >> 1
            left = nodes << 1
            tree[nodes] = operation(tree[left], tree[left | 1])

    def _update_one(self, leaf: int, value: float) -> None:
        """
        :meth:`update` of a single leaf (the new transition of a single env, at every env step): the same
        arithmetic on scalars, which avoids the fixed cost of two NumPy calls per level.
        """
        tree = self.tree
        operation = self.scalar_operation or self.operation
        node = leaf + self.size
        tree[node] = value
        node >>= 1
        while node:
            tree[node] = operation(tree[2 * node], tree[2 * node + 1])
            node >>= 1

    def __getitem__(self, indices: np.ndarray) -> np.ndarray:
        return self.tree[self._check_indices(indices) + self.size]

    def reduce(self) -> float:
        """:return: ``operation`` applied over all leaves (the root)."""
        return float(self.tree[1])


class SumSegmentTree(SegmentTree):
    """
    Sum tree: the root holds the sum of all leaves, and ``find_prefixsum_idx`` maps values drawn in
    ``[0, total)`` to leaves with probability proportional to their value.

    :param capacity: Number of leaves
    """

    scalar_operation = staticmethod(operator.add)

    def __init__(self, capacity: int):
        super().__init__(capacity, np.add, 0.0)

    def total(self) -> float:
        """:return: Sum of all leaves."""
        return self.reduce()

    def find_prefixsum_idx(self, prefixsums: np.ndarray) -> np.ndarray:
        """
        For each value ``v`` find the leaf ``i`` such that ``sum(leaves[:i]) <= v < sum(leaves[:i + 1])``,
        descending all values through the tree at once (one vectorized step per level).

        :param prefixsums: Values in ``[0, total)``, shape (batch,)
        :return: Leaf indices, shape (batch,)
        """
        values = np.asarray(prefixsums, dtype=np.float64).reshape(-1).copy()
        nodes = np.ones(values.shape, dtype=np.int64)
        tree = self.tree
        for _ in range(self.depth):
            left = nodes << 1
            left_sum = tree[left]
            go_right = values >= left_sum
            # subtracting 0.0 where going left leaves the value exactly as it is (sums are finite)
            values -= left_sum * go_right
            nodes = left + go_right
        # Rounding in the subtraction can push a value just past the last non-empty leaf
        return np.minimum(nodes - self.size, self.capacity - 1)


class MinSegmentTree(SegmentTree):
    """
    Min tree: the root holds the smallest leaf (empty leaves are +inf).

    :param capacity: Number of leaves
    """

    scalar_operation = staticmethod(min)

    def __init__(self, capacity: int):
        super().__init__(capacity, np.minimum, float("inf"))

    def min(self) -> float:
        """:return: Smallest leaf value."""
        return self.reduce()
