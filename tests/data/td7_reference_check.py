"""
Our TD7 (``sb3_td3x.TD7``) against the reference implementation, sfujim/TD7 (https://github.com/sfujim/TD7),
update for update, on small networks and a fixed Pendulum-v1 replay buffer:

    git -C <sfujim/TD7 clone> archive HEAD | tar -x -C /tmp/td7ref
    python tests/data/td7_reference_check.py --td7-path /tmp/td7ref [--seed 0] [--td7-commit <sha>]

Both agents start from the same weights (the reference's initialization, copied into our split layers), hold the same
transitions (actions in [-1, 1]), train on the same batches (the reference's own LAP sampling, from its priorities,
with a generator of its own; the drawn indices are fed to our buffer too) and draw the same target-policy noise
(``torch.manual_seed(k)`` before update k: the noise is each update's first random draw in both). After each update
the script compares the encoder, critic and actor losses, the TD errors, the priorities written back and the largest
priority, and the value-clipping range; after the last one every weight (online, targets, fixed encoders). It also
drives both checkpoint rules (the reference's ``maybe_train_and_checkpoint`` with its ``train`` replaced by a counter,
and our ``PolicyCheckpoints.end_of_episode``) on scripted episodes.

It writes ``tests/data/td7_reference_fixture.npz`` (inputs and the reference's outputs, for
``tests/test_td7_reference.py``, which needs no reference) and ``results/td7-reference-check.md``. Runs on the CPU
with one thread in a few seconds; only torch, numpy and gymnasium are needed for the reference.
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th

sys.path.insert(0, str(Path(__file__).resolve().parent))
import td7_check_common as common

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "data" / "td7_reference_fixture.npz"
REPORT = ROOT / "results" / "td7-reference-check.md"


# --------------------------------------------------------------------------------------------------------------------
# The reference
# --------------------------------------------------------------------------------------------------------------------
def import_reference(td7_path: str) -> types.ModuleType:
    """Import sfujim/TD7's ``TD7.py`` (and its ``buffer.py``) from ``td7_path``, on the CPU."""
    th.cuda.is_available = lambda: False  # the reference picks CUDA by itself when it sees one
    sys.path.insert(0, str(Path(td7_path).resolve()))
    import TD7 as reference  # type: ignore[import-not-found]

    return reference


def reference_hp(ref: types.ModuleType, config: dict[str, Any], steps_before_checkpointing: int = 10**9) -> Any:
    return ref.Hyperparameters(
        batch_size=config["batch_size"],
        buffer_size=config["buffer_size"],
        discount=config["discount"],
        target_update_rate=config["target_update_rate"],
        target_policy_noise=config["target_policy_noise"],
        noise_clip=config["noise_clip"],
        policy_freq=config["policy_freq"],
        alpha=config["alpha"],
        min_priority=config["min_priority"],
        max_eps_when_checkpointing=config["max_eps_when_checkpointing"],
        steps_before_checkpointing=steps_before_checkpointing,
        reset_weight=config["reset_weight"],
        zs_dim=config["zs_dim"],
        enc_hdim=config["enc_hidden"],
        encoder_lr=config["lr"],
        critic_hdim=config["hidden"],
        critic_lr=config["lr"],
        actor_hdim=config["hidden"],
        actor_lr=config["lr"],
    )


