"""
Our TD7 agrees with the reference implementation (sfujim/TD7) update for update, without the reference: the fixture
``tests/data/td7_reference_fixture.npz`` (made by ``tests/data/td7_reference_check.py``, which runs both; see
``results/td7-reference-check.md``) holds the reference's initial weights, the transitions, the batches' indices and
noise seeds, and what the reference computed after each of 35 updates and at the end. Our TD7 replays the same
inputs; every quantity must match within float32 rounding (tolerances and their reasons in
``tests/data/td7_check_common.py``), the policy-checkpoint decisions exactly.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch as th

DATA = Path(__file__).parent / "data"
sys.path.insert(0, str(DATA))
import td7_check_common as common  # noqa: E402

FIXTURE = common.load_fixture(DATA / "td7_reference_fixture.npz")
CONFIG = FIXTURE["config"]


@pytest.fixture(scope="module")
def replay():
    """Our TD7 on the fixture's inputs: the per-update quantities, the final weights and stored priorities."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    try:
        model = common.build_ours(CONFIG)
        common.load_initial_weights(model, FIXTURE["init"], CONFIG)
        common.fill_buffer(model, FIXTURE["transitions"])
        per_update = common.run_ours(model, FIXTURE["indices"], FIXTURE["seeds"], CONFIG)
        return per_update, common.our_weights(model, CONFIG), common.our_stored_priorities(model)
    finally:
        th.set_num_threads(threads)


def test_fixture_is_small_and_complete():
    assert (DATA / "td7_reference_fixture.npz").stat().st_size < 1_000_000
    n_updates, batch = CONFIG["n_updates"], CONFIG["batch_size"]
    assert FIXTURE["indices"].shape == (n_updates, batch)
    assert set(FIXTURE["ref"]) >= set(common.PER_UPDATE)
    assert set(FIXTURE["final"]) == {name for copies in common.COPIES.values() for name in copies}
    # The run crosses hard updates, actor steps, the done mask and the Huber loss's linear part
    assert n_updates >= 2 * CONFIG["target_update_rate"]
    assert FIXTURE["transitions"]["dones"][FIXTURE["indices"]].sum() > 0
    assert (FIXTURE["ref"]["td_abs"] >= CONFIG["min_priority"]).any()


@pytest.mark.parametrize("net", list(common.COPIES))
def test_weight_layout_round_trip(net):
    init = FIXTURE["init"][net]
    ours = common.ref_to_ours(net, {k: th.as_tensor(v) for k, v in init.items()}, CONFIG["zs_dim"], CONFIG["hidden"])
    back = common.ours_to_ref(net, ours, CONFIG["zs_dim"])
    assert back.keys() == init.keys()
    for key, value in init.items():
        np.testing.assert_array_equal(back[key], value, err_msg=key)


@pytest.mark.parametrize("name", common.PER_UPDATE)
def test_per_update_quantity_matches_reference(replay, name):
    per_update, _, _ = replay
    rtol, atol = common.TOLERANCES[name]
    ours, reference = per_update[name], FIXTURE["ref"][name]
    assert ours.shape == reference.shape
    # NaN where the reference made no actor step: ours must make none there either
    np.testing.assert_allclose(ours, reference, rtol=rtol, atol=atol, equal_nan=True, err_msg=name)


def test_stored_priorities_match_reference(replay):
    _, _, stored = replay
    rtol, atol = common.TOLERANCES["priorities"]
    np.testing.assert_allclose(stored, FIXTURE["stored_priorities"], rtol=rtol, atol=atol)


@pytest.mark.parametrize("copy", [name for copies in common.COPIES.values() for name in copies])
def test_final_weights_match_reference(replay, copy):
    _, weights, _ = replay
    rtol, atol = common.TOLERANCES["weights"]
    assert weights[copy].keys() == FIXTURE["final"][copy].keys()
    for key, value in FIXTURE["final"][copy].items():
        np.testing.assert_allclose(weights[copy][key], value, rtol=rtol, atol=atol, err_msg=f"{copy}.{key}")


@pytest.mark.parametrize("scenario", sorted(FIXTURE["checkpoints"]))
def test_checkpoint_decisions_match_reference(scenario):
    data = FIXTURE["checkpoints"][scenario]
    ours = common.run_our_checkpoints(data["returns"], data["lengths"], int(data["late_start"]), CONFIG)
    for field in common.CHECKPOINT_FIELDS:
        np.testing.assert_array_equal(ours[field], data["ref"][field], err_msg=f"{scenario}: {field}")
    # The scenario reaches the longer assessments, and a checkpoint after them
    late = np.flatnonzero(data["ref"]["max_episodes"] > 1)
    assert late.size and data["ref"]["checkpoint"][late[0] + 1 :].sum() > 0
