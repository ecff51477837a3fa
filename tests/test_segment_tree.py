import numpy as np
import pytest

from sb3_td3x.common.segment_tree import MinSegmentTree, SumSegmentTree, update_trees


@pytest.mark.parametrize("capacity", [1, 2, 7, 1000, 1024])
def test_trees_match_brute_force_over_random_operations(capacity):
    rng = np.random.default_rng(0)
    sum_tree, min_tree = SumSegmentTree(capacity), MinSegmentTree(capacity)
    leaves = np.zeros(capacity)
    min_leaves = np.full(capacity, np.inf)
    for _ in range(300):
        # batches with duplicate indices: the last write must win, as for a plain array assignment
        idx = rng.integers(0, capacity, size=rng.integers(1, 40))
        values = rng.uniform(0.0, 10.0, size=idx.shape)
        sum_tree.update(idx, values)
        min_tree.update(idx, values)
        leaves[idx] = values
        min_leaves[idx] = values
        np.testing.assert_array_equal(sum_tree[np.arange(capacity)], leaves)
        assert sum_tree.total() == pytest.approx(leaves.sum(), rel=1e-12)
        assert min_tree.min() == min_leaves.min()


@pytest.mark.parametrize("batch", [1, 7, 256, 5000])
def test_prefixsum_search_matches_cumsum(batch):
    # The search starts at the level with about `batch` nodes, then descends: both parts are exercised
    rng = np.random.default_rng(1)
    capacity = 777
    tree = SumSegmentTree(capacity)
    leaves = rng.uniform(0.1, 5.0, size=capacity)
    leaves[rng.integers(0, capacity, size=50)] = 0.0  # empty leaves can never be found
    tree.update(np.arange(capacity), leaves)
    found, expected = [], []
    for _ in range(max(1, 5000 // batch)):
        values = rng.uniform(0.0, tree.total(), size=batch)
        expected.append(np.searchsorted(np.cumsum(leaves), values, side="right"))
        found.append(tree.find_prefixsum_idx(values))
    found, expected = np.concatenate(found), np.concatenate(expected)
    # cumsum and the tree add in a different order: allow a miss only where the value sits on a boundary
    mismatch = found != expected
    assert mismatch.mean() < 1e-3
    assert np.all(leaves[found] > 0)
    # the edges: 0 finds the first non-empty leaf, a value just below the total the last one
    edges = tree.find_prefixsum_idx(np.array([0.0, np.nextafter(tree.total(), 0.0)]))
    np.testing.assert_array_equal(edges, [np.flatnonzero(leaves)[0], np.flatnonzero(leaves)[-1]])


def test_update_trees_together_equals_separate_updates():
    rng = np.random.default_rng(4)
    together = SumSegmentTree(1000), MinSegmentTree(1000)
    separate = SumSegmentTree(1000), MinSegmentTree(1000)
    for size in (1, 3, 100, 256, 1000, 2000):
        idx = rng.integers(0, 1000, size=size)
        values = rng.uniform(0.0, 10.0, size=size)
        update_trees(together, idx, values)
        for tree in separate:
            tree.update(idx, values)
        for a, b in zip(together, separate, strict=True):
            np.testing.assert_array_equal(a.tree, b.tree)
    with pytest.raises(ValueError, match="same capacity"):
        update_trees((SumSegmentTree(10), MinSegmentTree(20)), np.array([0]), 1.0)


def test_no_float_drift_after_very_many_updates():
    rng = np.random.default_rng(2)
    capacity = 4096
    tree, min_tree = SumSegmentTree(capacity), MinSegmentTree(capacity)
    for _ in range(2000):
        idx = rng.integers(0, capacity, size=256)
        values = rng.uniform(0.0, 1e3, size=256) ** rng.uniform(0.1, 2.0)
        tree.update(idx, values)
        min_tree.update(idx, values)
    fresh, fresh_min = SumSegmentTree(capacity), MinSegmentTree(capacity)
    leaves = tree[np.arange(capacity)]
    fresh.update(np.arange(capacity), leaves)
    fresh_min.update(np.arange(capacity), leaves)
    # every internal node is recomputed from its children, so 512k updates leave the exact same tree
    np.testing.assert_array_equal(tree.tree, fresh.tree)
    np.testing.assert_array_equal(min_tree.tree, fresh_min.tree)
    assert tree.total() == pytest.approx(np.sum(leaves), rel=1e-12)


@pytest.mark.parametrize("capacity", [1, 5, 1024])
def test_single_leaf_updates_equal_batched_updates(capacity):
    # One leaf (the add path, every env step) takes a scalar path; it must build the very same tree
    rng = np.random.default_rng(3)
    tree, min_tree = SumSegmentTree(capacity), MinSegmentTree(capacity)
    for _ in range(3000):
        size = 1 if rng.uniform() < 0.7 else int(rng.integers(2, 20))
        idx = rng.integers(0, capacity, size=size)
        values = rng.uniform(0.0, 1e3, size=size) ** rng.uniform(0.1, 2.0)
        tree.update(idx, values if size > 1 else float(values[0]))
        min_tree.update(idx, values)
    leaves = tree[np.arange(capacity)]
    np.testing.assert_array_equal(min_tree[np.arange(capacity)], leaves)
    fresh, fresh_min = SumSegmentTree(capacity), MinSegmentTree(capacity)
    fresh.update(np.arange(capacity), leaves)
    fresh_min.update(np.arange(capacity), leaves)
    np.testing.assert_array_equal(tree.tree, fresh.tree)
    np.testing.assert_array_equal(min_tree.tree, fresh_min.tree)


def test_tree_rejects_bad_input():
    with pytest.raises(ValueError, match="capacity"):
        SumSegmentTree(0)
    tree = SumSegmentTree(8)
    with pytest.raises(IndexError):
        tree.update(np.array([8]), 1.0)
    with pytest.raises(IndexError):
        tree.update(np.array([-1]), 1.0)
