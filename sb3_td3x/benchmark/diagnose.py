"""
Diagnostics of the critic and of prioritized replay in a short run: ``python -m sb3_td3x.benchmark.diagnose``.

Trains TD3X configurations of the benchmark (the zoo file's hyperparameters for the env plus the configuration's
overrides) with SB3's CSV logger, then writes a table of the diagnostics TD3X logs (``train/td_error_abs_mean``,
``train/huber_linear_frac``, ``train/huber_threshold``, ``train/max_priority``, ``train/priority_p50`` /
``p99``, ``train/sampling_ess``, ``train/critic_loss``), averaged over windows of env steps.

Example::

    python -m sb3_td3x.benchmark.diagnose --env Hopper-v4 --configs td3x_recommended td3x_lap_rscale -n 30000
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sb3_td3x.benchmark.configs import CONFIGS, override_values
from sb3_td3x.zoo.noise import pop_noise_schedule, scheduled_noise

# The diagnostics, in table order
KEYS: tuple[str, ...] = (
    "train/td_error_abs_mean",
    "train/huber_threshold",
    "train/huber_linear_frac",
    "train/max_priority",
    "train/priority_p50",
    "train/priority_p99",
    "train/sampling_ess",
    "train/critic_loss",
)


def zoo_hyperparams(env_id: str, overrides: dict[str, str], algo: str = "td3x") -> dict[str, Any]:
    """
    :param env_id: Environment id (its entry of the packaged ``<algo>.yml``, else ``default``).
    :param overrides: The configuration's ``key -> python expression`` overrides.
    :param algo: The package's algorithm whose yml file is read.
    :return: the hyperparameters, values evaluated as RL Zoo does.
    """
    import yaml

    from sb3_td3x.zoo import hyperparams_file

    with open(hyperparams_file(algo)) as file:
        entries = yaml.safe_load(file)
    params = dict(entries.get(env_id, entries["default"]))
    params.update(override_values(overrides))
    # The keyword dicts RL Zoo evaluates (its ``_preprocess_hyperparams``)
    for key in ("policy_kwargs", "replay_buffer_kwargs"):
        if isinstance(params.get(key), str):
            params[key] = eval(params[key])
    return params


def train_one(config: str, env_id: str, n_timesteps: int, seed: int, folder: Path) -> Path:
    """
    Train one configuration with the CSV logger (a row per episode).

    :param config: Name of a TD3X configuration of the benchmark.
    :param env_id: Environment id.
    :param n_timesteps: Env steps.
    :param seed: Random seed.
    :param folder: Folder of the logger's ``progress.csv``.
    :return: the path of ``progress.csv``.
    """
    import torch as th
    from stable_baselines3.common.logger import configure
    from stable_baselines3.common.noise import NormalActionNoise

    from sb3_td3x import TD3X

    th.set_num_threads(1)
    params = zoo_hyperparams(env_id, CONFIGS[config].hyperparams)
    params.pop("n_timesteps", None)
    policy = params.pop("policy", "MlpPolicy")
    noise_type, noise_std = params.pop("noise_type", None), params.pop("noise_std", 0.0)
    schedule = pop_noise_schedule(params)
    model = TD3X(policy, env_id, seed=seed, device="cpu", **params)
    if noise_type == "normal":
        n_actions = model.action_space.shape[0]  # type: ignore[index]
        noise = NormalActionNoise(np.zeros(n_actions), noise_std * np.ones(n_actions))
        model.action_noise = scheduled_noise(noise, schedule)
    folder.mkdir(parents=True, exist_ok=True)
    model.set_logger(configure(str(folder), ["csv"]))
    model.learn(n_timesteps, log_interval=1)
    return folder / "progress.csv"


def summarize(progress: Path, window: int) -> list[dict[str, float]]:
    """
    :param progress: SB3's ``progress.csv`` of a run.
    :param window: Env steps per row of the summary.
    :return: one row per window with training rows: its last env step and the mean of each diagnostic.
    """
    import pandas as pd

    frame = pd.read_csv(progress)
    frame = frame[frame["time/total_timesteps"].notna()]
    if "train/critic_loss" in frame:
        frame = frame[frame["train/critic_loss"].notna()]
    rows = []
    for end in range(window, int(frame["time/total_timesteps"].max()) + window, window):
        part = frame[(frame["time/total_timesteps"] > end - window) & (frame["time/total_timesteps"] <= end)]
        if len(part):
            row = {"steps": float(end)}
            row.update({key: float(part[key].mean()) if key in part else float("nan") for key in KEYS})
            rows.append(row)
    return rows


def markdown(results: dict[str, list[dict[str, float]]]) -> str:
    """:return: the summaries as a markdown table, one row per (configuration, window)."""
    names = [key.removeprefix("train/") for key in KEYS]
    lines = ["| config | env steps | " + " | ".join(names) + " |", "|" + "---|" * (len(KEYS) + 2)]
    for config, rows in results.items():
        for row in rows:
            cells = [f"{row[key]:.3g}" if np.isfinite(row[key]) else "-" for key in KEYS]
            lines.append(f"| `{config}` | {row['steps'] / 1000:.0f}k | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sb3_td3x.benchmark.diagnose", description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="Hopper-v4", help="Gymnasium environment id")
    parser.add_argument("--configs", nargs="+", default=["td3x_recommended"], help="TD3X configurations of the benchmark")
    parser.add_argument("-n", "--n-timesteps", type=int, default=30_000, help="env steps per run")
    parser.add_argument("--seed", type=int, default=200, help="random seed (default 200: neither head-to-head nor screening)")
    parser.add_argument("--window", type=int, default=5_000, help="env steps per row of the table")
    parser.add_argument("--out", default="results/diagnostics", help="folder of the table (<out>/<env>.md)")
    parser.add_argument("--logs", default="runs/diagnose", help="folder of the runs' logger files (scratch)")
    parser.add_argument("--report-only", action="store_true", help="only write the table, from the logs of earlier runs")
    parser.add_argument("--config-index", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [name for name in args.configs if name not in CONFIGS or CONFIGS[name].algo != "td3x"]
    if unknown:
        parser.error(f"--configs {unknown}: not TD3X configurations of the benchmark")
    if args.n_timesteps < 1 or args.window < 1:
        parser.error(f"-n ({args.n_timesteps}) and --window ({args.window}) must be >= 1")
    out = Path(args.out)
    if args.config_index is not None:
        # One training run (a child process of the parent below)
        config = args.configs[args.config_index]
        train_one(config, args.env, args.n_timesteps, args.seed, Path(args.logs) / args.env / config)
        return 0
    import subprocess

    # One process per configuration, all at once (one torch thread each)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    passed = sys.argv[1:] if argv is None else argv
    processes = [
        subprocess.Popen([sys.executable, "-m", "sb3_td3x.benchmark.diagnose", *passed, "--config-index", str(i)], env=env)
        for i in range(0 if args.report_only else len(args.configs))
    ]
    if any(process.wait() != 0 for process in processes):
        return 1
    results = {config: summarize(Path(args.logs) / args.env / config / "progress.csv", args.window) for config in args.configs}
    command = "python -m sb3_td3x.benchmark.diagnose " + " ".join(passed)
    text = f"""# {args.env}: critic and replay diagnostics

- Command: `{command}`
- Date: {datetime.date.today().isoformat()}; {args.n_timesteps:,} env steps per run, seed {args.seed}
- Each cell: mean over the logger rows (one per episode) of that window of env steps, training steps only.

{markdown(results)}
"""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{args.env}.md"
    path.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