class _Recorder:
    """What the reference's ``train`` computes but does not keep: its losses, TD errors and critic outputs."""

    def __init__(self, ref: types.ModuleType, agent: Any):
        self.encoder_loss: float | None = None
        self.td_abs: np.ndarray | None = None
        self.critic_loss_reported: float | None = None
        self.critic_outputs: list[th.Tensor] = []
        functional = ref.F
        recorder = self

        class _Functional(types.ModuleType):
            """``torch.nn.functional`` for the reference module, its ``mse_loss`` (the encoder loss) recorded."""

            def __getattr__(self, name: str) -> Any:
                return getattr(functional, name)

            @staticmethod
            def mse_loss(*args: Any, **kwargs: Any) -> th.Tensor:
                loss = functional.mse_loss(*args, **kwargs)
                recorder.encoder_loss = float(loss.detach())
                return loss

        lap_huber = ref.LAP_huber

        def recording_lap_huber(x: th.Tensor, *args: Any, **kwargs: Any) -> th.Tensor:
            loss = lap_huber(x, *args, **kwargs)
            recorder.td_abs = x.detach().numpy().copy()
            recorder.critic_loss_reported = float(loss)
            return loss

        ref.F = _Functional("F_recorded")
        ref.LAP_huber = recording_lap_huber
        # The critic's calls with gradient: the critic update's Q, then (on actor steps) the actor's Q
        agent.critic.register_forward_hook(
            lambda module, inputs, output: (
                self.critic_outputs.append(output.detach().clone()) if th.is_grad_enabled() else None
            )
        )

    def start(self) -> None:
        self.encoder_loss = self.td_abs = self.critic_loss_reported = None
        self.critic_outputs = []


def patch_reference_sampling(agent: Any, generator: th.Generator, drawn: list[np.ndarray]) -> None:
    """
    The reference's LAP sampling (inverse CDF of its priorities, ``searchsorted`` over their cumulative sum), drawn
    from ``generator`` instead of the global torch generator, so that the target-policy noise is the update's first
    global draw; the indices are kept in ``drawn``.
    """
    buffer = agent.replay_buffer

    def sample() -> tuple[th.Tensor, ...]:
        cumulative = th.cumsum(buffer.priority[: buffer.size], 0)
        values = th.rand(size=(buffer.batch_size,), generator=generator) * cumulative[-1]
        buffer.ind = th.searchsorted(cumulative, values).clamp(max=buffer.size - 1).numpy()
        drawn.append(buffer.ind.copy())
        return tuple(
            th.tensor(array[buffer.ind], dtype=th.float)
            for array in (buffer.state, buffer.action, buffer.next_state, buffer.reward, buffer.not_done)
        )

    buffer.sample = sample


