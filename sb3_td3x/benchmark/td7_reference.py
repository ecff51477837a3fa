"""
Time of one update of the package's TD7 against the TD7 reference agent (sfujim/TD7), and both against one stock SB3
TD3 update with RL Zoo's [400, 300] networks, measured interleaved in one process on the same transitions.

The reference stays outside this package: give the folder of a checkout of https://github.com/sfujim/TD7 (its
``TD7.py`` and ``buffer.py``), which is imported from there. Each round times ``--updates`` gradient steps of every
agent in turn (the order rotated every round), so that a change of machine load hits all of them alike; the table
gives the median time per update and the ratios. The package's TD7 is timed with its defaults (TD7's hyperparameters)
without the policy checkpoints (which only decide when updates happen), with TD7's embeddings of 256 and with 128.

Example::

    python -m sb3_td3x.benchmark.td7_reference --td7-path ../TD7 --markdown results/td7-update-time-Hopper-v4.md
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch as th
from stable_baselines3 import TD3
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

from sb3_td3x.common.buffers import BasePrioritizedReplayBuffer


def load_reference(td7_path: str) -> Any:
    """
    :param td7_path: Folder with the reference's ``TD7.py`` and ``buffer.py``.
    :return: the reference's ``TD7`` module.
    """
    if not os.path.isfile(os.path.join(td7_path, "TD7.py")):
        raise FileNotFoundError(f"--td7-path {td7_path!r} has no TD7.py: give the folder of a checkout of sfujim/TD7")
    sys.path.insert(0, os.path.abspath(td7_path))
    try:
        return importlib.import_module("TD7")
    finally:
        sys.path.pop(0)


def build_agents(td7: Any, env_id: str, transitions: int, seed: int) -> dict[str, Callable[[int], None]]:
    """
    Build the agents on the same replay data: ``transitions`` random steps of ``env_id``, collected by TD3X and
    copied into stock TD3's buffer and the reference's.

    :param td7: The reference module.
    :param env_id: Gymnasium environment id.
    :param transitions: Random transitions in every buffer.
    :param seed: Seed.
    :return: name -> function making that many gradient steps.
    """
    from sb3_td3x import TD7

    env = gym.make(env_id)
    common: dict[str, Any] = dict(buffer_size=1_000_000, batch_size=256, learning_starts=transitions, seed=seed, device="cpu")
    # Updates after every env step instead of after each assessed episode: the same update, timed on its own
    stepwise: dict[str, Any] = dict(policy_checkpoints=False, train_freq=1, gradient_steps=1)
    sale = TD7("MlpPolicy", env, **common, **stepwise)
    sale.learn(transitions)
    small = TD7("MlpPolicy", env, **common, **stepwise, policy_kwargs=dict(zs_dim=128))
    stock = TD3("MlpPolicy", env, learning_rate=1e-3, policy_kwargs=dict(net_arch=[400, 300]), **common)
    for model in (small, stock):
        model._setup_learn(transitions)
        _copy_transitions(sale, model, transitions)

    obs_dim, action_dim = env.observation_space.shape[0], env.action_space.shape[0]  # type: ignore[index]
    cuda_available = th.cuda.is_available
    th.cuda.is_available = lambda: False  # the reference picks CUDA by itself; this comparison is on the CPU
    try:
        agent = td7.Agent(obs_dim, action_dim, float(env.action_space.high[0]))  # type: ignore[attr-defined]
    finally:
        th.cuda.is_available = cuda_available
    buffer = sale.replay_buffer
    assert buffer is not None
    for i in range(transitions):
        agent.replay_buffer.add(
            buffer.observations[i, 0],
            buffer.actions[i, 0],
            buffer.next_observations[i, 0],
            float(buffer.rewards[i, 0]),
            float(buffer.dones[i, 0] * (1 - buffer.timeouts[i, 0])),
        )

    def reference(updates: int) -> None:
        for _ in range(updates):
            agent.train()

    return {
        "td3 (SB3, [400, 300])": lambda updates: stock.train(updates, batch_size=256),
        "TD7 reference": reference,
        "TD7 (sb3_td3x, zs 256)": lambda updates: sale.train(updates, batch_size=256),
        "TD7 (sb3_td3x, zs 128)": lambda updates: small.train(updates, batch_size=256),
    }


def _copy_transitions(source: OffPolicyAlgorithm, target: OffPolicyAlgorithm, count: int) -> None:
    src, dst = source.replay_buffer, target.replay_buffer
    assert src is not None and dst is not None
    for name in ("observations", "next_observations", "actions", "rewards", "dones", "timeouts"):
        getattr(dst, name)[:count] = getattr(src, name)[:count]
    dst.pos, dst.full = count, False
    if isinstance(dst, BasePrioritizedReplayBuffer):  # the copied transitions at the starting priority
        slots = np.arange(count * dst.n_envs)
        priorities = np.full(slots.size, dst.max_priority)
        dst.sum_tree.update(slots, priorities)
        dst.min_tree.update(slots, priorities)


def measure(agents: dict[str, Callable[[int], None]], updates: int, rounds: int, warmup: int = 20) -> dict[str, list[float]]:
    """
    :return: name -> seconds per update, one value per round (rounds interleaved, order rotated).
    """
    for train in agents.values():
        train(warmup)
    names = list(agents)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(rounds):
        shift = round_index % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            agents[name](updates)
            times[name].append((time.perf_counter() - start) / updates)
    return times


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sb3_td3x.benchmark.td7_reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("--td7-path", required=True, help="folder of a checkout of sfujim/TD7 (TD7.py, buffer.py)")
    parser.add_argument("--env", default="Hopper-v4", help="Gymnasium environment id")
    parser.add_argument("--transitions", type=int, default=25_000, help="random transitions in every buffer")
    parser.add_argument("--updates", type=int, default=200, help="gradient steps per agent per round")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", default=None, help="also write the output to this markdown file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    th.set_num_threads(args.threads)
    td7 = load_reference(args.td7_path)
    agents = build_agents(td7, args.env, args.transitions, args.seed)
    times = measure(agents, args.updates, args.rounds)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    medians = {name: float(np.median(values)) for name, values in times.items()}
    td3, reference = medians["td3 (SB3, [400, 300])"], medians["TD7 reference"]
    lines = [
        f"torch {th.__version__}, {th.get_num_threads()} torch thread(s), {os.cpu_count()} cores, load avg {load:.2f}; "
        f"{args.env}, batch 256, {args.transitions:,} transitions, {args.rounds} rounds x {args.updates} updates",
        "",
        "| agent | ms per update (median) | per round | ratio to td3 | ratio to the TD7 reference |",
        "|---|---|---|---|---|",
    ]
    for name, median in medians.items():
        rounds = ", ".join(f"{1e3 * value:.1f}" for value in times[name])
        lines.append(f"| {name} | {1e3 * median:.2f} | {rounds} | {median / td3:.2f} | {median / reference:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        command = "python -m sb3_td3x.benchmark.td7_reference " + " ".join(argv if argv is not None else sys.argv[1:])
        header = f"# One update: TD3X's SALE against the TD7 reference and stock TD3\n\n- Command: `{command.strip()}`\n"
        header += f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n\n"
        with open(args.markdown, "w") as file:
            file.write(header + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
