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
:mod:`sb3_td3x.benchmark.analysis.tasks` (where each task's completion rule lives; the distance comes from the return
and was checked against ``info["x_position"]``).

The cost of each point of return: the wall-clock of every run (one CPU core each), as CPU hours per run in the table
and as the return against CPU hours in ``wallclock.png``.

This module writes the markdown and puts the report together; the runs are read by
:mod:`~sb3_td3x.benchmark.analysis.runs`, the statistics computed by :mod:`~sb3_td3x.benchmark.analysis.stats`, the
plots drawn by :mod:`~sb3_td3x.benchmark.analysis.plots`, a long budget's extra sections written by
:mod:`~sb3_td3x.benchmark.analysis.long_budget`, and each task's completion rule lives in
:mod:`sb3_td3x.benchmark.analysis.tasks`.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sb3_td3x.benchmark.analysis.long_budget import (
    REPORTED_BUDGETS,
    improvement_at_budgets,
    improvement_columns,
    long_budget_section,
)
from sb3_td3x.benchmark.analysis.plots import plot_ablation, plot_curves, plot_profile, plot_wallclock
from sb3_td3x.benchmark.analysis.runs import SeedRun, effective_hyperparams, load_runs
from sb3_td3x.benchmark.analysis.stats import (
    BASELINE,
    BOOTSTRAP_REPS,
    MIN_RUNS_FOR_VERDICT,
    STUCK_AFTER,
    STUCK_RETURNS,
    baseline_of,
    max_episode_steps_of,
    resolve_threshold,
    summarize,
)
from sb3_td3x.benchmark.analysis.tasks import COMPLETION
from sb3_td3x.benchmark.configs import CONFIGS
from sb3_td3x.benchmark.layout import STANDARD_BUDGET


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


def _checkpointed(name: str, seed_runs: list[SeedRun]) -> bool:
    config = CONFIGS.get(name)
    if any("checkpoint_counts" in run.record for run in seed_runs):
        return True
    return config is not None and (config.algo == "td7" or config.hyperparams.get("policy_checkpoints") == "True")


def deployment_table(runs: dict[str, list[SeedRun]], window: int = 100_000) -> str:
    """
    What the runs of policy-checkpoint sets (TD7, ``td3x_ckpt*``) deploy: each run's final evaluation against its best
    one, and how many checkpoints it took in its last ``window`` env steps (from its ``run.json``; runs finished before
    the runner recorded them say "not recorded").

    :param runs: The runs of a report.
    :param window: Env steps at the end of a run over which the checkpoints are counted.
    :return: a markdown section, empty when no configuration keeps checkpoints.
    """
    lines = []
    for name, seed_runs in runs.items():
        if not _checkpointed(name, seed_runs):
            continue
        for run in seed_runs:
            scores = run.returns.mean(axis=1)
            best = int(np.argmax(scores))
            final = float(scores[-1])
            counts = run.record.get("checkpoint_counts")
            if counts:
                end = counts[-1][0]
                before = [count for steps, count in counts if steps <= end - window]
                taken = f"{counts[-1][1] - (before[-1] if before else 0)}"
            else:
                taken = "not recorded"
            lines.append(
                f"| `{name}` | {run.seed} | {final:.0f} | {scores[best]:.0f} @{int(run.timesteps[best]):,} | "
                f"{final / scores[best]:.2f} | {taken} |"
            )
    if not lines:
        return ""
    header = (
        f"\nWhat the checkpointed runs deploy (the evaluations act with the policy checkpoint): the final evaluation "
        f"against the run's best, and the checkpoints taken in its last {window:,} env steps.\n\n"
        "| config | seed | final | best @ env steps | final / best | checkpoints in the last "
        f"{window // 1000}k |\n|---|---|---|---|---|---|\n"
    )
    return header + "\n".join(lines) + "\n"


def runs_date(runs: dict[str, list[SeedRun]]) -> str:
    """
    :param runs: The runs of a report.
    :return: the day the newest of them finished (``YYYY-MM-DD``, from their ``run.json``), "unknown" if none says.
    """
    days = [str(run.record.get("finished", ""))[:10] for seed_runs in runs.values() for run in seed_runs]
    return max((day for day in days if day), default="unknown")


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
    # A long budget's report also compares the sets with the baseline at the budgets of the published tables
    improvement = improvement_at_budgets(curves, baseline, REPORTED_BUDGETS, reps) if budget > STANDARD_BUDGET else {}
    summary = improvement_columns(summary, improvement)
    seed_list = sorted({run.seed for seed_runs in runs.values() for run in seed_runs})
    eval_episodes = next(iter(runs.values()))[0].returns.shape[1]
    first = next(iter(curves.values())).timesteps
    eval_every = int(first[1] - first[0]) if len(first) > 1 else int(first[0])
    date = runs_date(runs)
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
    deployed = deployment_table(runs)
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
- Date: {date} (the newest run's end); budget: up to {budget:,} env steps per run; seeds: {seeds_text}
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
{deployed}
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
        text += "\n" + long_budget_section(runs, curves, env_id, hopped, baseline, reps, improvement)
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
