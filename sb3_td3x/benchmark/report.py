"""
Report of a benchmark: learning curves, performance profile, ablation chart and a summary table, from the result
files of finished runs (``<results>/runs/<env>/<config>/seed_<n>/``: ``evaluations.npz``, ``config.yml``,
``run.json``).

Statistics over runs (seeds) follow Agarwal et al. (2021), "Deep Reinforcement Learning at the Edge of the
Statistical Precipice", computed with their library rliable: the interquartile mean (IQM) of the per-run scores
next to the mean, 95% stratified percentile bootstrap confidence intervals, the probability of improvement of each
configuration over stock ``td3`` (with its CI) and the performance profile (share of runs above each return).
A run's score is the mean return of its evaluation episodes.

Two more measures of how a configuration fails:

- completion rate: the share of final-evaluation episodes that reach the environment's time limit (e.g. 1000 steps
  on Hopper) without terminating, i.e. without falling;
- stuck runs: runs none of whose evaluations from ``stuck_after`` env steps on (default 50k) has a mean return above
  ``stuck_return`` (default 200 on the MuJoCo locomotion tasks), i.e. runs that never leave a policy that falls at once.

On Hopper, surviving the time limit is not hopping: a policy that stands still for 1000 steps also scores about 1000.
The "hopped through" column counts the episodes that lasted the time limit and travelled far enough, by the rule of
:mod:`sb3_td3x.common.tasks` (where each task's completion rule lives; the distance comes from the return and was
checked against ``info["x_position"]``).

The cost of each point of return: the wall-clock of every run (one CPU core each), as CPU hours per run in the table
and as the return against CPU hours in ``wallclock.png``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sb3_td3x.benchmark.configs import CONFIGS
from sb3_td3x.benchmark.long_budget import long_budget_section
from sb3_td3x.benchmark.runner import (
    RESULT_CONFIG,
    RESULT_EVALUATIONS,
    RESULT_FILE,
    STANDARD_BUDGET,
    MixedResultsError,
    check_same_overrides,
    has_result,
)
from sb3_td3x.common.tasks import COMPLETION, completed

# Budgets at which the table reports the return (when the runs went that far).
BUDGETS: tuple[int, ...] = (20_000, 50_000, 100_000, 300_000, 1_000_000)

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

# A run is stuck when no evaluation from STUCK_AFTER env steps on has a mean return above its env's threshold here
STUCK_RETURNS: dict[str, float] = {
    "Hopper-v4": 200.0,
    "Hopper-v5": 200.0,
    "Walker2d-v4": 200.0,
    "Walker2d-v5": 200.0,
}
STUCK_AFTER = 50_000

# Stratified bootstrap resamples for every confidence interval, and the generator seed (reports are reproducible)
BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 0

# The reference of "probability of improvement": stock TD3, or for a report without it, the first stock SB3
# algorithm it has (the evidence of DQNX, SACX and DDPGX compares them with their SB3 parents)
BASELINE = "td3"
BASELINES = ("td3", "dqn", "sac", "ddpg")


def baseline_of(names: Sequence[str]) -> str:
    """:return: the configuration a report compares the others with: the first of :data:`BASELINES` it has."""
    return next((name for name in BASELINES if name in names), BASELINE)


# Runs each of two configurations needs before the report says one is better or worse than the other
MIN_RUNS_FOR_VERDICT = 10


@dataclass
class SeedRun:
    """
    Evaluations of one finished run.

    :param seed: Random seed.
    :param timesteps: Env steps of each evaluation, shape (n_evals,).
    :param returns: Episode returns, shape (n_evals, n_episodes).
    :param ep_lengths: Episode lengths, shape (n_evals, n_episodes).
    :param env_steps_per_s: Wall-clock env steps per second of the whole run (training and evaluations).
    :param hyperparams: Hyperparameters the run trained with (its RL Zoo ``config.yml``), None if it has none.
    :param wall_time_s: Wall-clock seconds of the whole run (one CPU core).
    :param record: The run's record (``run.json``: software stack, resumes, command), empty if unknown.
    """

    seed: int
    timesteps: np.ndarray
    returns: np.ndarray
    ep_lengths: np.ndarray
    env_steps_per_s: float = float("nan")
    hyperparams: dict[str, object] | None = None
    wall_time_s: float = float("nan")
    record: dict[str, Any] = field(default_factory=dict)


def load_runs(
    runs_dirs: Path | str | Sequence[Path | str],
    env_id: str,
    configs: Sequence[str] | None = None,
    seeds: Callable[[int], bool] | None = None,
    runs_key: str | None = None,
) -> dict[str, list[SeedRun]]:
    """
    Load every finished run of an environment from one or more runs folders (``<dir>/<env>/<config>/seed_<n>/``).
    Folders are merged; a (configuration, seed) found in several is taken from the first.

    :param runs_dirs: Runs folder(s), e.g. ``results/runs``.
    :param env_id: Gymnasium environment id.
    :param configs: Only these configurations (default: all found, in :data:`CONFIGS` order).
    :param seeds: Only the seeds for which this returns True (default: all).
    :param runs_key: Folder of the runs under each runs folder (default: ``env_id``; another budget's runs are under
        ``<env>-<budget>``, see :func:`~sb3_td3x.benchmark.runner.budget_key`).
    :return: configuration name -> runs sorted by seed (configurations without finished runs are left out).
    :raises MixedResultsError: when runs of one configuration trained with different hyperparameters (their
        ``config.yml`` differ), or with other overrides than a known configuration has now.
    """
    dirs = [Path(runs_dirs)] if isinstance(runs_dirs, (str, Path)) else [Path(d) for d in runs_dirs]
    found: dict[str, dict[int, SeedRun]] = {}
    first_config: dict[str, tuple[Path, object]] = {}
    for runs_dir in dirs:
        for folder in sorted((runs_dir / (runs_key or env_id)).glob("*/seed_*")):
            name = folder.parent.name
            if (configs is not None and name not in configs) or not has_result(folder):
                continue
            record = json.loads((folder / RESULT_FILE).read_text())
            seed = int(record["seed"])
            if (seeds is not None and not seeds(seed)) or seed in found.get(name, {}):
                continue
            if name in CONFIGS:
                check_same_overrides(CONFIGS[name], record, folder)
            config_file = folder / RESULT_CONFIG
            hyperparams: dict[str, object] | None = None
            if config_file.is_file():
                loaded = yaml.load(config_file.read_text(), Loader=_ZooConfigLoader)
                other_folder, other = first_config.setdefault(name, (folder, loaded))
                if loaded != other:
                    raise MixedResultsError(
                        f"{folder} and {other_folder} are runs of {name} trained with different hyperparameters "
                        f"(their {RESULT_CONFIG} differ): one configuration's report cannot mix them. Move the runs "
                        "of one set to the folder of a configuration of its own."
                    )
                hyperparams = dict(loaded) if isinstance(loaded, dict) else {}
            with np.load(folder / RESULT_EVALUATIONS) as data:
                returns = np.asarray(data["results"], dtype=np.float64)
                ep_lengths = np.asarray(data["ep_lengths"]) if "ep_lengths" in data else np.full(returns.shape, np.nan)
                timesteps = np.asarray(data["timesteps"])
            found.setdefault(name, {})[seed] = SeedRun(
                seed,
                timesteps,
                returns,
                ep_lengths,
                float(record.get("env_steps_per_s", "nan")),
                hyperparams,
                float(record.get("wall_time_s", "nan")),
                record,
            )
    names = list(configs) if configs is not None else _ordered(found)
    return {name: [found[name][seed] for seed in sorted(found[name])] for name in names if found.get(name)}


class _ZooConfigLoader(yaml.SafeLoader):
    """Safe loader that also reads the ``OrderedDict`` RL Zoo writes to ``config.yml``."""


_ZooConfigLoader.add_constructor(
    "tag:yaml.org,2002:python/object/apply:collections.OrderedDict",
    lambda loader, node: dict(loader.construct_sequence(node.value[0], deep=True)),  # type: ignore[arg-type]
)
# train_freq=(1, "episode") (per-episode training) is written as a tuple
_ZooConfigLoader.add_constructor(
    "tag:yaml.org,2002:python/tuple",
    lambda loader, node: tuple(loader.construct_sequence(node, deep=True)),  # type: ignore[arg-type]
)


def effective_hyperparams(runs: Sequence[SeedRun]) -> dict[str, object]:
    """
    Hyperparameters a configuration actually trained with: RL Zoo's ``config.yml`` (zoo file + overrides)
    of its first run that has one (all of a configuration's runs have the same, see :func:`load_runs`).

    :param runs: Runs of one configuration.
    :return: the hyperparameters, empty if none is found.
    """
    for run in runs:
        if run.hyperparams is not None:
            return dict(run.hyperparams)
    return {}


def _ordered(names: object) -> list[str]:
    found = list(names)  # type: ignore[call-overload]
    known = [name for name in CONFIGS if name in found]
    return known + sorted(name for name in found if name not in CONFIGS)


def _bootstrap_ci(scores: np.ndarray | tuple[np.ndarray, ...], statistic: Callable[..., np.ndarray], reps: int) -> np.ndarray:
    """
    rliable's 95% stratified percentile bootstrap CI of one statistic, the same on every rebuild of a report.

    rliable's ``StratifiedBootstrap`` draws its resampling indices from NumPy's global generator whatever
    ``random_state`` it is given, so that generator is seeded here and the caller's state restored afterwards.

    :param scores: A score matrix (n_runs, n_tasks, ...), or a tuple of them resampled independently (a statistic of
        several configurations, such as the probability of improvement).
    :param statistic: Maps the scores to an array of statistics.
    :param reps: Bootstrap resamples.
    :return: the CI as rliable gives it: lower bounds then upper bounds.
    """
    from rliable import library as rly

    state = np.random.get_state()
    np.random.seed(BOOTSTRAP_SEED)
    try:
        _, cis = rly.get_interval_estimates({"scores": scores}, statistic, reps=reps)
    finally:
        np.random.set_state(state)
    return np.asarray(cis["scores"], dtype=np.float64)


def interval_estimates(
    scores: dict[str, np.ndarray], statistic: Callable[[np.ndarray], np.ndarray], reps: int = BOOTSTRAP_REPS
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """
    Point estimates and 95% stratified percentile bootstrap CIs of a statistic of each score matrix
    (``rliable.library.get_interval_estimates``, with a fixed generator so that a report is reproducible).

    :param scores: name -> scores of shape (n_runs, n_tasks) or (n_runs, n_tasks, n_points).
    :param statistic: Maps a score matrix to an array of statistics (e.g. ``[IQM, mean]``).
    :param reps: Bootstrap resamples.
    :return: name -> (point estimates, lower bounds, upper bounds), each an array like the statistic's output.
    """
    estimates: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for name, matrix in scores.items():
        point = np.atleast_1d(np.asarray(statistic(matrix), dtype=np.float64))
        if matrix.shape[0] < 2:
            estimates[name] = (point, point.copy(), point.copy())
            continue
        low, high = _bootstrap_ci(matrix, statistic, reps).reshape(2, -1)
        estimates[name] = (point, low, high)
    return estimates


def iqm_and_mean(matrix: np.ndarray) -> np.ndarray:
    """:return: ``[IQM, mean]`` of a score matrix (n_runs, n_tasks), as rliable aggregates them."""
    from rliable import metrics

    return np.array([metrics.aggregate_iqm(matrix), metrics.aggregate_mean(matrix)])


def per_point_iqm_and_mean(matrix: np.ndarray) -> np.ndarray:
    """:return: IQMs then means of each point of a score array (n_runs, n_tasks, n_points) (learning curves)."""
    from rliable import metrics

    n_points = matrix.shape[-1]
    iqms = [metrics.aggregate_iqm(matrix[..., i]) for i in range(n_points)]
    means = [metrics.aggregate_mean(matrix[..., i]) for i in range(n_points)]
    return np.array(iqms + means)


def probability_of_improvement(
    scores: dict[str, np.ndarray], baseline: str = BASELINE, reps: int = BOOTSTRAP_REPS
) -> dict[str, tuple[float, float, float]]:
    """
    Probability that a run of each configuration scores higher than a run of ``baseline``
    (``rliable.metrics.probability_of_improvement``, the Mann-Whitney U statistic), with its 95% stratified
    bootstrap CI (runs of both configurations resampled).

    :param scores: name -> scores of shape (n_runs, n_tasks).
    :param baseline: Reference configuration.
    :return: name -> (probability, lower bound, upper bound), for every configuration but the baseline.
    """
    from rliable import metrics

    if baseline not in scores:
        return {}
    result: dict[str, tuple[float, float, float]] = {}
    for name, matrix in scores.items():
        if name == baseline:
            continue
        pair = (matrix, scores[baseline])
        point = float(metrics.probability_of_improvement(*pair))
        if min(matrix.shape[0], scores[baseline].shape[0]) < 2:
            result[name] = (point, point, point)
            continue
        low, high = _bootstrap_ci(pair, metrics.probability_of_improvement, reps).ravel()
        result[name] = (point, float(low), float(high))
    return result


def performance_profile(
    scores: dict[str, np.ndarray], taus: np.ndarray, reps: int = BOOTSTRAP_REPS
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """
    Performance profile: the share of runs whose score is above each threshold ``tau`` (rliable's run-score
    distribution), with 95% stratified bootstrap bands.

    :param scores: name -> scores of shape (n_runs, n_tasks).
    :param taus: Thresholds.
    :return: name -> (profile, lower band, upper band), each of shape (len(taus),).
    """
    return interval_estimates(scores, lambda matrix: np.array([(matrix > tau).mean() for tau in taus]), reps)


def completion_rate(run: SeedRun, max_episode_steps: int | None, index: int = -1) -> float:
    """
    :param run: A run.
    :param max_episode_steps: The environment's time limit (None: unknown).
    :param index: Which evaluation (default: the last).
    :return: the share of that evaluation's episodes that lasted the whole time limit (NaN when unknown).
    """
    if max_episode_steps is None or not np.isfinite(run.ep_lengths[index]).all():
        return float("nan")
    return float(np.mean(run.ep_lengths[index] >= max_episode_steps))


def is_stuck(run: SeedRun, stuck_return: float, stuck_after: int = STUCK_AFTER) -> bool | None:
    """
    :param run: A run.
    :param stuck_return: Return that a run must beat at least once from ``stuck_after`` on.
    :param stuck_after: Env steps from which evaluations count.
    :return: whether no evaluation from ``stuck_after`` steps on has a mean return above ``stuck_return``
        (None when the run did not train that long).
    """
    late = run.timesteps >= stuck_after
    if not late.any():
        return None
    return bool((run.returns[late].mean(axis=1) <= stuck_return).all())


def max_episode_steps_of(env_id: str) -> int | None:
    """:return: the time limit of a registered Gymnasium environment, None if unknown."""
    try:
        import gymnasium

        return gymnasium.spec(env_id).max_episode_steps
    except Exception:
        return None


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


def _common(runs: Sequence[SeedRun]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:return: evaluation steps shared by all runs, returns and episode lengths of shape (n_seeds, n_evals, n_episodes)."""
    n_evals = min(len(run.timesteps) for run in runs)
    n_episodes = min(run.returns.shape[1] for run in runs)
    timesteps = runs[0].timesteps[:n_evals]
    returns = np.stack([run.returns[:n_evals, :n_episodes] for run in runs])
    lengths = np.stack([run.ep_lengths[:n_evals, :n_episodes] for run in runs])
    return timesteps, returns, lengths


@dataclass
class Curve:
    """Aggregated learning curve of one configuration: IQM and mean over runs with 95% CIs, per evaluation."""

    timesteps: np.ndarray
    mean: np.ndarray
    mean_low: np.ndarray
    mean_high: np.ndarray
    iqm: np.ndarray
    iqm_low: np.ndarray
    iqm_high: np.ndarray
    per_seed: np.ndarray  # (n_seeds, n_evals): score of each run (mean return over the evaluation episodes)


def aggregate(runs: Sequence[SeedRun], reps: int = BOOTSTRAP_REPS) -> Curve:
    """
    IQM and mean learning curves over runs, with 95% stratified bootstrap bands (rliable).

    :param runs: Runs of one configuration.
    :param reps: Bootstrap resamples.
    :return: the curve.
    """
    timesteps, returns, _ = _common(runs)
    per_seed = returns.mean(axis=2)
    n = len(timesteps)
    ((point, low, high),) = interval_estimates({"curve": per_seed[:, None, :]}, per_point_iqm_and_mean, reps).values()
    return Curve(timesteps, point[n:], low[n:], high[n:], point[:n], low[:n], high[:n], per_seed)


def _at_budget(curve: Curve, budget: int) -> tuple[float, float, float]:
    index = np.flatnonzero(curve.timesteps == budget)
    if index.size == 0:
        return float("nan"), float("nan"), float("nan")
    i = index[0]
    return float(curve.mean[i]), float(curve.mean_low[i]), float(curve.mean_high[i])


def verdict(low: float, high: float, n_runs: int = MIN_RUNS_FOR_VERDICT, min_runs: int = MIN_RUNS_FOR_VERDICT) -> str:
    """
    :param low: Lower end of the probability-of-improvement CI.
    :param high: Upper end.
    :param n_runs: Runs of the smaller of the two configurations compared.
    :param min_runs: Runs needed before any verdict: with fewer, even a CI that excludes 0.5 ranks nothing.
    :return: what the CI shows: ``better``, ``worse``, ``no difference shown``, or ``too few runs (n < min_runs)``.
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return "-"
    if n_runs < min_runs:
        return f"too few runs (n < {min_runs})"
    if low > 0.5:
        return "better"
    if high < 0.5:
        return "worse"
    return "no difference shown"


def summarize(
    runs: dict[str, list[SeedRun]],
    threshold: float,
    max_episode_steps: int | None = None,
    stuck_return: float | None = None,
    stuck_after: int = STUCK_AFTER,
    baseline: str = BASELINE,
    reps: int = BOOTSTRAP_REPS,
    min_runs: int = MIN_RUNS_FOR_VERDICT,
    env_id: str = "",
) -> tuple[pd.DataFrame, dict[str, Curve]]:
    """
    One row per configuration: final score IQM and mean, probability of improvement over ``baseline``, completion
    rate, stuck runs, return at each budget, normalized AUC, steps to threshold and wall-clock env steps per second,
    with 95% stratified bootstrap CIs over runs.

    :param runs: Output of :func:`load_runs`.
    :param threshold: Return threshold of the steps-to-threshold column.
    :param max_episode_steps: Time limit of the environment (completion rate; None: not reported).
    :param stuck_return: Return of the stuck-run test (None: not reported).
    :param stuck_after: Env steps from which the stuck-run test looks at the evaluations.
    :param baseline: Reference of the probability of improvement.
    :param reps: Bootstrap resamples.
    :param min_runs: Runs each configuration needs before the "vs baseline" column says better or worse.
    :param env_id: Environment id (the "hopped through" count, for the envs of :data:`~sb3_td3x.common.tasks.COMPLETION`).
    :return: the summary table and the aggregated curves.
    """
    curves = {name: aggregate(seed_runs, reps) for name, seed_runs in runs.items()}
    final_scores = {name: curve.per_seed[:, -1:] for name, curve in curves.items()}
    final = interval_estimates(final_scores, iqm_and_mean, reps)
    improvement = probability_of_improvement(final_scores, baseline, reps)
    rows = []
    for name, seed_runs in runs.items():
        curve = curves[name]
        _, returns, lengths = _common(seed_runs)
        row: dict[str, object] = {
            "config": name,
            "algo": CONFIGS[name].algo if name in CONFIGS else "",
            "seeds": " ".join(str(run.seed) for run in seed_runs),
            "n_seeds": len(seed_runs),
            "steps": int(curve.timesteps[-1]),
        }
        (iqm_, mean), (iqm_low, mean_low), (iqm_high, mean_high) = final[name]
        row["final_iqm"], row["final_iqm_low"], row["final_iqm_high"] = iqm_, iqm_low, iqm_high
        row["final_return"], row["final_return_low"], row["final_return_high"] = mean, mean_low, mean_high
        row["p_improvement"], row["p_improvement_low"], row["p_improvement_high"] = improvement.get(name, (float("nan"),) * 3)
        n_compared = min(len(seed_runs), len(runs.get(baseline, [])))
        row["vs_baseline"] = verdict(row["p_improvement_low"], row["p_improvement_high"], n_compared, min_runs)  # type: ignore[arg-type]
        final_lengths = lengths[:, -1, :]
        if max_episode_steps is not None and np.isfinite(final_lengths).all():
            row["completed_episodes"] = int((final_lengths >= max_episode_steps).sum())
            row["completion_rate"] = row["completed_episodes"] / final_lengths.size  # type: ignore[operator]
        else:
            row["completed_episodes"], row["completion_rate"] = -1, float("nan")
        row["final_episodes"] = int(final_lengths.size)
        if env_id in COMPLETION and max_episode_steps is not None and np.isfinite(final_lengths).all():
            row["hopped_episodes"] = int(completed(returns[:, -1, :], final_lengths, max_episode_steps, env_id).sum())
        else:
            row["hopped_episodes"] = -1
        row["cpu_hours"] = float(np.mean([run.wall_time_s for run in seed_runs])) / 3600.0
        stuck = [is_stuck(run, stuck_return, stuck_after) for run in seed_runs] if stuck_return is not None else []
        row["stuck_runs"] = sum(bool(flag) for flag in stuck)
        row["stuck_checked"] = sum(flag is not None for flag in stuck)
        for budget in BUDGETS:
            key = f"return_{budget // 1000}k" if budget < 1_000_000 else f"return_{budget // 1_000_000}M"
            row[key], row[f"{key}_low"], row[f"{key}_high"] = _at_budget(curve, budget)
        aucs = np.array([area_under_curve(curve.timesteps, seed_curve) for seed_curve in curve.per_seed])
        ((_, auc), (_, auc_low), (_, auc_high)) = interval_estimates({name: aucs[:, None]}, iqm_and_mean, reps)[name]
        row["auc"], row["auc_low"], row["auc_high"] = auc, auc_low, auc_high
        reach = np.array([steps_to_threshold(curve.timesteps, seed_curve, threshold) for seed_curve in curve.per_seed])
        row["threshold"] = threshold
        row["steps_to_threshold_median"] = float(np.median(reach)) if np.isfinite(reach).all() else float("nan")
        row["seeds_reaching_threshold"] = int(np.isfinite(reach).sum())
        row["env_steps_per_s"] = float(np.mean([run.env_steps_per_s for run in seed_runs]))
        rows.append(row)
    return pd.DataFrame(rows), curves


def resolve_threshold(env_id: str, runs: dict[str, list[SeedRun]], threshold: float | None) -> tuple[float, str]:
    """
    :return: the threshold and where it comes from (given, the default of the env, or stock TD3's final return).
    """
    if threshold is not None:
        return threshold, "given on the command line"
    if env_id in DEFAULT_THRESHOLDS:
        return DEFAULT_THRESHOLDS[env_id], f"default for {env_id}"
    baseline = baseline_of(list(runs))
    reference = baseline if baseline in runs else next(iter(runs), None)
    if reference is None:
        return float("nan"), "no runs"
    final = float(np.mean([run.returns[-1].mean() for run in runs[reference]]))
    return final, f"final mean return of {reference}"


def _colors(names: Sequence[str]) -> dict[str, object]:
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return {name: cmap(i % 10) for i, name in enumerate(names)}


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(curves: dict[str, Curve], env_id: str, path: Path, subtitle: str = "") -> None:
    """
    Learning curves: IQM and mean of the evaluation return per configuration, with 95% stratified bootstrap bands.

    :param curves: Aggregated curves.
    :param env_id: Environment id (title).
    :param path: PNG file to write.
    :param subtitle: Second title line (budget, seeds).
    """
    plt = _pyplot()
    colors = _colors(list(curves))
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharex=True)
    for ax, (kind, label) in zip(axes, [("iqm", "IQM"), ("mean", "Mean")], strict=True):
        for name, curve in curves.items():
            x = curve.timesteps / 1000.0
            center, low, high = (getattr(curve, kind), getattr(curve, f"{kind}_low"), getattr(curve, f"{kind}_high"))
            ax.plot(x, center, label=f"{name} (n={len(curve.per_seed)})", color=colors[name], lw=1.8)
            ax.fill_between(x, low, high, color=colors[name], alpha=0.2, lw=0)
        ax.set_xlabel("env steps (thousands)")
        ax.set_ylabel(f"{label} of the runs' evaluation returns")
        ax.set_title(f"{label} over runs, 95% stratified bootstrap CI")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{env_id}" + (f"\n{subtitle}" if subtitle else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_wallclock(
    curves: dict[str, Curve], runs: dict[str, list[SeedRun]], env_id: str, path: Path, subtitle: str = ""
) -> None:
    """
    IQM evaluation return against the CPU hours a run took to get there (each configuration's evaluation steps
    divided by its runs' median env steps per second, one core per run): what each point of return costs.

    :param curves: Aggregated curves.
    :param runs: The runs (their wall-clock speed).
    :param env_id: Environment id (title).
    :param path: PNG file to write.
    :param subtitle: Second title line (budget, seeds).
    """
    plt = _pyplot()
    colors = _colors(list(curves))
    fig, ax = plt.subplots(figsize=(7.5, 5))
    for name, curve in curves.items():
        rate = float(np.nanmedian([run.env_steps_per_s for run in runs[name]]))
        if not np.isfinite(rate) or rate <= 0:
            continue
        hours = curve.timesteps / rate / 3600.0
        ax.plot(hours, curve.iqm, label=f"{name} ({rate:.0f} env steps/s)", color=colors[name], lw=1.8)
        ax.fill_between(hours, curve.iqm_low, curve.iqm_high, color=colors[name], alpha=0.15, lw=0)
    ax.set_xlabel("CPU hours per run (one core, as measured on the runs' machines)")
    ax.set_ylabel("IQM of the runs' evaluation returns")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(f"{env_id}: return against compute" + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_profile(curves: dict[str, Curve], env_id: str, path: Path, subtitle: str = "", reps: int = BOOTSTRAP_REPS) -> None:
    """
    Performance profile of the final scores: share of runs whose final evaluation return is above each return.

    :param curves: Aggregated curves (their last column is each run's final score).
    :param env_id: Environment id (title).
    :param path: PNG file to write.
    :param subtitle: Second title line.
    :param reps: Bootstrap resamples of the bands.
    """
    plt = _pyplot()
    scores = {name: curve.per_seed[:, -1:] for name, curve in curves.items()}
    highest = max(float(matrix.max()) for matrix in scores.values())
    lowest = min(0.0, min(float(matrix.min()) for matrix in scores.values()))
    taus = np.linspace(lowest, highest * 1.05 if highest > 0 else highest + 1.0, 101)
    profiles = performance_profile(scores, taus, reps)
    colors = _colors(list(curves))
    fig, ax = plt.subplots(figsize=(7, 5))
    for name, (profile, low, high) in profiles.items():
        ax.plot(taus, profile, label=f"{name} (n={len(scores[name])})", color=colors[name], lw=1.8)
        ax.fill_between(taus, low, high, color=colors[name], alpha=0.15, lw=0)
    ax.set_xlabel("final evaluation return tau")
    ax.set_ylabel("share of runs with final return > tau")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    title = f"{env_id}: performance profile, 95% stratified bootstrap band"
    ax.set_title(title + (f"\n{subtitle}" if subtitle else ""), fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_ablation(summary: pd.DataFrame, env_id: str, path: Path, baseline: str = BASELINE, subtitle: str = "") -> None:
    """
    Ablation chart: final IQM and normalized AUC of every configuration (95% CI), against stock TD3.

    :param summary: Output of :func:`summarize`.
    :param env_id: Environment id (title).
    :param path: PNG file to write.
    :param baseline: Configuration drawn as the reference line.
    :param subtitle: Second title line.
    """
    plt = _pyplot()
    colors = _colors(list(summary["config"]))
    fig, axes = plt.subplots(1, 2, figsize=(12, 0.5 * len(summary) + 2.0), sharey=True)
    y = np.arange(len(summary))[::-1]
    for ax, (key, label) in zip(axes, [("final_iqm", "final IQM"), ("auc", "AUC (mean return over training)")], strict=True):
        center = summary[key].to_numpy(dtype=float)
        errors = np.abs(np.stack([center - summary[f"{key}_low"], summary[f"{key}_high"] - center]).astype(float))
        ax.barh(y, center, xerr=errors, color=[colors[n] for n in summary["config"]], alpha=0.8, capsize=3)
        if baseline in set(summary["config"]):
            ax.axvline(float(summary.loc[summary["config"] == baseline, key].iloc[0]), color="k", ls="--", lw=1)
        ax.set_xlabel(label + f" (dashed: {baseline})")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, [f"{name} (n={n})" for name, n in zip(summary["config"], summary["n_seeds"], strict=True)])
    fig.suptitle(f"{env_id}: 95% stratified bootstrap CI" + (f"\n{subtitle}" if subtitle else ""), fontsize=11)
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


def _share(count: int, total: int) -> str:
    return f"{100 * count / total:.0f}% ({count}/{total})" if count >= 0 and total > 0 else "-"


def markdown_table(summary: pd.DataFrame, baseline: str = BASELINE) -> str:
    """
    :param summary: Output of :func:`summarize`.
    :param baseline: Reference of the probability of improvement.
    :return: the summary as a GitHub markdown table (statistic [95% CI]).
    """
    budget_keys = [
        key
        for key in ("return_20k", "return_50k", "return_100k", "return_300k", "return_1M")
        if key in summary and summary[key].notna().any() and not (summary[key] == summary["final_return"]).all()
    ]
    header = ["config", "seeds", "steps", "final IQM", "final mean", f"P(better than {baseline})", f"vs {baseline}"]
    hopping = "hopped_episodes" in summary and (summary["hopped_episodes"] >= 0).any()
    header += ["survived", *(["hopped through"] if hopping else []), "stuck runs", "AUC"]
    header += [k.replace("return_", "mean @") for k in budget_keys]
    header += ["steps to threshold", "env steps/s", "CPU h / run"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, row in summary.iterrows():
        completion = (
            f"{100 * row['completion_rate']:.0f}% ({row['completed_episodes']}/{row['final_episodes']})"
            if np.isfinite(row["completion_rate"])
            else "-"
        )
        cells = [f"`{row['config']}`", str(row["n_seeds"]), f"{int(row['steps']):,}"]
        cells += [
            _fmt(row["final_iqm"], row["final_iqm_low"], row["final_iqm_high"]),
            _fmt(row["final_return"], row["final_return_low"], row["final_return_high"]),
            _fmt(row["p_improvement"], row["p_improvement_low"], row["p_improvement_high"], digits=2),
            str(row["vs_baseline"]) if row["config"] != baseline else "(baseline)",
            completion,
            *([_share(row["hopped_episodes"], row["final_episodes"])] if hopping else []),
            f"{row['stuck_runs']}/{row['stuck_checked']}" if row["stuck_checked"] else "-",
            _fmt(row["auc"], row["auc_low"], row["auc_high"]),
        ]
        cells += [_fmt(row[k], row[f"{k}_low"], row[f"{k}_high"]) for k in budget_keys]
        cells += [
            (f"{row['steps_to_threshold_median'] / 1000:.0f}k" if np.isfinite(row["steps_to_threshold_median"]) else "-")
            + f" ({row['seeds_reaching_threshold']}/{row['n_seeds']})",
            _fmt(row["env_steps_per_s"], digits=1),
            _fmt(row.get("cpu_hours", float("nan")), digits=2),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(
    runs_dirs: Path | str | Sequence[Path | str],
    env_id: str,
    out: Path | str,
    configs: Sequence[str] | None = None,
    seeds: Callable[[int], bool] | None = None,
    threshold: float | None = None,
    command: str = "",
    title: str = "TD3X against stock TD3",
    reps: int = BOOTSTRAP_REPS,
    runs_key: str | None = None,
) -> list[Path]:
    """
    Write ``curves.png``, ``profile.png``, ``ablation.png``, ``summary.csv`` and ``summary.md`` to ``out``.

    :param runs_dirs: Runs folder(s) with the finished runs' result files (merged).
    :param env_id: Gymnasium environment id.
    :param out: Folder of the report, e.g. ``results/Hopper-v4``.
    :param configs: Configurations to report (default: every one with finished runs).
    :param seeds: Only the seeds for which this returns True (default: all).
    :param threshold: Return threshold for steps-to-threshold (default: see :func:`resolve_threshold`).
    :param command: Command line that wrote the report, written into the markdown.
    :param title: Title of the markdown.
    :param reps: Bootstrap resamples.
    :param runs_key: Folder of the runs under each runs folder (default: ``env_id``, see :func:`load_runs`).
    :return: the paths written (empty when no run has finished).
    """
    runs = load_runs(runs_dirs, env_id, configs, seeds, runs_key)
    if not runs:
        return []
    threshold, threshold_source = resolve_threshold(env_id, runs, threshold)
    max_steps = max_episode_steps_of(env_id)
    stuck_return = STUCK_RETURNS.get(env_id)
    baseline = baseline_of(list(runs))
    summary, curves = summarize(runs, threshold, max_steps, stuck_return, baseline=baseline, reps=reps, env_id=env_id)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    budget = int(summary["steps"].max())
    seed_list = sorted({run.seed for seed_runs in runs.values() for run in seed_runs})
    eval_episodes = next(iter(runs.values()))[0].returns.shape[1]
    first = next(iter(curves.values())).timesteps
    eval_every = int(first[1] - first[0]) if len(first) > 1 else int(first[0])
    date = datetime.date.today().isoformat()
    seeds_text = _seed_ranges(seed_list)
    subtitle = f"{budget:,} steps, seeds {seeds_text}, report {date}"
    names = ("curves.png", "profile.png", "ablation.png", "wallclock.png", "summary.csv", "summary.md")
    paths = [out / name for name in names]
    plot_curves(curves, env_id, paths[0], subtitle)
    plot_profile(curves, env_id, paths[1], subtitle, reps)
    plot_ablation(summary, env_id, paths[2], baseline=baseline, subtitle=subtitle)
    plot_wallclock(curves, runs, env_id, paths[3], subtitle)
    paths = [*paths[:3], *paths[4:], paths[3]]
    summary.to_csv(paths[3], index=False, float_format="%.6g")
    described = "\n".join(
        f"- `{name}` ({CONFIGS[name].algo}): {CONFIGS[name].description}"
        + (f"; overrides `{' '.join(CONFIGS[name].hyperparams_args())}`" if CONFIGS[name].hyperparams else "")
        for name in summary["config"]
        if name in CONFIGS
    )
    effective = []
    for name in summary["config"]:
        params = effective_hyperparams(runs[name])
        shown = ", ".join(f"{key}={value}" for key, value in params.items() if key != "n_timesteps")
        effective.append(f"- `{name}`: {shown or 'n/a'}")
    effective_text = "\n".join(effective)
    per_run = "\n".join(
        f"- `{name}`: " + ", ".join(f"{run.seed}: {curves[name].per_seed[i, -1]:.0f}" for i, run in enumerate(seed_runs))
        for name, seed_runs in runs.items()
    )
    completion_text = (
        f"survived: share of the final evaluation's episodes (all runs pooled) that last the whole {max_steps}-step time limit"
        if max_steps is not None
        else "survived: not known for this environment"
    )
    if env_id in COMPLETION and max_steps is not None:
        rule = COMPLETION[env_id]
        alive, dt, distance = rule.alive_reward, rule.dt, rule.distance
        completion_text += (
            f"; hopped through: those that also travelled at least {distance:g} m forward, the distance being "
            f"(return - {alive:g} x length) x {dt:g} s (the forward reward is the velocity; standing still for "
            f"{max_steps} steps scores about {alive * max_steps:.0f} and travels about 0 m)"
        )
    stuck_text = (
        f"runs none of whose evaluations from {STUCK_AFTER:,} steps on has a mean return above {stuck_return:g}"
        f" / runs that trained that long"
        if stuck_return is not None
        else "no stuck-run test for this environment"
    )
    text = f"""# {env_id}: {title}

- Report written by: `{command or "python -m sb3_td3x.benchmark --report-only"}`
- Date of the report: {date}; budget: up to {budget:,} env steps per run; seeds: {seeds_text}
- Evaluation: every {eval_every:,} steps, {eval_episodes} deterministic episodes on a separate eval env
- A run's score is the mean return of its evaluation episodes. Final IQM / mean: interquartile mean / mean of the runs'
  final scores; P(better than {baseline}): probability that a run of the configuration ends above a run of `{baseline}`
  (Mann-Whitney); "vs {baseline}" says "better" / "worse" only when both have at least {MIN_RUNS_FOR_VERDICT} runs and
  that CI lies above / below 0.5, else "no difference shown" (or "too few runs"). All [intervals] are 95% stratified
  percentile bootstrap CIs over runs (rliable, {reps} resamples).
- Completion: {completion_text}. Stuck runs: {stuck_text}.
- AUC: average evaluation return over training (trapezoid area / span); mean @: mean score at that budget;
  steps to threshold: median over runs of the first evaluation with return >= {threshold:g} ({threshold_source}),
  "-" when some run never reached it (count of runs that did in parentheses); env steps/s: wall-clock env steps per
  second of the whole run (training + evaluations; one process and one torch thread per run, runs in parallel on a
  {os.cpu_count()}-core {platform.machine()} machine, so it depends on the load); CPU h / run: mean wall-clock hours
  of a run (one core each), the x axis of `wallclock.png`.

{markdown_table(summary, baseline)}

Final score of each run (seed: return):
{per_run}

Configurations:
{described}

Hyperparameters each configuration trained with (RL Zoo's config.yml: zoo file + overrides):
{effective_text}

![learning curves](curves.png)

![performance profile](profile.png)

![final IQM and AUC](ablation.png)

![return against CPU hours](wallclock.png)
"""
    if budget > STANDARD_BUDGET:
        hopped = {
            str(row["config"]): (int(row["hopped_episodes"]), int(row["final_episodes"]))
            for _, row in summary.iterrows()
            if row["hopped_episodes"] >= 0
        }
        text += "\n" + long_budget_section(runs, curves, env_id, hopped)
    paths[4].write_text(text)
    return paths


def _seed_ranges(seeds: Sequence[int]) -> str:
    """:return: sorted seeds written as ranges, e.g. ``0-9 100-104``."""
    ranges: list[list[int]] = []
    for seed in seeds:
        if ranges and ranges[-1][1] == seed - 1:
            ranges[-1][1] = seed
        else:
            ranges.append([seed, seed])
    return " ".join(f"{low}" if low == high else f"{low}-{high}" for low, high in ranges)
