"""
Shared by ``tests/data/td7_reference_check.py`` (which runs sfujim/TD7 beside our TD7 and writes the fixture) and
``tests/test_td7_reference.py`` (which replays the fixture on our TD7 alone): our side of the update-for-update
comparison, and the mapping between the reference's parameter layout and ours.

The fixture keeps the weights in the REFERENCE's layout (``actor``, ``critic``, ``encoder`` state dicts, names as in
sfujim/TD7's ``TD7.py``); :func:`ref_to_ours` / :func:`ours_to_ref` convert one network. Our networks split some
layers in weight blocks (``JoinedLinear``, ``BatchedLinear``, stored ``(in, out)``) where the reference has one
``nn.Linear`` on a concatenation (stored ``(out, in)``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch as th
from stable_baselines3.common.logger import Logger

from sb3_td3x import TD7
from sb3_td3x.common.buffers import PrioritizedReplayBufferSamples
from sb3_td3x.common.checkpoints import PolicyCheckpoints

# The comparison's settings (the reference's Hyperparameters fields, and ours)
CONFIG: dict[str, Any] = dict(
    env_id="Pendulum-v1",
    obs_dim=3,
    action_dim=1,
    max_action=2.0,
    hidden=32,  # actor_hdim, critic_hdim (our net_arch = [hidden] * 3)
    enc_hidden=32,  # enc_hdim (our encoder_net_arch = [enc_hidden] * 2)
    zs_dim=16,
    batch_size=16,
    target_update_rate=10,  # our target_update_interval and max_priority_reset
    policy_freq=2,
    lr=3e-4,
    discount=0.99,
    target_policy_noise=0.2,
    noise_clip=0.5,
    alpha=0.4,
    min_priority=1.0,
    buffer_size=1000,
    n_transitions=300,
    episode_length=50,  # the fixed transitions: episodes of this length, the last step marked terminal
    n_updates=35,
    reset_weight=0.9,
    max_eps_when_checkpointing=20,
)

# Our copies of each reference network (all start equal to the reference's network)
COPIES = {
    "actor": ("actor", "actor_target"),
    "critic": ("critic", "critic_target"),
    "encoder": ("encoder", "fixed_encoder", "fixed_encoder_target"),
}
# The per-update quantities, as the fixture names them (``ref/<name>``)
PER_UPDATE = (
    "encoder_loss",
    "critic_loss",  # the true Huber loss (the reference's reported value corrected, see td7_reference_check.py)
    "td_abs",  # |Q - target|, (batch, 2)
    "actor_loss",  # NaN on the updates without an actor step
    "priorities",  # priorities stored at the batch's indices after the update
    "max_priority",
    "seen_low",
    "seen_high",
    "clip_low",
    "clip_high",
)

# The test's tolerances, (rtol, atol) of ``np.testing.assert_allclose(ours, reference)``, element by element.
# float32 with the same operations in another summation order (our split and batched layers, float64 priorities):
# the differences measured are at most ~2e-7 relative (a couple of float32 ulps) and 2e-6 absolute (critic loss ~15)
# after 35 updates; rtol 1e-5 leaves a factor ~50 for other BLAS kernels and torch versions, while any real change
# (a wrong weight block, a step out of order, a missed reset or hard update) moves these numbers by 1e-3 or more.
# atol covers entries near 0 (TD errors, weights), where a relative bound means nothing: 1e-5 is 3% of one Adam step
# (lr 3e-4). The value range and the checkpoint decisions come out identical, the ranges are held to the same bound.
TOLERANCES: dict[str, tuple[float, float]] = {
    "encoder_loss": (1e-5, 1e-7),
    "critic_loss": (1e-5, 1e-6),
    "td_abs": (1e-5, 1e-5),
    "actor_loss": (1e-5, 1e-6),
    "priorities": (1e-5, 0.0),
    "max_priority": (1e-5, 0.0),
    "seen_low": (1e-5, 1e-6),
    "seen_high": (1e-5, 1e-6),
    "clip_low": (1e-5, 1e-6),
    "clip_high": (1e-5, 1e-6),
    "weights": (1e-5, 1e-5),
}


def tolerance_text(name: str) -> str:
    rtol, atol = TOLERANCES[name]
    return f"rtol {rtol:g}, atol {atol:g}"


# --------------------------------------------------------------------------------------------------------------------
# Weight layout
# --------------------------------------------------------------------------------------------------------------------
def ref_to_ours(net: str, ref: dict[str, th.Tensor], zs_dim: int, hidden: int) -> dict[str, th.Tensor]:
    """
    :param net: ``"actor"``, ``"critic"`` or ``"encoder"``.
    :param ref: The reference network's state dict.
    :param zs_dim: Embedding size.
    :param hidden: Width of the actor's (critic's) first layer, whose output the next layer reads first.
    :return: our network's state dict holding the same weights.
    """
    r = {key: th.as_tensor(value, dtype=th.float32) for key, value in ref.items()}
    if net == "encoder":
        w = r["zsa1.weight"]
        return {
            "state_encoder.0.weight": r["zs1.weight"],
            "state_encoder.0.bias": r["zs1.bias"],
            "state_encoder.2.weight": r["zs2.weight"],
            "state_encoder.2.bias": r["zs2.bias"],
            "state_encoder.4.weight": r["zs3.weight"],
            "state_encoder.4.bias": r["zs3.bias"],
            "state_action_input.weights.0": w[:, :zs_dim].T,
            "state_action_input.weights.1": w[:, zs_dim:].T,
            "state_action_input.bias": r["zsa1.bias"],
            "state_action_encoder.1.weight": r["zsa2.weight"],
            "state_action_encoder.1.bias": r["zsa2.bias"],
            "state_action_encoder.3.weight": r["zsa3.weight"],
            "state_action_encoder.3.bias": r["zsa3.bias"],
        }
    if net == "actor":
        w = r["l1.weight"]
        return {
            "state_layer.weight": r["l0.weight"],
            "state_layer.bias": r["l0.bias"],
            "joined_layer.weights.0": w[:, :hidden].T,
            "joined_layer.weights.1": w[:, hidden:].T,
            "joined_layer.bias": r["l1.bias"],
            "mu.1.weight": r["l2.weight"],
            "mu.1.bias": r["l2.bias"],
            "mu.3.weight": r["l3.weight"],
            "mu.3.bias": r["l3.bias"],
        }
    assert net == "critic", net
    # Critic i: layers (q01, q1, q2, q3) for i = 0, (q02, q4, q5, q6) for i = 1
    names = [("q01", "q1", "q2", "q3"), ("q02", "q4", "q5", "q6")]

    def stack(layer: int, what: str, transpose: bool) -> th.Tensor:
        tensors = [r[f"{names[i][layer]}.{what}"] for i in range(2)]
        return th.stack([t.T if transpose else t.unsqueeze(0) for t in tensors])

    joined = [r[f"{names[i][1]}.weight"] for i in range(2)]
    return {
        "state_action_layer.weight": stack(0, "weight", True),
        "state_action_layer.bias": stack(0, "bias", False),
        "joined_layer.weight": th.stack([w[:, :hidden].T for w in joined]),
        # Shared blocks: member i's columns are i * out .. (i + 1) * out; block 0 reads zsa, block 1 zs
        "joined_layer.shared_weights.0": th.cat([w[:, hidden : hidden + zs_dim].T for w in joined], dim=1),
        "joined_layer.shared_weights.1": th.cat([w[:, hidden + zs_dim :].T for w in joined], dim=1),
        "joined_layer.bias": stack(1, "bias", False),
        "q_net.1.weight": stack(2, "weight", True),
        "q_net.1.bias": stack(2, "bias", False),
        "q_net.3.weight": stack(3, "weight", True),
        "q_net.3.bias": stack(3, "bias", False),
    }


def ours_to_ref(net: str, ours: dict[str, th.Tensor], zs_dim: int) -> dict[str, np.ndarray]:
    """The inverse of :func:`ref_to_ours`: our network's weights in the reference's layout (numpy float32)."""
    o = {key: value.detach().cpu() for key, value in ours.items()}
    if net == "encoder":
        out = {
            "zs1.weight": o["state_encoder.0.weight"],
            "zs1.bias": o["state_encoder.0.bias"],
            "zs2.weight": o["state_encoder.2.weight"],
            "zs2.bias": o["state_encoder.2.bias"],
            "zs3.weight": o["state_encoder.4.weight"],
            "zs3.bias": o["state_encoder.4.bias"],
            "zsa1.weight": th.cat([o["state_action_input.weights.0"], o["state_action_input.weights.1"]], dim=0).T,
            "zsa1.bias": o["state_action_input.bias"],
            "zsa2.weight": o["state_action_encoder.1.weight"],
            "zsa2.bias": o["state_action_encoder.1.bias"],
            "zsa3.weight": o["state_action_encoder.3.weight"],
            "zsa3.bias": o["state_action_encoder.3.bias"],
        }
    elif net == "actor":
        out = {
            "l0.weight": o["state_layer.weight"],
            "l0.bias": o["state_layer.bias"],
            "l1.weight": th.cat([o["joined_layer.weights.0"], o["joined_layer.weights.1"]], dim=0).T,
            "l1.bias": o["joined_layer.bias"],
            "l2.weight": o["mu.1.weight"],
            "l2.bias": o["mu.1.bias"],
            "l3.weight": o["mu.3.weight"],
            "l3.bias": o["mu.3.bias"],
        }
    else:
        assert net == "critic", net
        out = {}
        width = o["joined_layer.weight"].shape[2]
        for i, (first, joined, hidden, last) in enumerate([("q01", "q1", "q2", "q3"), ("q02", "q4", "q5", "q6")]):
            columns = slice(i * width, (i + 1) * width)
            out[f"{first}.weight"] = o["state_action_layer.weight"][i].T
            out[f"{first}.bias"] = o["state_action_layer.bias"][i, 0]
            blocks = [
                o["joined_layer.weight"][i],
                o["joined_layer.shared_weights.0"][:, columns],
                o["joined_layer.shared_weights.1"][:, columns],
            ]
            out[f"{joined}.weight"] = th.cat(blocks, dim=0).T
            out[f"{joined}.bias"] = o["joined_layer.bias"][i, 0]
            out[f"{hidden}.weight"] = o["q_net.1.weight"][i].T
            out[f"{hidden}.bias"] = o["q_net.1.bias"][i, 0]
            out[f"{last}.weight"] = o["q_net.3.weight"][i].T
            out[f"{last}.bias"] = o["q_net.3.bias"][i, 0]
    del zs_dim  # the blocks carry their sizes
    return {key: value.contiguous().numpy().astype(np.float32) for key, value in out.items()}


# --------------------------------------------------------------------------------------------------------------------
# Our TD7, driven update by update
# --------------------------------------------------------------------------------------------------------------------
def build_ours(config: dict[str, Any]) -> TD7:
    """:return: our TD7 with the comparison's settings, a silent logger, ready for ``train(1, batch_size)``."""
    h, e = config["hidden"], config["enc_hidden"]
    model = TD7(
        "MlpPolicy",
        config["env_id"],
        learning_rate=config["lr"],
        buffer_size=config["buffer_size"],
        learning_starts=0,
        batch_size=config["batch_size"],
        gamma=config["discount"],
        train_freq=1,
        gradient_steps=1,
        replay_buffer_kwargs=dict(
            alpha=config["alpha"], min_priority=config["min_priority"], max_priority_reset=config["target_update_rate"]
        ),
        policy_checkpoints=False,
        target_update_interval=config["target_update_rate"],
        policy_delay=config["policy_freq"],
        target_policy_noise=config["target_policy_noise"],
        target_noise_clip=config["noise_clip"],
        # The reference's Adam: the plain (for-loop) kernel, not the fused one we use by default
        policy_kwargs=dict(
            net_arch=[h, h, h], zs_dim=config["zs_dim"], encoder_net_arch=[e, e], optimizer_kwargs=dict(fused=False)
        ),
        seed=0,
        device="cpu",
    )
    model.set_logger(Logger(folder=None, output_formats=[]))
    return model


