"""
Report of a benchmark: learning curves, ablation chart and a summary table from RL Zoo's ``evaluations.npz`` files.

Statistics over seeds follow Agarwal et al. (2021), "Deep Reinforcement Learning at the Edge of the Statistical
Precipice" (rliable): the interquartile mean (IQM) next to the mean, and 95% percentile bootstrap confidence
intervals obtained by resampling runs (seeds) with replacement. Implemented with NumPy only.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from sb3_td3x.benchmark.configs import CONFIGS
from sb3_td3x.benchmark.runner import DONE_FILE

# Budgets at which the table reports the return (when the runs went that far).
BUDGETS: tuple[int, ...] = (50_000, 100_000, 300_000, 1_000_000)

# Return thresholds for "steps to threshold"; for other envs the final mean return of stock ``td3`` is used.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "Hopper-v4": 1000.0,
    "Hopper-v5": 1000.0,
    "Walker2d-v4": 1000.0,
    "Walker2d-v5": 1000.0,
    "HalfCheetah-v4": 3000.0,
    "HalfCheetah-v5": 3000.0,
    "Ant-v4": 1000.0,
    "Ant-v5": 1000.0,
    "Pendulum-v1": -400.0,
}


@dataclass
class SeedRun:
    """
    Evaluations of one finished run.

    :param seed: Random seed.
    :param timesteps: Env steps of each evaluation, shape (n_evals,).
    :param returns: Episode returns, shape (n_evals, n_episodes).
    :param env_steps_per_s: Wall-clock env steps per second of the whole run (training and evaluations).
    """

    seed: int
    timesteps: np.ndarray
    returns: np.ndarray
    env_steps_per_s: float = float("nan")


def load_runs(root: Path | str, env_id: str, configs: Sequence[str] | None = None) -> dict[str, list[SeedRun]]:
    """
    Load every finished run (with ``done.json``) of an environment.

    :param root: Root folder of the runs.
    :param env_id: Gymnasium environment id.
    :param configs: Only these configurations (default: all found, in :data:`CONFIGS` order).
    :return: configuration name -> runs sorted by seed (configurations without finished runs are left out).
    """
    env_folder = Path(root) / env_id
    names = list(configs) if configs is not None else _ordered(p.name for p in env_folder.glob("*") if p.is_dir())
    runs: dict[str, list[SeedRun]] = {}
    for name in names:
        seed_runs = []
        for seed_folder in sorted((env_folder / name).glob("seed_*")):
            done = seed_folder / DONE_FILE
            evaluations = sorted(seed_folder.glob("zoo/*/*/evaluations.npz"))
            if not done.is_file() or not evaluations:
                continue
            record = json.loads(done.read_text())
            with np.load(evaluations[0]) as data:
                timesteps, returns = np.asarray(data["timesteps"]), np.asarray(data["results"], dtype=np.float64)
            seed_runs.append(SeedRun(int(record["seed"]), timesteps, returns, float(record.get("env_steps_per_s", "nan"))))
        if seed_runs:
            runs[name] = sorted(seed_runs, key=lambda run: run.seed)
    return runs


class _ZooConfigLoader(yaml.SafeLoader):
    """Safe loader that also reads the ``OrderedDict`` RL Zoo writes to ``config.yml``."""


_ZooConfigLoader.add_constructor(
    "tag:yaml.org,2002:python/object/apply:collections.OrderedDict",
    lambda loader, node: dict(loader.construct_sequence(node.value[0], deep=True)),  # type: ignore[arg-type]
)


def effective_hyperparams(root: Path | str, env_id: str, config: str) -> dict[str, object]:
    """
    Hyperparameters a configuration actually trained with: RL Zoo's ``config.yml`` (zoo file + overrides)
    of its first finished seed.

    :param root: Root folder of the runs.
    :param env_id: Gymnasium environment id.
    :param config: Configuration name.
    :return: the hyperparameters, empty if none is found.
    """
    for seed_folder in sorted((Path(root) / env_id / config).glob("seed_*")):
        if not (seed_folder / DONE_FILE).is_file():
            continue
        for path in sorted(seed_folder.glob("zoo/*/*/*/config.yml")):
            loaded = yaml.load(path.read_text(), Loader=_ZooConfigLoader)
            return dict(loaded) if isinstance(loaded, dict) else {}
    return {}


def _ordered(names: object) -> list[str]:
    found = list(names)  # type: ignore[call-overload]
    known = [name for name in CONFIGS if name in found]
    return known + sorted(name for name in found if name not in CONFIGS)


def iqm(values: np.ndarray) -> float:
    """
    Interquartile mean: the mean of the middle 50% of the values (``scipy.stats.trim_mean(values, 0.25)``).

    :param values: Any array, flattened.
    :return: the IQM.
    """
    flat = np.sort(np.asarray(values, dtype=np.float64).ravel())
    cut = int(0.25 * flat.size)
    return float(flat[cut : flat.size - cut].mean())


def bootstrap_ci(
    per_seed: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    confidence: float = 0.95,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> tuple[float, float, float]:
    """
    Percentile bootstrap confidence interval of a statistic over runs, resampling the runs with replacement.

    :param per_seed: One row per run (seed); the statistic receives a resampled stack of rows.
    :param statistic: Maps an array of rows to a number (e.g. ``np.mean`` or :func:`iqm`).
    :param confidence: Confidence level in (0, 1).
    :param n_bootstrap: Number of bootstrap resamples.
    :param seed: Seed of the resampling generator.
    :return: (point estimate, lower bound, upper bound).
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence} must be in (0, 1)")
    data = np.asarray(per_seed, dtype=np.float64)
    point = float(statistic(data))
    if len(data) < 2:
        return point, point, point
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, len(data), size=(n_bootstrap, len(data)))
    estimates = np.array([statistic(data[row]) for row in indices])
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(estimates, [tail, 100.0 - tail])
    return point, float(low), float(high)


