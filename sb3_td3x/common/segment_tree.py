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
from collections.abc import Callable, Sequence
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
        update_trees((self,), indices, values)

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
        tree = self.tree
        # The top of the tree in one search: the level with about as many nodes as values, found by a binary search
        # over the running sums of its nodes (each value then only keeps its offset inside the node it fell in)
        level = min(self.depth, max(values.size.bit_length() - 1, 0))
        first = 1 << level
        level_sums = tree[first : 2 * first]
        running = np.cumsum(level_sums)
        offsets = np.minimum(np.searchsorted(running, values, side="right"), first - 1)
        values -= running[offsets] - level_sums[offsets]
        np.maximum(values, 0.0, out=values)
        nodes = offsets + first
        # Then one vectorized step per level below it
        for _ in range(self.depth - level):
            nodes <<= 1
            left_sum = tree[nodes]
            go_right = values >= left_sum
            # subtracting 0.0 where going left leaves the value exactly as it is (sums are finite)
            values -= left_sum * go_right
            nodes += go_right
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


def update_trees(trees: Sequence[SegmentTree], indices: np.ndarray, values: np.ndarray | float) -> None:
    """
    Set the leaves ``indices`` of several trees of the same capacity to the same ``values`` and refresh their
    ancestors, sharing the index arithmetic (the sum and the min tree of a prioritized buffer change together).

    Each parent is recomputed from its two children, level by level: siblings and duplicates share parents,
    which are then just written more than once with the same value (cheaper than deduplicating the indices at
    every level; the last write of a duplicated leaf wins). Near the root, where a level has no more nodes than
    the batch, the whole level is recomputed at once from contiguous views. A single leaf takes a scalar path.

    :param trees: Trees with the same capacity
    :param indices: Leaf indices, shape (batch,)
    :param values: New leaf values, shape (batch,) or a scalar
    """
    if not trees:
        return
    first = trees[0]
    if any(tree.size != first.size or tree.capacity != first.capacity for tree in trees):
        raise ValueError("update_trees needs trees of the same capacity")
    indices = first._check_indices(indices)
    if indices.size == 0:
        return
    values = np.broadcast_to(np.asarray(values, dtype=np.float64), indices.shape)
    if indices.size == 1:
        for tree in trees:
            tree._update_one(int(indices[0]), float(values[0]))
        return
    nodes = indices + first.size
    for tree in trees:
        tree.tree[nodes] = values
    level = first.size
    for _ in range(first.depth):
        level >>= 1
        if level <= indices.size:
            # Whole level (nodes level .. 2 level - 1) from its children, one ufunc call per tree
            for tree in trees:
                array = tree.tree
                tree.operation(
                    array[2 * level : 4 * level : 2], array[2 * level + 1 : 4 * level : 2], out=array[level : 2 * level]
                )
        else:
            nodes >>= 1
            left = nodes << 1
            right = left | 1
            for tree in trees:
                array = tree.tree
                array[nodes] = tree.operation(array[left], array[right])