def load_initial_weights(model: TD7, init: dict[str, dict[str, np.ndarray]], config: dict[str, Any]) -> None:
    """Every copy of each network (online, targets, fixed encoders) gets the reference's initial weights."""
    for net, copies in COPIES.items():
        ours = ref_to_ours(net, {k: th.as_tensor(v) for k, v in init[net].items()}, config["zs_dim"], config["hidden"])
        for name in copies:
            getattr(model.policy, name).load_state_dict(ours)
    for name in ("checkpoint_actor", "checkpoint_encoder"):  # only with policy checkpoints (not built here)
        assert not hasattr(model.policy, name)


def fill_buffer(model: TD7, transitions: dict[str, np.ndarray]) -> None:
    """Store the fixed transitions, actions already in [-1, 1] (as our buffer holds them)."""
    buffer = model.replay_buffer
    for t in range(len(transitions["obs"])):
        buffer.add(  # type: ignore[union-attr]
            transitions["obs"][t][None],
            transitions["next_obs"][t][None],
            transitions["actions"][t][None],
            transitions["rewards"][t][None],
            transitions["dones"][t][None],
            [{}],
        )


def feed_indices(model: TD7, indices: Iterator[np.ndarray]) -> None:
    """Replace the buffer's sampling: each ``sample`` returns the batch at the next given (flat) indices."""
    buffer = model.replay_buffer
    assert buffer is not None and buffer.n_envs == 1

    def sample(batch_size: int, env: Any = None) -> PrioritizedReplayBufferSamples:
        slots = np.asarray(next(indices), dtype=np.int64)
        assert slots.shape == (batch_size,)
        buffer._begin_sampling(env)  # type: ignore[attr-defined]
        samples = buffer._get_samples(slots, env=env, env_indices=np.zeros_like(slots))  # type: ignore[call-arg]
        weights = buffer.to_torch(buffer._importance_weights(slots).reshape(-1, 1))  # type: ignore[attr-defined]
        return PrioritizedReplayBufferSamples(
            *samples,  # type: ignore[arg-type]
            weights=weights,
            indices=slots,
            one_step_next_observations=samples.next_observations,
        )

    buffer.sample = sample  # type: ignore[method-assign]