def run_reference(
    ref: types.ModuleType, agent: Any, seeds: np.ndarray, config: dict[str, Any], sampling_seed: int
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:return: the indices drawn, and the per-update quantities of ``common.PER_UPDATE`` (plus the reported loss)."""
    recorder = _Recorder(ref, agent)
    drawn: list[np.ndarray] = []
    patch_reference_sampling(agent, th.Generator().manual_seed(sampling_seed), drawn)
    out: dict[str, list[Any]] = {name: [] for name in (*common.PER_UPDATE, "critic_loss_reported")}
    for k in range(len(seeds)):
        recorder.start()
        th.manual_seed(int(seeds[k]))
        agent.train()
        assert recorder.td_abs is not None and recorder.critic_loss_reported is not None
        out["encoder_loss"].append(recorder.encoder_loss)
        out["critic_loss_reported"].append(recorder.critic_loss_reported)
        # LAP_huber reports min_priority * |x| where |x| >= min_priority; the Huber loss there is |x| - 0.5 (threshold
        # 1): the same gradient, a constant 0.5 per (sample, critic) entry in the linear part, averaged over the batch
        linear = (recorder.td_abs >= config["min_priority"]).sum() / recorder.td_abs.shape[0]
        out["critic_loss"].append(recorder.critic_loss_reported - 0.5 * config["min_priority"] ** 2 * linear)
        out["td_abs"].append(recorder.td_abs)
        actor_step = agent.training_steps % config["policy_freq"] == 0
        assert len(recorder.critic_outputs) == (2 if actor_step else 1)
        out["actor_loss"].append(-float(recorder.critic_outputs[1].mean()) if actor_step else np.nan)
        out["priorities"].append(agent.replay_buffer.priority[drawn[-1]].numpy().copy())
        out["max_priority"].append(agent.replay_buffer.max_priority)
        out["seen_low"].append(agent.min)
        out["seen_high"].append(agent.max)
        out["clip_low"].append(agent.min_target)
        out["clip_high"].append(agent.max_target)
    return np.stack(drawn), {name: np.asarray(value, dtype=np.float64) for name, value in out.items()}


def reference_weights(agent: Any) -> dict[str, dict[str, np.ndarray]]:
    return {
        name: {key: value.detach().numpy().copy() for key, value in getattr(agent, name).state_dict().items()}
        for copies in common.COPIES.values()
        for name in copies
    }


def run_reference_checkpoints(
    ref: types.ModuleType, returns: np.ndarray, lengths: np.ndarray, late_start: int, config: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The reference's ``maybe_train_and_checkpoint`` on scripted episodes, its ``train`` a counter."""
    agent = ref.Agent(config["obs_dim"], config["action_dim"], config["max_action"], hp=reference_hp(ref, config, late_start))

    def train() -> None:
        agent.training_steps += 1

    agent.train = train
    loads = [0]
    load_state_dict = agent.checkpoint_actor.load_state_dict

    def counting_load(*args: Any, **kwargs: Any) -> Any:
        loads[0] += 1
        return load_state_dict(*args, **kwargs)

    agent.checkpoint_actor.load_state_dict = counting_load
    out: dict[str, list[float]] = {name: [] for name in common.CHECKPOINT_FIELDS}
    for episode_return, length in zip(returns, lengths, strict=True):
        steps, checkpoints = agent.training_steps, loads[0]
        agent.maybe_train_and_checkpoint(int(length), float(episode_return))
        out["trained"].append(agent.training_steps - steps)
        out["checkpoint"].append(float(loads[0] - checkpoints))
        out["best"].append(agent.best_min_return)
        out["max_episodes"].append(agent.max_eps_before_update)
    return {name: np.asarray(value, dtype=np.float64) for name, value in out.items()}


# --------------------------------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------------------------------
def make_transitions(config: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    """Random actions in [-1, 1] on Pendulum-v1; every ``episode_length`` steps the step is marked terminal (to test
    the done mask; Pendulum itself never terminates) and the env reset."""
    env = gym.make(config["env_id"])
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    out: dict[str, list[Any]] = {name: [] for name in ("obs", "next_obs", "actions", "rewards", "dones")}
    for t in range(config["n_transitions"]):
        action = rng.uniform(-1.0, 1.0, size=config["action_dim"]).astype(np.float32)
        next_obs, reward, _, _, _ = env.step(action * np.float32(config["max_action"]))
        done = (t + 1) % config["episode_length"] == 0
        for name, value in zip(out, (obs, next_obs, action, reward, float(done)), strict=True):
            out[name].append(value)
        obs = env.reset()[0] if done else next_obs
    env.close()
    return {name: np.asarray(value, dtype=np.float32) for name, value in out.items()}


def checkpoint_scenarios(seed: int) -> dict[str, dict[str, np.ndarray]]:
    """
    Scripted episodes (returns, lengths) and the gradient steps after which the assessments get longer. The first six
    episodes last 50 steps: with ``late_start`` 300 the 300th update ends an episode's training exactly (the switch
    comes with the next training), with 275 it falls inside it.
    """
    rng = np.random.default_rng(seed + 7)
    n = 150
    lengths = rng.integers(20, 61, size=n)
    lengths[:6] = 50
    trend = np.linspace(0.0, 1.0, n)
    positive = np.round(100.0 + 400.0 * trend + rng.normal(0.0, 30.0, size=n), 2)
    negative = np.round(-1300.0 + 1100.0 * trend + rng.normal(0.0, 60.0, size=n), 2)
    scenarios = {
        "switch_at_episode_end": (positive, 300),
        "switch_inside_training": (positive, 275),
        "switch_at_start": (positive, 0),
        "negative_returns": (negative, 420),
    }
    return {
        name: dict(returns=returns, lengths=lengths.copy(), late_start=np.asarray(late_start))
        for name, (returns, late_start) in scenarios.items()
    }


# --------------------------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------------------------
def differences(ours: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """:return: max |ours - ref| and that divided by max |ref| (NaN entries, e.g. no actor step, left out)."""
    ours, ref = np.asarray(ours, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    keep = ~np.isnan(ref)
    assert np.array_equal(keep, ~np.isnan(ours))
    diff = float(np.max(np.abs(ours[keep] - ref[keep]))) if keep.any() else 0.0
    scale = float(np.max(np.abs(ref[keep]))) if keep.any() else 1.0
    return diff, diff / scale if scale > 0 else diff


def within(ours: np.ndarray, ref: np.ndarray, name: str) -> bool:
    rtol, atol = common.TOLERANCES[name]
    return bool(np.allclose(ours, ref, rtol=rtol, atol=atol, equal_nan=True))


def reference_commit(td7_path: str, given: str | None) -> str:
    if given:
        return given
    try:
        return subprocess.run(
            ["git", "-C", td7_path, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (pass --td7-commit)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--td7-path", required=True, help="folder holding sfujim/TD7's TD7.py and buffer.py")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--td7-commit", default=None, help="the reference's commit, for the report")
    parser.add_argument("--no-write", action="store_true", help="compare only: write neither fixture nor report")
    args = parser.parse_args()
    th.set_num_threads(1)
    config = dict(common.CONFIG)
    ref = import_reference(args.td7_path)

    # The reference agent: its initialization is the one both start from
    th.manual_seed(args.seed)
    agent = ref.Agent(config["obs_dim"], config["action_dim"], config["max_action"], hp=reference_hp(ref, config))
    assert agent.device == th.device("cpu")
    init = {net: {k: v.detach().numpy().copy() for k, v in getattr(agent, net).state_dict().items()} for net in common.COPIES}
    transitions = make_transitions(config, args.seed)
    for t in range(config["n_transitions"]):
        # The reference's buffer divides actions by max_action: give it the env's action, it stores the one in [-1, 1]
        agent.replay_buffer.add(
            transitions["obs"][t],
            transitions["actions"][t] * config["max_action"],
            transitions["next_obs"][t],
            transitions["rewards"][t],
            transitions["dones"][t],
        )
    assert np.array_equal(agent.replay_buffer.action[: config["n_transitions"]], transitions["actions"])
    seeds = args.seed * 100_000 + np.arange(config["n_updates"])

    # The two noise expressions draw the same numbers from the same seed
    shape = (config["batch_size"], config["action_dim"])
    for seed in seeds:
        th.manual_seed(int(seed))
        ref_noise = th.randn_like(th.zeros(shape)) * config["target_policy_noise"]
        th.manual_seed(int(seed))
        our_noise = th.zeros(shape).clone().normal_(0, config["target_policy_noise"])
        assert th.equal(ref_noise, our_noise), seed
    noise_identical = True

    indices, ref_out = run_reference(ref, agent, seeds, config, sampling_seed=args.seed + 1)
    ref_final = reference_weights(agent)
    ref_stored = agent.replay_buffer.priority[: agent.replay_buffer.size].numpy().astype(np.float64)

    # Ours, on the same inputs
    model = common.build_ours(config)
    common.load_initial_weights(model, init, config)
    common.fill_buffer(model, transitions)
    ours = common.run_ours(model, indices, seeds, config)
    our_final = common.our_weights(model, config)
    our_stored = common.our_stored_priorities(model)

    rows: list[tuple[str, float, float, str]] = []
    for name in common.PER_UPDATE:
        rows.append((name, *differences(ours[name], ref_out[name]), common.tolerance_text(name)))
    raw = differences(ours["critic_loss"], ref_out["critic_loss_reported"])
    rows.append(("critic_loss, reported values (uncorrected)", *raw, "not tested"))
    rows.append(("stored priorities after the last update (all 300)", *differences(our_stored, ref_stored), "as priorities"))
    coverage = dict(
        batches_with_duplicates=int(sum(len(np.unique(row)) < len(row) for row in indices)),
        terminal_samples=int(transitions["dones"][indices].sum()),
        linear_entries=int((ref_out["td_abs"] >= config["min_priority"]).sum()),
        td_entries=int(ref_out["td_abs"].size),
        clip_ranges=sorted(
            {
                (round(float(lo), 4), round(float(hi), 4))
                for lo, hi in zip(ref_out["clip_low"], ref_out["clip_high"], strict=True)
            }
        ),
    )
    for copy, params in ref_final.items():
        diff = max(differences(our_final[copy][key], value)[0] for key, value in params.items())
        rel = max(differences(our_final[copy][key], value)[1] for key, value in params.items())
        rows.append((f"final weights: {copy}", diff, rel, common.tolerance_text("weights")))

    scenarios = checkpoint_scenarios(args.seed)
    checkpoint_rows = []
    ref_checkpoints: dict[str, dict[str, np.ndarray]] = {}
    for name, scenario in scenarios.items():
        late_start = int(scenario["late_start"])
        theirs = run_reference_checkpoints(ref, scenario["returns"], scenario["lengths"], late_start, config)
        mine = common.run_our_checkpoints(scenario["returns"], scenario["lengths"], late_start, config)
        ref_checkpoints[name] = theirs
        same = {field: bool(np.array_equal(mine[field], theirs[field])) for field in common.CHECKPOINT_FIELDS}
        switch = int(np.argmax(theirs["max_episodes"] > 1)) + 1
        early = int(((theirs["trained"] > 0) & (theirs["checkpoint"] == 0)).sum())
        taken = f"{int(theirs['checkpoint'].sum())} ({int(theirs['checkpoint'][switch:].sum())} after)"
        checkpoint_rows.append((name, late_start, len(scenario["returns"]), switch, taken, early, same))

    print(f"{'quantity':52s} {'max abs diff':>13s} {'max rel diff':>13s}")
    for name, diff, rel, _ in rows:
        print(f"{name:52s} {diff:13.3e} {rel:13.3e}")
    for row in checkpoint_rows:
        print("checkpoints", row)
    print(coverage)
    failures = [name for name in common.PER_UPDATE if not within(ours[name], ref_out[name], name)]
    failures += [] if within(our_stored, ref_stored, "priorities") else ["stored priorities"]
    failures += [
        f"weights {copy}"
        for copy, params in ref_final.items()
        if not all(within(our_final[copy][key], value, "weights") for key, value in params.items())
    ]
    failures += [f"checkpoints {row[0]}" for row in checkpoint_rows if not all(row[-1].values())]
    if args.no_write:
        print("FAILURES" if failures else "all within tolerance", failures)
        return

    commit = reference_commit(args.td7_path, args.td7_commit)
    meta = dict(
        config=config,
        seed=args.seed,
        reference_commit=commit,
        sampling="the reference's LAP sampling from its priorities, torch.Generator seeded seed + 1",
        noise="torch.manual_seed(seeds[k]) right before update k",
    )
    fixture = dict(
        init=init,
        transitions=transitions,
        indices=indices,
        seeds=seeds,
        ref={name: value for name, value in ref_out.items()},
        final=ref_final,
        stored_priorities=ref_stored,
        checkpoints={name: {**scenarios[name], "ref": ref_checkpoints[name]} for name in scenarios},
    )
    flat = common.flatten(fixture)
    flat = {
        key: value.astype(np.float32) if value.dtype == np.float64 and key.startswith(("init/", "final/")) else value
        for key, value in flat.items()
    }
    np.savez_compressed(FIXTURE, meta=np.asarray(json.dumps(meta)), **flat)
    write_report(args, commit, rows, checkpoint_rows, noise_identical, failures, coverage)
    print(f"wrote {FIXTURE.relative_to(ROOT)} ({FIXTURE.stat().st_size} bytes) and {REPORT.relative_to(ROOT)}")
    if failures:
        sys.exit(f"outside tolerance: {failures}")


def write_report(
    args: argparse.Namespace,
    commit: str,
    rows: list[tuple[str, float, float, str]],
    checkpoint_rows: list[Any],
    noise_identical: bool,
    failures: list[str],
    coverage: dict[str, Any],
) -> None:
    config = common.CONFIG
    lines = [
        "# TD7 against the reference implementation, update for update",
        "",
        f"Date: {datetime.date.today().isoformat()}. Reference: sfujim/TD7 at commit `{commit}` (`TD7.py`, `buffer.py`).",
        "Command:",
        "",
        "```",
        f"python tests/data/td7_reference_check.py --td7-path {args.td7_path} --seed {args.seed}"
        + (f" --td7-commit {args.td7_commit}" if args.td7_commit else ""),
        "```",
        "",
        "It writes `tests/data/td7_reference_fixture.npz`, which `tests/test_td7_reference.py` replays on our TD7 alone",
        "(no reference needed) with the tolerances below.",
        "",
        "## Setup",
        "",
        f"- Pendulum-v1 (3-dim observation, 1-dim action, max_action {config['max_action']}); "
        f"{config['n_transitions']} transitions with uniform random actions in [-1, 1], every "
        f"{config['episode_length']}th step marked terminal (to exercise the done mask). Both buffers hold the same "
        "actions in [-1, 1] (the reference's `LAP.add` is given `action * max_action` and divides it back, exactly).",
        f"- Networks: hidden width {config['hidden']} (actor, critics), encoder hidden {config['enc_hidden']}, zs_dim "
        f"{config['zs_dim']}; batch {config['batch_size']}; lr {config['lr']}; policy_freq {config['policy_freq']}; "
        f"target_update_rate {config['target_update_rate']} (our `target_update_interval` and `max_priority_reset`); "
        f"alpha {config['alpha']}, min_priority {config['min_priority']}; {config['n_updates']} updates, so "
        f"{config['n_updates'] // config['target_update_rate']} hard updates (and max-priority resets) and a final "
        "state between two.",
        "- Initial weights: the reference's initialization, copied into ours (our `JoinedLinear` / `BatchedLinear`",
        "  blocks are the reference's `nn.Linear` matrices, split by input and transposed), every copy (targets, fixed",
        "  encoder, fixed target encoder) equal to its online network, as the reference's `deepcopy`s are.",
        "- Batches: the reference samples with its own LAP rule (`searchsorted` over the cumulative sum of its",
        "  priorities) from a dedicated `torch.Generator`; the drawn indices (duplicates included) are fed to our",
        "  buffer (our stratified sum-tree sampling has the same marginal probabilities but draws other batches:",
        "  a deliberate difference, bypassed here).",
        "- Target-policy noise: `torch.manual_seed(k)` right before update k in both; the reference's",
        "  `torch.randn_like(action) * 0.2` and our `actions.clone().normal_(0, 0.2)` give bitwise identical noise"
        + (" (checked for every seed)." if noise_identical else " (NOT identical)."),
        "- Our Adam with `fused=False` (the reference's plain Adam); one torch thread; CPU.",
        "",
        f"- What the batches exercised: {coverage['batches_with_duplicates']} of {config['n_updates']} batches "
        f"hold a duplicated index (the priority write-back keeps the last, in both), {coverage['terminal_samples']} "
        f"sampled terminal transitions, {coverage['linear_entries']} of {coverage['td_entries']} (sample, critic) TD "
        f"errors in the Huber loss's linear part; value-clipping ranges used: {coverage['clip_ranges']}.",
        "",
        "## Per update and final weights",
        "",
        f"Max over the {config['n_updates']} updates (and over the batch, the critics, the parameters) of",
        "|ours - reference|, and that divided by the largest |reference| value of the quantity (per tensor for",
        "weights). The test's tolerances apply element by element: |ours - ref| <= atol + rtol |ref|.",
        "",
        "| quantity | max abs diff | max rel diff | test tolerance |",
        "|---|---|---|---|",
    ]
    lines += [f"| {name} | {diff:.2e} | {rel:.2e} | {tol} |" for name, diff, rel, tol in rows]
    lines += [
        "",
        "Critic loss: the reference's `LAP_huber` reports `min_priority * |x|` in the linear region, ours the Huber",
        "loss `|x| - 0.5` (threshold 1): the same gradient, reported values 0.5 x (number of (sample, critic) entries",
        "with |td| >= 1) / batch apart. The `critic_loss` row compares ours with the reference's value so corrected",
        "(computed from the reference's own TD errors); the uncorrected row shows the constant. The TD errors",
        "themselves (`td_abs`) are compared directly.",
        "",
        "## Policy checkpoints",
        "",
        "The reference's `maybe_train_and_checkpoint(ep_timesteps, ep_return)` (its `train` replaced by a counter of",
        "`training_steps`; a checkpoint is a call of `checkpoint_actor.load_state_dict`) against our",
        "`PolicyCheckpoints(episodes=1, late_episodes=20, late_start=S, reset_weight=0.9).end_of_episode(return,",
        "gradient_steps=length, n_updates, episode_length=length)` (the reference's `steps_before_checkpointing` = S).",
        "Compared per episode, exactly: updates made, checkpoint taken, best score after the episode, episodes per",
        "assessment.",
        "",
        "| scenario | S | episodes | switch to 20 at episode | checkpoints (after the switch) | assessments ended early "
        "| identical |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, late_start, n, switch, taken, early, same in checkpoint_rows:
        verdict = "yes" if all(same.values()) else "NO: " + ", ".join(k for k, v in same.items() if not v)
        lines.append(f"| {name} | {late_start} | {n} | {switch} | {taken} | {early} | {verdict} |")
    lines += [
        "",
        "The first six episodes last 50 steps: with S = 300 the 300th update ends an episode's training exactly and",
        "both switch at the next training; with S = 275 the boundary falls inside an episode's training and both",
        "switch then (the reference checks `training_steps == S` before each update, we check",
        "`n_updates + steps > S` once per training: the same episodes). The best score before any checkpoint is",
        "-1e8 in the reference, -inf in ours; the first episode always becomes a checkpoint, so the values compared",
        "(after each episode) are the same numbers.",
        "",
        "## Differences",
        "",
    ]
    lines += DIFFERENCES
    lines += ["", "Result: " + ("all within tolerance." if not failures else f"OUTSIDE TOLERANCE: {failures}"), ""]
    REPORT.write_text("\n".join(lines))


DIFFERENCES = [
    "- No difference in the computed numbers beyond float32 rounding: same order of the steps, same losses,",
    "  targets, clipping, priorities, max-priority resets and hard updates.",
    "- Deliberate, bypassed by the check: the batch sampling (stratified sum tree with numpy's generator vs",
    "  inverse CDF with torch's), same marginal probabilities.",
    "- Deliberate, reported values only: the critic loss's constant in the Huber linear region (see above).",
    "- Deliberate, rounding only: our priorities are computed and stored in float64 (numpy), the reference's in",
    "  float32 (torch); our twin critics and split layers sum in another order (~1e-7 relative per operation).",
    "- Order only, no effect: our max-priority reset comes right after the priorities are written, the",
    "  reference's after the actor step (which changes no priority: the same value); our actor loss runs with the",
    "  critics' `requires_grad` off (the reference accumulates critic gradients there, cleared by the next",
    "  `zero_grad` before they are used).",
    "- Same quirk in both: with negative scores the reset weight 0.9 raises the best score (scenario",
    "  negative_returns).",
    "- Not compared: data collection (the reference's `main.py`: random actions until the first episode end after",
    "  `timesteps_before_training`, exploration noise, which episodes count), only `train` and the checkpoint",
    "  rule.",
]


if __name__ == "__main__":
    main()
