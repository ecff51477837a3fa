"""
The statistics of the benchmark's reports, with rliable (Agarwal et al. 2021): IQM and mean with stratified bootstrap
CIs, probability of improvement, performance profiles, learning curves with bands, and the per-configuration summary
(completion, stuck runs, AUC, return at budgets, steps to a threshold, cost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sb3_td3x.benchmark.analysis.runs import SeedRun
from sb3_td3x.benchmark.analysis.tasks import COMPLETION, completed
from sb3_td3x.benchmark.configs import CONFIGS

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
    :param env_id: Environment id (the "hopped through" count, for the envs of
        :data:`~sb3_td3x.benchmark.analysis.tasks.COMPLETION`).
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