def run_ours(model: TD7, indices: np.ndarray, seeds: np.ndarray, config: dict[str, Any]) -> dict[str, np.ndarray]:
    """
    One ``train(1)`` per row of ``indices``, ``th.manual_seed(seeds[k])`` right before each (the target-policy noise
    is the update's first draw). :return: the per-update quantities of :data:`PER_UPDATE`.
    """
    feed_indices(model, iter(indices))
    captured: dict[str, Any] = {}
    buffer = model.replay_buffer
    batch_loss = buffer.batch_loss  # type: ignore[union-attr]

    def capturing_batch_loss(*args: Any, **kwargs: Any) -> Any:
        loss, td_errors = batch_loss(*args, **kwargs)
        captured["td_abs"] = td_errors.abs().cpu().numpy()
        return loss, td_errors

    buffer.batch_loss = capturing_batch_loss  # type: ignore[method-assign, union-attr]
    values = model.logger.name_to_value
    out: dict[str, list[Any]] = {name: [] for name in PER_UPDATE}
    for k in range(len(indices)):
        th.manual_seed(int(seeds[k]))
        model.train(gradient_steps=1, batch_size=config["batch_size"])
        out["encoder_loss"].append(values["train/encoder_loss"])
        out["critic_loss"].append(values["train/critic_loss"])
        out["td_abs"].append(captured.pop("td_abs"))
        policy_step = model._n_updates % config["policy_freq"] == 0
        out["actor_loss"].append(values["train/actor_loss"] if policy_step else np.nan)
        out["priorities"].append(buffer.sum_tree[indices[k]])  # type: ignore[union-attr]
        out["max_priority"].append(buffer.max_priority)  # type: ignore[union-attr]
        value_range = model.value_range
        assert value_range is not None
        out["seen_low"].append(value_range.seen_low)
        out["seen_high"].append(value_range.seen_high)
        out["clip_low"].append(value_range.low)
        out["clip_high"].append(value_range.high)
    assert model._n_updates == len(indices)
    return {name: np.asarray(value, dtype=np.float64) for name, value in out.items()}