def area_under_curve(timesteps: np.ndarray, values: np.ndarray) -> float:
    """
    Normalized area under a learning curve: the trapezoidal area divided by the span of the evaluations,
    i.e. the average return over training (a constant curve ``c`` has AUC ``c``).

    :param timesteps: Increasing evaluation steps.
    :param values: Return at each step.
    :return: the normalized AUC.
    """
    timesteps = np.asarray(timesteps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if timesteps.size == 1:
        return float(values[0])
    return float(np.trapezoid(values, timesteps) / (timesteps[-1] - timesteps[0]))


def steps_to_threshold(timesteps: np.ndarray, values: np.ndarray, threshold: float) -> float:
    """
    :param timesteps: Increasing evaluation steps.
    :param values: Return at each step.
    :param threshold: Return to reach.
    :return: the first evaluation step whose return is >= threshold, NaN if never reached.
    """
    reached = np.flatnonzero(np.asarray(values) >= threshold)
    return float(np.asarray(timesteps)[reached[0]]) if reached.size else float("nan")


def _common(runs: Sequence[SeedRun]) -> tuple[np.ndarray, np.ndarray]:
    """:return: evaluation steps shared by all runs and returns of shape (n_seeds, n_evals, n_episodes)."""
    n_evals = min(len(run.timesteps) for run in runs)
    n_episodes = min(run.returns.shape[1] for run in runs)
    timesteps = runs[0].timesteps[:n_evals]
    returns = np.stack([run.returns[:n_evals, :n_episodes] for run in runs])
    return timesteps, returns


def _mean_of_seed_means(rows: np.ndarray) -> float:
    return float(rows.mean())


@dataclass
class Curve:
    """Aggregated learning curve of one configuration: mean and IQM with 95% bootstrap CIs, per evaluation."""

    timesteps: np.ndarray
    mean: np.ndarray
    mean_low: np.ndarray
    mean_high: np.ndarray
    iqm: np.ndarray
    iqm_low: np.ndarray
    iqm_high: np.ndarray
    per_seed: np.ndarray  # (n_seeds, n_evals): mean return over the evaluation episodes


def aggregate(runs: Sequence[SeedRun], n_bootstrap: int = 2000) -> Curve:
    """
    Mean and IQM learning curves with 95% bootstrap confidence bands.

    :param runs: Runs of one configuration.
    :param n_bootstrap: Bootstrap resamples.
    :return: the curve.
    """
    timesteps, returns = _common(runs)
    per_seed = returns.mean(axis=2)
    stats = np.array(
        [
            (
                *bootstrap_ci(per_seed[:, i], _mean_of_seed_means, n_bootstrap=n_bootstrap),
                *bootstrap_ci(returns[:, i, :], iqm, n_bootstrap=n_bootstrap),
            )
            for i in range(len(timesteps))
        ]
    )
    mean, mean_low, mean_high, iqm_, iqm_low, iqm_high = stats.T
    return Curve(timesteps, mean, mean_low, mean_high, iqm_, iqm_low, iqm_high, per_seed)


def _at_budget(curve: Curve, budget: int) -> tuple[float, float, float]:
    index = np.flatnonzero(curve.timesteps == budget)
    if index.size == 0:
        return float("nan"), float("nan"), float("nan")
    i = index[0]
    return float(curve.mean[i]), float(curve.mean_low[i]), float(curve.mean_high[i])


def summarize(
    runs: dict[str, list[SeedRun]], threshold: float, n_bootstrap: int = 2000
) -> tuple[pd.DataFrame, dict[str, Curve]]:
    """
    One row per configuration: return at each budget, final return (mean and IQM), normalized AUC,
    steps to threshold and wall-clock env steps per second, with 95% bootstrap CIs over seeds.

    :param runs: Output of :func:`load_runs`.
    :param threshold: Return threshold of the steps-to-threshold column.
    :param n_bootstrap: Bootstrap resamples.
    :return: the summary table and the aggregated curves.
    """
    rows = []
    curves = {}
    for name, seed_runs in runs.items():
        curve = aggregate(seed_runs, n_bootstrap)
        curves[name] = curve
        _, returns = _common(seed_runs)
        row: dict[str, object] = {
            "config": name,
            "algo": CONFIGS[name].algo if name in CONFIGS else "",
            "seeds": " ".join(str(run.seed) for run in seed_runs),
            "n_seeds": len(seed_runs),
            "steps": int(curve.timesteps[-1]),
        }
        for budget in BUDGETS:
            key = f"return_{budget // 1000}k" if budget < 1_000_000 else f"return_{budget // 1_000_000}M"
            row[key], row[f"{key}_low"], row[f"{key}_high"] = _at_budget(curve, budget)
        row["final_return"], row["final_return_low"], row["final_return_high"] = (
            float(curve.mean[-1]),
            float(curve.mean_low[-1]),
            float(curve.mean_high[-1]),
        )
        row["final_iqm"], row["final_iqm_low"], row["final_iqm_high"] = (
            float(curve.iqm[-1]),
            float(curve.iqm_low[-1]),
            float(curve.iqm_high[-1]),
        )
        aucs = np.array([area_under_curve(curve.timesteps, seed_curve) for seed_curve in curve.per_seed])
        row["auc"], row["auc_low"], row["auc_high"] = bootstrap_ci(aucs, np.mean, n_bootstrap=n_bootstrap)
        reach = np.array([steps_to_threshold(curve.timesteps, seed_curve, threshold) for seed_curve in curve.per_seed])
        row["threshold"] = threshold
        row["steps_to_threshold_median"] = float(np.median(reach)) if np.isfinite(reach).all() else float("nan")
        row["seeds_reaching_threshold"] = int(np.isfinite(reach).sum())
        row["env_steps_per_s"] = float(np.mean([run.env_steps_per_s for run in seed_runs]))
        rows.append(row)
        del returns
    return pd.DataFrame(rows), curves


def resolve_threshold(env_id: str, runs: dict[str, list[SeedRun]], threshold: float | None) -> tuple[float, str]:
    """
    :return: the threshold and where it comes from (given, the default of the env, or stock TD3's final return).
    """
    if threshold is not None:
        return threshold, "given on the command line"
    if env_id in DEFAULT_THRESHOLDS:
        return DEFAULT_THRESHOLDS[env_id], f"default for {env_id}"
    reference = "td3" if "td3" in runs else next(iter(runs), None)
    if reference is None:
        return float("nan"), "no runs"
    final = float(np.mean([run.returns[-1].mean() for run in runs[reference]]))
    return final, f"final mean return of {reference}"


def _colors(names: Sequence[str]) -> dict[str, object]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def plot_curves(curves: dict[str, Curve], env_id: str, path: Path, subtitle: str = "") -> None:
    """
    Learning curves: mean and IQM of the evaluation return per configuration, with 95% bootstrap CI bands.

    :param curves: Aggregated curves.
    :param env_id: Environment id (title).
    :param path: PNG file to write.
    :param subtitle: Second title line (budget, seeds).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = _colors(list(curves))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharex=True)
    for ax, (kind, label) in zip(axes, [("mean", "Mean"), ("iqm", "IQM")], strict=True):
        for name, curve in curves.items():
            x = curve.timesteps / 1000.0
            center, low, high = (getattr(curve, kind), getattr(curve, f"{kind}_low"), getattr(curve, f"{kind}_high"))
            ax.plot(x, center, label=f"{name} (n={len(curve.per_seed)})", color=colors[name], lw=1.8)
            ax.fill_between(x, low, high, color=colors[name], alpha=0.2, lw=0)
        ax.set_xlabel("env steps (thousands)")
        ax.set_ylabel(f"{label} evaluation return")
        ax.set_title(f"{label} with 95% bootstrap CI")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{env_id}" + (f"\n{subtitle}" if subtitle else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_ablation(summary: pd.DataFrame, env_id: str, path: Path, baseline: str = "td3", subtitle: str = "") -> None:
    """
    Ablation chart: final return and normalized AUC of every configuration (95% bootstrap CI), against stock TD3.

    :param summary: Output of :func:`summarize`.
    :param env_id: Environment id (title).
    :param path: PNG file to write.
    :param baseline: Configuration drawn as the reference line.
    :param subtitle: Second title line.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = _colors(list(summary["config"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(summary) + 2.0), sharey=True)
    y = np.arange(len(summary))[::-1]
    for ax, (key, label) in zip(
        axes, [("final_return", "final return"), ("auc", "AUC (mean return over training)")], strict=True
    ):
        center = summary[key].to_numpy(dtype=float)
        errors = np.abs(np.stack([center - summary[f"{key}_low"], summary[f"{key}_high"] - center]).astype(float))
        ax.barh(y, center, xerr=errors, color=[colors[n] for n in summary["config"]], alpha=0.8, capsize=3)
        if baseline in set(summary["config"]):
            ax.axvline(float(summary.loc[summary["config"] == baseline, key].iloc[0]), color="k", ls="--", lw=1)
        ax.set_xlabel(label + f" (dashed: {baseline})")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [f"{name} (n={n})" for name, n in zip(summary["config"], summary["n_seeds"], strict=True)])
    fig.suptitle(f"{env_id}: ablation, mean and 95% bootstrap CI" + (f"\n{subtitle}" if subtitle else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(value: float, low: float | None = None, high: float | None = None, digits: int = 0) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    text = f"{value:.{digits}f}"
    if low is not None and high is not None and np.isfinite(low) and np.isfinite(high):
        text += f" [{low:.{digits}f}, {high:.{digits}f}]"
    return text


def markdown_table(summary: pd.DataFrame) -> str:
    """
    :param summary: Output of :func:`summarize`.
    :return: the summary as a GitHub markdown table (mean [95% CI]).
    """
    budget_keys = [
        key
        for key in ("return_50k", "return_100k", "return_300k", "return_1M")
        if key in summary and summary[key].notna().any()
    ]
    header = ["config", "seeds", "steps", *[k.replace("return_", "return @") for k in budget_keys]]
    header += ["final return", "final IQM", "AUC", "steps to threshold", "env steps/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in summary.iterrows():
        cells = [f"`{row['config']}`", str(row["n_seeds"]), f"{int(row['steps']):,}"]
        cells += [_fmt(row[k], row[f"{k}_low"], row[f"{k}_high"]) for k in budget_keys]
        cells += [
            _fmt(row["final_return"], row["final_return_low"], row["final_return_high"]),
            _fmt(row["final_iqm"], row["final_iqm_low"], row["final_iqm_high"]),
            _fmt(row["auc"], row["auc_low"], row["auc_high"]),
            (f"{row['steps_to_threshold_median'] / 1000:.0f}k" if np.isfinite(row["steps_to_threshold_median"]) else "-")
            + f" ({row['seeds_reaching_threshold']}/{row['n_seeds']})",
            _fmt(row["env_steps_per_s"], digits=1),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    root: Path | str,
    env_id: str,
    results: Path | str = "results",
    configs: Sequence[str] | None = None,
    threshold: float | None = None,
    command: str = "",
    n_bootstrap: int = 2000,
) -> list[Path]:
    """
    Write ``curves.png``, ``ablation.png``, ``summary.csv`` and ``summary.md`` to ``<results>/<env_id>/``.

    :param root: Root folder of the runs.
    :param env_id: Gymnasium environment id.
    :param results: Results folder.
    :param configs: Configurations to report (default: every one with finished runs).
    :param threshold: Return threshold for steps-to-threshold (default: see :func:`resolve_threshold`).
    :param command: Command line that produced the runs, written into the markdown.
    :param n_bootstrap: Bootstrap resamples.
    :return: the paths written (empty when no run has finished).
    """
    runs = load_runs(root, env_id, configs)
    if not runs:
        return []
    threshold, threshold_source = resolve_threshold(env_id, runs, threshold)
    summary, curves = summarize(runs, threshold, n_bootstrap)
    out = Path(results) / env_id
    out.mkdir(parents=True, exist_ok=True)
    budget = int(summary["steps"].max())
    seeds = sorted({run.seed for seed_runs in runs.values() for run in seed_runs})
    eval_episodes = next(iter(runs.values()))[0].returns.shape[1]
    first = next(iter(curves.values())).timesteps
    eval_every = int(first[1] - first[0]) if len(first) > 1 else int(first[0])
    date = datetime.date.today().isoformat()
    subtitle = f"{budget:,} steps, seeds {' '.join(map(str, seeds))}, {date}"
    paths = [out / "curves.png", out / "ablation.png", out / "summary.csv", out / "summary.md"]
    plot_curves(curves, env_id, paths[0], subtitle)
    plot_ablation(summary, env_id, paths[1], subtitle=subtitle)
    summary.to_csv(paths[2], index=False, float_format="%.6g")
    described = "\n".join(
        f"- `{name}` ({CONFIGS[name].algo}): {CONFIGS[name].description}"
        + (f"; overrides `{' '.join(CONFIGS[name].hyperparams_args())}`" if CONFIGS[name].hyperparams else "")
        for name in summary["config"]
        if name in CONFIGS
    )
    effective = []
    for name in summary["config"]:
        params = effective_hyperparams(root, env_id, name)
        shown = ", ".join(f"{key}={value}" for key, value in params.items() if key != "n_timesteps")
        effective.append(f"- `{name}`: {shown or 'n/a'}")
    effective_text = "\n".join(effective)
    text = f"""# {env_id}: TD3X against stock TD3

- Command: `{command or "python -m sb3_td3x.benchmark"}`
- Date: {date}; budget: up to {budget:,} env steps per run; seeds: {" ".join(map(str, seeds))}
- Evaluation: every {eval_every:,} steps, {eval_episodes} deterministic episodes on a separate eval env
- Values: mean over seeds of the mean evaluation return, [95% percentile bootstrap CI over seeds];
  IQM = interquartile mean of all evaluation episodes of all seeds; AUC = average evaluation return over training
  (trapezoid area / span); steps to threshold = median over seeds of the first evaluation with return >= {threshold:g}
  ({threshold_source}), "-" when some seed never reached it (count of seeds that did in parentheses);
  env steps/s = wall-clock env steps per second of the whole run (training + evaluations; one process and one torch
  thread per run, runs in parallel on a {os.cpu_count()}-core {platform.machine()} machine, so it depends on the load).

{markdown_table(summary)}

Configurations:
{described}

Hyperparameters each configuration trained with (RL Zoo's config.yml: zoo file + overrides):
{effective_text}

![learning curves](curves.png)

![ablation](ablation.png)
"""
    paths[3].write_text(text)
    return paths
