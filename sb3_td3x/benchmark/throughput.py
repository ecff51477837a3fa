"""
Throughput and memory of TD3X against stock TD3, measured side by side in one process.

- env steps per second of stock SB3 ``TD3`` and of ``TD3X`` with each extra alone and all together,
  same env, seed and hyperparameters (RL Zoo's MuJoCo defaults), torch threads fixed; the variants are
  trained in interleaved chunks (round robin, order rotated every round) so that a change of machine load
  hits all of them alike; printed as ratios to stock TD3.
- time of one prioritized sample + priority update at a given batch size on a full buffer.
- bytes per stored transition of SB3's ``ReplayBuffer`` and of the prioritized buffers (the PER overhead).

Example::

    python -m sb3_td3x.benchmark.throughput --env Hopper-v4 --chunk 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import TD3
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from sb3_td3x.benchmark.configs import CONFIGS, RECOMMENDED, override_values
from sb3_td3x.common.buffers import BasePrioritizedReplayBuffer, LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.zoo.noise import pop_noise_schedule, scheduled_noise

# RL Zoo's TD3 hyperparameters for MuJoCo (rl_zoo3/hyperparams/td3.yml, "mujoco-defaults")
ZOO_MUJOCO: dict[str, Any] = {
    "learning_rate": 1e-3,
    "batch_size": 256,
    "train_freq": 1,
    "gradient_steps": 1,
    "policy_kwargs": {"net_arch": [400, 300]},
}
NOISE_STD = 0.1


@dataclass(frozen=True)
class Variant:
    """
    One algorithm variant of the throughput benchmark.

    :param name: Identifier (matches the benchmark configuration names where one exists).
    :param algo: ``"td3"`` (stock SB3) or ``"td3x"``.
    :param kwargs: Constructor arguments on top of :data:`ZOO_MUJOCO`.
    :param action_noise: Whether Gaussian action noise is used.
    :param noise_std: Its standard deviation.
    """

    name: str
    algo: str
    kwargs: dict[str, Any]
    action_noise: bool = True
    noise_std: float = NOISE_STD


def _noisy(kind: str) -> dict[str, Any]:
    return {"policy": "NoisyMlpPolicy", "policy_kwargs": {"net_arch": [400, 300], "noise_kind": kind}}


def _widths(critic_width: int) -> dict[str, Any]:
    return {"net_arch": {"pi": [256, 256], "qf": [critic_width, critic_width]}}


DECAY = {"noise_schedule": "linear", "noise_final_std": 0.02, "noise_decay_steps": 100_000}


def from_config(name: str, variant_name: str | None = None, **changes: Any) -> Variant:
    """
    The variant of a benchmark configuration: its overrides read as values (RL Zoo's own keys become the action
    noise; its number of random steps is the throughput benchmark's own).

    :param name: Configuration name (:data:`~sb3_td3x.benchmark.configs.CONFIGS`).
    :param variant_name: Name of the variant (default: the configuration's).
    :param changes: Constructor arguments changed on top (``policy_kwargs`` merged).
    :return: the variant.
    """
    config = CONFIGS[name]
    kwargs = override_values(config.hyperparams)
    kwargs.pop("learning_starts", None)
    # sb3-contrib's CrossQ explores with its own stochastic policy; RL Zoo's Hopper set delays its actor by 3
    noise_std = 0.0 if config.algo == "crossq" else kwargs.pop("noise_std", NOISE_STD)
    if config.algo == "crossq":
        kwargs.setdefault("policy_delay", 3)
    # TD7's networks are the TD7 class's own; the others start from RL Zoo's MuJoCo ones
    base = {} if config.algo == "td7" else ZOO_MUJOCO["policy_kwargs"]
    policy_kwargs = {**kwargs.get("policy_kwargs", base), **changes.pop("policy_kwargs", {})}
    kwargs.update(changes, policy_kwargs=policy_kwargs)
    return Variant(variant_name or name, config.algo, kwargs, action_noise=noise_std > 0, noise_std=noise_std)


VARIANTS: dict[str, Variant] = {
    variant.name: variant
    for variant in (
        Variant("td3", "td3", {}),
        Variant("td3x_off", "td3x", {}),
        Variant("td3x_per", "td3x", {"prioritized_replay": "per"}),
        Variant("td3x_lap", "td3x", {"prioritized_replay": "lap"}),
        Variant("td3x_nstep3", "td3x", {"n_steps": 3}),
        Variant("td3x_noisy_factorized", "td3x", _noisy("factorized"), action_noise=False),
        Variant("td3x_noisy_independent", "td3x", _noisy("independent"), action_noise=False),
        Variant("td3x_noise_decay", "td3x", dict(DECAY)),
        # The benchmark's recommended set, its override expressions read as values
        Variant("td3x_recommended", "td3x", override_values(RECOMMENDED)),
        # PER and LAP exclude each other: "all" is measured with each
        Variant("td3x_all_per", "td3x", {"prioritized_replay": "per", "n_steps": 3, **_noisy("factorized"), **DECAY}),
        Variant("td3x_all_lap", "td3x", {"prioritized_replay": "lap", "n_steps": 3, **_noisy("factorized"), **DECAY}),
        # The candidates of the screening's round 2: the write-up's sets, checkpoints, TD7's set (SALE) and TD7 with
        # embeddings of 128
        from_config("td3x_writeup"),
        from_config("td3x_writeup_noisy"),
        from_config("td3x_ckpt"),
        from_config("td7"),
        from_config("td7_z128"),
        # Round 3 (critics that learn faster): TD3X's CrossQPolicy and sb3-contrib's CrossQ at three critic widths
        *(
            from_config(f"{prefix}{min(width, 512)}", f"{prefix}{width}", policy_kwargs=_widths(width))
            for prefix in ("td3x_crossq", "crossq")
            for width in (256, 512, 1024)
        ),
        # The same after the batch renormalization's warm-up (the renormalization phase, which every critic call of a
        # run reaches after 100k gradient steps), at 256 and 512
        *(
            from_config(
                f"{prefix}{width}",
                f"{prefix}{width}_renorm",
                policy_kwargs={**_widths(width), "renorm_warmup_steps": 0},
            )
            for prefix in ("td3x_crossq", "crossq")
            for width in (256, 512)
        ),
    )
}


def build_model(variant: Variant, env_id: str, seed: int, buffer_size: int, learning_starts: int) -> OffPolicyAlgorithm:
    """
    :param variant: The variant.
    :param env_id: Gymnasium environment id.
    :param seed: Seed of the model and env.
    :param buffer_size: Replay buffer size.
    :param learning_starts: Random steps before training.
    :return: the model, not trained yet.
    """
    env = gym.make(env_id)
    assert isinstance(env.action_space, spaces.Box)
    n_actions = env.action_space.shape[0]
    # TD7 keeps its own hyperparameters; the others take RL Zoo's MuJoCo ones
    kwargs: dict[str, Any] = {**({} if variant.algo == "td7" else ZOO_MUJOCO), **variant.kwargs}
    policy = kwargs.pop("policy", "MlpPolicy")
    # noise_schedule & co. are RL Zoo keys, as in the benchmark's overrides: they make the noise a decaying one
    schedule = pop_noise_schedule(kwargs)
    if variant.action_noise:
        noise = NormalActionNoise(np.zeros(n_actions), variant.noise_std * np.ones(n_actions))
        kwargs["action_noise"] = scheduled_noise(noise, schedule)
    common: dict[str, Any] = {
        "buffer_size": buffer_size,
        "learning_starts": learning_starts,
        "seed": seed,
        "device": "cpu",
        "verbose": 0,
    }
    if variant.algo == "td3":
        return TD3(policy, env, **common, **kwargs)
    if variant.algo == "crossq":
        from sb3_contrib import CrossQ

        return CrossQ(policy, env, **common, **kwargs)
    from sb3_td3x import TD3X, TD7

    return (TD7 if variant.algo == "td7" else TD3X)(policy, env, **common, **kwargs)


def measure_throughput(
    names: list[str],
    env_id: str = "Hopper-v4",
    chunk: int = 1000,
    rounds: int = 3,
    learning_starts: int = 1000,
    buffer_size: int = 1_000_000,
    seed: int = 0,
    on_round: Callable[[int, dict[str, float]], None] | None = None,
) -> dict[str, float]:
    """
    Training env steps per second of each variant, measured in interleaved chunks after ``learning_starts``.

    :param names: Variant names (keys of :data:`VARIANTS`).
    :param env_id: Gymnasium environment id.
    :param chunk: Env steps per variant per round.
    :param rounds: Number of rounds.
    :param learning_starts: Untimed random steps collected first (training starts after them).
    :param buffer_size: Replay buffer size.
    :param seed: Seed shared by all variants.
    :param on_round: Called after each round with the round index and the steps/s of that round.
    :return: variant name -> env steps per second over all rounds.
    """
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        raise ValueError(f"names={unknown} are unknown, allowed: {sorted(VARIANTS)}")
    if chunk < 1 or rounds < 1:
        raise ValueError(f"chunk={chunk} and rounds={rounds} must be >= 1")
    models = {}
    for name in names:
        model = build_model(VARIANTS[name], env_id, seed, buffer_size, learning_starts)
        # Random warm-up steps plus a few updates so that lazy allocations are done before timing
        model.learn(learning_starts + 10)
        models[name] = model
    elapsed = dict.fromkeys(names, 0.0)
    steps = dict.fromkeys(names, 0)
    for round_index in range(rounds):
        shift = round_index % len(names)
        this_round = {}
        for name in names[shift:] + names[:shift]:
            # Steps actually made: with per-episode training a learn() call ends with its episode
            before = models[name].num_timesteps
            start = time.perf_counter()
            models[name].learn(chunk, reset_num_timesteps=False)
            duration = time.perf_counter() - start
            done = models[name].num_timesteps - before
            elapsed[name] += duration
            steps[name] += done
            this_round[name] = done / duration
        if on_round is not None:
            on_round(round_index, this_round)
    return {name: steps[name] / elapsed[name] for name in names}


def gemm_gflops(size: int = 512, repeats: int = 50) -> float:
    """
    :param size: Side of the square matrices.
    :param repeats: Timed products (the best of three rounds is kept).
    :return: the CPU's rate on a large float32 matrix product, in GFLOP/s, at the current torch threads.
    """
    a, b = th.randn(size, size), th.randn(size, size)
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        best = min(best, (time.perf_counter() - start) / repeats)
    return 2 * size**3 / best / 1e9


def measure_update_cost(
    names: list[str],
    env_id: str = "Hopper-v4",
    batch_size: int = 256,
    updates: int = 30,
    rounds: int = 3,
    learning_starts: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, float]]:
    """
    FLOPs and time of one gradient step of each variant: the FLOPs counted by torch's ``FlopCounterMode`` over
    ``policy_delay`` gradient steps (so that the delayed actor update counts its share), the time in interleaved rounds
    of ``updates`` gradient steps each (order rotated every round, median over rounds), on a replay buffer of
    ``learning_starts`` random transitions.

    :param names: Variant names (keys of :data:`VARIANTS`).
    :param env_id: Gymnasium environment id.
    :param batch_size: Batch size of the gradient steps.
    :param updates: Gradient steps per variant per round.
    :param rounds: Number of rounds.
    :param learning_starts: Random transitions in the buffer.
    :param seed: Seed shared by all variants.
    :return: variant name -> ``mflop`` (per gradient step) and ``ms`` (per gradient step).
    """
    from torch.utils.flop_counter import FlopCounterMode

    models = {}
    flops = {}
    for name in names:
        model = build_model(VARIANTS[name], env_id, seed, learning_starts + 100, learning_starts)
        model.learn(learning_starts + 10)
        delay = int(getattr(model, "policy_delay", 1))
        counter = FlopCounterMode(display=False)
        with counter:
            model.train(gradient_steps=delay, batch_size=batch_size)
        flops[name] = counter.get_total_flops() / delay / 1e6
        models[name] = model
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            models[name].train(gradient_steps=updates, batch_size=batch_size)
            times[name].append(1e3 * (time.perf_counter() - start) / updates)
    return {name: {"mflop": flops[name], "ms": float(np.median(times[name]))} for name in names}


def _fill(buffer: ReplayBuffer, rng: np.random.Generator) -> None:
    """Fill a buffer to capacity with random transitions (written in place, far faster than ``add`` one by one)."""
    buffer.observations[:] = rng.standard_normal(buffer.observations.shape)
    if not buffer.optimize_memory_usage:
        buffer.next_observations[:] = rng.standard_normal(buffer.next_observations.shape)
    buffer.actions[:] = rng.uniform(-1, 1, buffer.actions.shape)
    buffer.rewards[:] = rng.standard_normal(buffer.rewards.shape)
    buffer.dones[:] = rng.uniform(size=buffer.dones.shape) < 1e-3
    buffer.pos, buffer.full = 0, True
    if isinstance(buffer, BasePrioritizedReplayBuffer):
        slots = np.arange(buffer.buffer_size * buffer.n_envs)
        priorities = buffer._priority(rng.standard_normal(slots.size))
        buffer.sum_tree.update(slots, priorities)
        buffer.min_tree.update(slots, priorities)
        buffer.max_priority = float(priorities.max())


def make_buffer(
    kind: str, observation_space: spaces.Space, action_space: spaces.Space, buffer_size: int, n_steps: int = 1
) -> ReplayBuffer:
    """
    :param kind: ``"sb3"`` (SB3's ``ReplayBuffer``), ``"per"`` or ``"lap"``.
    :param observation_space: Observation space.
    :param action_space: Action space.
    :param buffer_size: Capacity.
    :param n_steps: n-step returns of the prioritized buffers.
    :return: the buffer (CPU).
    """
    if kind == "sb3":
        return ReplayBuffer(buffer_size, observation_space, action_space, device="cpu")
    if kind == "per":
        return PrioritizedReplayBuffer(buffer_size, observation_space, action_space, device="cpu", n_steps=n_steps)
    if kind == "lap":
        return LAPReplayBuffer(buffer_size, observation_space, action_space, device="cpu", n_steps=n_steps)
    raise ValueError(f"kind={kind!r} must be one of 'sb3', 'per', 'lap'")


def time_sample_update(
    kind: str,
    observation_space: spaces.Space,
    action_space: spaces.Space,
    buffer_size: int = 1_000_000,
    batch_size: int = 256,
    n_steps: int = 1,
    iterations: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """
    Median time of ``sample(batch_size)`` and of ``update_priorities`` on a full buffer.

    :param kind: ``"sb3"``, ``"per"`` or ``"lap"`` (no priority update for ``"sb3"``).
    :param observation_space: Observation space.
    :param action_space: Action space.
    :param buffer_size: Capacity (the buffer is full).
    :param batch_size: Batch size.
    :param n_steps: n-step returns of the prioritized buffers.
    :param iterations: Timed repetitions.
    :param seed: Seed.
    :return: ``sample_ms``, ``update_ms`` and ``total_ms`` (median of the per-iteration sum).
    """
    rng = np.random.default_rng(seed)
    np.random.seed(seed)
    buffer = make_buffer(kind, observation_space, action_space, buffer_size, n_steps)
    _fill(buffer, rng)
    td_errors = [th.as_tensor(rng.standard_normal(batch_size), dtype=th.float32) for _ in range(16)]
    sample_times, update_times = np.empty(iterations), np.zeros(iterations)
    for i in range(iterations):
        start = time.perf_counter()
        samples = buffer.sample(batch_size)
        sampled = time.perf_counter()
        sample_times[i] = sampled - start
        if isinstance(buffer, BasePrioritizedReplayBuffer):
            buffer.update_priorities(samples.indices, td_errors[i % 16])  # type: ignore[attr-defined]
            update_times[i] = time.perf_counter() - sampled
    return {
        "sample_ms": 1e3 * float(np.median(sample_times)),
        "update_ms": 1e3 * float(np.median(update_times)),
        "total_ms": 1e3 * float(np.median(sample_times + update_times)),
    }


def _nbytes(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes of every NumPy array held by an object's attributes (recursively through plain objects)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, (list, tuple)):
        return sum(_nbytes(item, seen) for item in obj)
    if hasattr(obj, "__dict__") and not isinstance(obj, (type, spaces.Space, th.device)):
        return sum(_nbytes(value, seen) for value in vars(obj).values())
    return 0


def memory_per_transition(
    observation_space: spaces.Space, action_space: spaces.Space, buffer_size: int = 1_000_000
) -> dict[str, float]:
    """
    Allocated bytes per stored transition (all NumPy storage divided by capacity).

    :param observation_space: Observation space.
    :param action_space: Action space.
    :param buffer_size: Capacity.
    :return: bytes per transition of SB3's ``ReplayBuffer``, with ``optimize_memory_usage``, and of PER / LAP.
    """
    sb3 = ReplayBuffer(buffer_size, observation_space, action_space, device="cpu")
    sb3_opt = ReplayBuffer(
        buffer_size,
        observation_space,
        action_space,
        device="cpu",
        optimize_memory_usage=True,
        handle_timeout_termination=False,
    )
    result = {"sb3": _nbytes(sb3) / buffer_size, "sb3_optimize_memory_usage": _nbytes(sb3_opt) / buffer_size}
    del sb3, sb3_opt
    for kind in ("per", "lap"):
        buffer = make_buffer(kind, observation_space, action_space, buffer_size)
        result[kind] = _nbytes(buffer) / buffer_size
        del buffer
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sb3_td3x.benchmark.throughput", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="Hopper-v4", help="Gymnasium environment id")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), help=f"known: {', '.join(VARIANTS)}")
    parser.add_argument("--chunk", type=int, default=1000, help="env steps per variant per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of interleaved chunks")
    parser.add_argument("--learning-starts", type=int, default=1000, help="untimed random steps before training")
    parser.add_argument("--buffer-size", type=int, default=1_000_000, help="replay buffer size of the trained models")
    parser.add_argument("--per-buffer-size", type=int, default=1_000_000, help="size of the full buffer for timing")
    parser.add_argument("--batch-size", type=int, default=256, help="batch size of the sample + update timing")
    parser.add_argument("--iterations", type=int, default=1000, help="repetitions of the sample + update timing")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", default=None, help="also write the output to this markdown file")
    parser.add_argument("--skip-training", action="store_true", help="only the buffer timing and memory")
    parser.add_argument(
        "--update-cost",
        nargs="+",
        default=None,
        metavar="VARIANT",
        help="also count the FLOPs and time one gradient step of these variants (interleaved), against a large matrix "
        "product's rate",
    )
    parser.add_argument("--update-rounds", type=int, default=5, help="rounds of the gradient-step timing")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    lines: list[str] = []

    def emit(line: str = "", flush: bool = True) -> None:
        print(line, flush=flush)
        lines.extend(line.splitlines() or [""])

    th.set_num_threads(args.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    emit(f"torch {th.__version__}, {th.get_num_threads()} torch thread(s), {os.cpu_count()} cores, load avg {load:.2f}")
    env = gym.make(args.env)
    obs_space, act_space = env.observation_space, env.action_space
    env.close()
    ok = True

    if not args.skip_training:
        emit(
            f"\n== env steps/s on {args.env}: {args.rounds} rounds x {args.chunk} steps per variant (after "
            f"{args.learning_starts} random steps), batch 256, net [400, 300], buffer {args.buffer_size:,}"
        )
        rates = measure_throughput(
            args.variants,
            args.env,
            args.chunk,
            args.rounds,
            args.learning_starts,
            args.buffer_size,
            args.seed,
            on_round=lambda i, r: emit(f"round {i}: " + ", ".join(f"{k} {v:.0f}" for k, v in r.items()), flush=True),
        )
        reference = rates.get("td3", float("nan"))
        emit(f"{'variant':26s} {'steps/s':>8s} {'ratio to td3':>13s}")
        for name, rate in rates.items():
            emit(f"{name:26s} {rate:8.1f} {rate / reference:13.3f}")
        for name in ("td3x_all_per", "td3x_all_lap"):
            if name in rates and np.isfinite(reference):
                ratio = rates[name] / reference
                verdict = "meets" if ratio >= 0.9 else "MISSES"
                ok &= ratio >= 0.9
                emit(f"target: {name} keeps >= 90% of td3 throughput: {ratio:.1%} -> {verdict}")

    if args.update_cost:
        gflops = gemm_gflops()
        emit(
            f"\n== one gradient step (batch {args.batch_size}), FLOPs by torch's FlopCounterMode (the actor update "
            f"counted at its share, 1 / policy_delay), time median of {args.update_rounds} interleaved rounds of 30; "
            f"a 512x512x512 float32 matrix product runs at {gflops:.1f} GFLOP/s here"
        )
        costs = measure_update_cost(args.update_cost, args.env, args.batch_size, rounds=args.update_rounds, seed=args.seed)
        base = costs.get("td3")
        emit(f"{'variant':26s} {'MFLOP':>8s} {'ms':>8s} {'FLOPs / td3':>12s} {'time / td3':>11s} {'time / GEMM time':>17s}")
        for name, cost in costs.items():
            flop_ratio = cost["mflop"] / base["mflop"] if base else float("nan")
            time_ratio = cost["ms"] / base["ms"] if base else float("nan")
            gemm_ms = cost["mflop"] / gflops  # MFLOP / (GFLOP/s) = ms
            emit(
                f"{name:26s} {cost['mflop']:8.0f} {cost['ms']:8.2f} {flop_ratio:12.2f} {time_ratio:11.2f} "
                f"{cost['ms'] / gemm_ms:17.2f}"
            )

    emit(
        f"\n== one sample({args.batch_size}) + update_priorities on a full {args.per_buffer_size:,} buffer "
        f"({args.env} spaces), median of {args.iterations}"
    )
    for kind, n_steps in (("sb3", 1), ("per", 1), ("lap", 1), ("per", 3), ("lap", 3)):
        timing = time_sample_update(
            kind, obs_space, act_space, args.per_buffer_size, args.batch_size, n_steps, args.iterations, args.seed
        )
        label = "SB3 ReplayBuffer (sample only)" if kind == "sb3" else f"{kind.upper()} n_steps={n_steps}"
        emit(
            f"{label:32s} sample {timing['sample_ms']:.3f} ms + update {timing['update_ms']:.3f} ms "
            f"= {timing['total_ms']:.3f} ms"
        )
        if kind == "per" and n_steps == 1:
            verdict = "meets" if timing["total_ms"] < 1.0 else "MISSES"
            ok &= timing["total_ms"] < 1.0
            emit(f"target: PER sample + update < 1 ms: {timing['total_ms']:.3f} ms -> {verdict}")

    memory = memory_per_transition(obs_space, act_space, args.per_buffer_size)
    emit(
        f"\n== memory per stored transition ({args.env}: obs {obs_space.shape} {obs_space.dtype}, "
        f"action {act_space.shape} {act_space.dtype}), capacity {args.per_buffer_size:,}"
    )
    for name, value in memory.items():
        extra = (
            "" if name.startswith("sb3") else f"  (+{value - memory['sb3']:.1f} B, +{value / memory['sb3'] - 1:.1%} vs sb3)"
        )
        emit(f"{name:28s} {value:8.1f} B{extra}")
    if args.markdown:
        command = "python -m sb3_td3x.benchmark.throughput " + " ".join(argv if argv is not None else sys.argv[1:])
        text = f"# Throughput and memory: TD3X against stock TD3\n\n- Command: `{command.strip()}`\n"
        text += f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n```\n" + "\n".join(lines) + "\n```\n"
        with open(args.markdown, "w") as file:
            file.write(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