def our_weights(model: TD7, config: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    """:return: every copy's weights in the reference's layout, by copy name (``actor_target``, ``fixed_encoder``, ...)."""
    return {
        name: ours_to_ref(net, getattr(model.policy, name).state_dict(), config["zs_dim"])
        for net, copies in COPIES.items()
        for name in copies
    }


def our_stored_priorities(model: TD7) -> np.ndarray:
    return np.array(model.replay_buffer.stored_priorities(), dtype=np.float64)  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------------------------------
# Policy checkpoints
# --------------------------------------------------------------------------------------------------------------------
CHECKPOINT_FIELDS = ("trained", "checkpoint", "best", "max_episodes")


def run_our_checkpoints(
    returns: np.ndarray, lengths: np.ndarray, late_start: int, config: dict[str, Any]
) -> dict[str, np.ndarray]:
    """
    Our :class:`PolicyCheckpoints` on a scripted sequence of episodes, one ``end_of_episode`` per episode, the
    gradient steps it orders counted as made. :return: per episode: gradient steps made now, whether the checkpoint
    was taken, the best score after it, the length of the next assessment.
    """
    checkpoints = PolicyCheckpoints(
        episodes=1,
        late_episodes=config["max_eps_when_checkpointing"],
        late_start=late_start,
        reset_weight=config["reset_weight"],
        healthy_reward=0.0,
    )
    n_updates = 0
    out: dict[str, list[float]] = {name: [] for name in CHECKPOINT_FIELDS}
    for episode_return, length in zip(returns, lengths, strict=True):
        take, steps = checkpoints.end_of_episode(
            float(episode_return), gradient_steps=int(length), n_updates=n_updates, episode_length=int(length)
        )
        n_updates += steps
        out["trained"].append(steps)
        out["checkpoint"].append(float(take))
        out["best"].append(checkpoints.best_score)
        out["max_episodes"].append(checkpoints.max_episodes)
    return {name: np.asarray(value, dtype=np.float64) for name, value in out.items()}


# --------------------------------------------------------------------------------------------------------------------
# Fixture
# --------------------------------------------------------------------------------------------------------------------
def load_fixture(path: Any) -> dict[str, Any]:
    """:return: the fixture as nested dicts: config, init, transitions, indices, seeds, ref, final, stored, checkpoints."""
    with np.load(path, allow_pickle=False) as data:
        flat = {key: data[key] for key in data.files}
    meta = json.loads(str(flat.pop("meta")))
    fixture: dict[str, Any] = {"config": meta["config"], "meta": meta}
    for key, value in flat.items():
        node = fixture
        *parents, leaf = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return fixture


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """Nested dicts of arrays -> ``{"a/b/c": array}`` (the npz keys)."""
    flat: dict[str, np.ndarray] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, name + "/"))
        else:
            flat[name] = np.asarray(value)
    return flat
