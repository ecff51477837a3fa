"""
What the report of a budget beyond the standard 100k adds (``<results>/<env>-<budget>/summary.md``): the IQM at the
budgets of the published tables with those tables' numbers beside it and the probability of improvement over the
baseline at each of them, each run's final against its best evaluation, the hopped-through count beside the founding
write-up's, which runs were resumed from a checkpoint, and the software they ran on.

The published numbers are other papers' on other code (other env versions, batch sizes, evaluation protocols): they
place our runs, they are not a head-to-head.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sb3_td3x.benchmark.analysis.stats import (
    BASELINE,
    BOOTSTRAP_REPS,
    MIN_RUNS_FOR_VERDICT,
    interval_estimates,
    iqm_and_mean,
    probability_of_improvement,
    verdict,
)

if TYPE_CHECKING:
    from sb3_td3x.benchmark.analysis.runs import SeedRun
    from sb3_td3x.benchmark.analysis.stats import Curve

# Budgets of the published tables (and of the write-up: 500k)
REPORTED_BUDGETS: tuple[int, ...] = (100_000, 300_000, 500_000, 1_000_000)


@dataclass(frozen=True)
class Published:
    """
    A published result: mean +- std over seeds at one budget.

    :param method: Method and code.
    :param env_version: The environment it ran on.
    :param budget: Env steps.
    :param mean: Mean return over seeds.
    :param std: Standard deviation over seeds (None: not published).
    :param iqm: Interquartile mean over seeds, where the per-seed numbers are published (else None).
    :param seeds: Number of seeds (None: not known).
    :param source: Where the number comes from.
    """

    method: str
    env_version: str
    budget: int
    mean: float
    std: float | None
    iqm: float | None
    seeds: int | None
    source: str


_TD3_CURVES = "sfujim/TD3 learning_curves (34770cc), results/published/td3_hopper_curves.py"
_TD7_TABLE = "TD7 paper, Table 1, as quoted by a third-party README (not checked against the paper)"
PUBLISHED: dict[str, tuple[Published, ...]] = {
    "Hopper-v4": (
        Published("TD3 (sfujim/TD3, paper code)", "Hopper-v1", 100_000, 659, 752, 475, 10, _TD3_CURVES),
        Published("TD3 (sfujim/TD3, paper code)", "Hopper-v1", 300_000, 2410, 900, 2465, 10, _TD3_CURVES),
        Published("TD3 (sfujim/TD3, paper code)", "Hopper-v1", 500_000, 2933, 682, 3133, 10, _TD3_CURVES),
        Published("TD3 (sfujim/TD3, paper code)", "Hopper-v1", 1_000_000, 3391, 378, 3475, 10, _TD3_CURVES),
        Published("TD7 (sfujim/TD7)", "Hopper-v4", 300_000, 2948, 464, None, None, _TD7_TABLE),
        Published("TD7 (sfujim/TD7)", "Hopper-v4", 1_000_000, 3512, 315, None, None, _TD7_TABLE),
    ),
}

# The founding write-up's own result at 500k: its agent "completed the terrain" in 7 of 10 tries
WRITEUP_COMPLETIONS = (7, 10)


def budget_label(steps: int) -> str:
    """:return: ``100k``, ``1M``, ..."""
    return f"{steps // 1_000_000}M" if steps % 1_000_000 == 0 else f"{steps // 1000}k"


def scores_at_budget(curve: Curve, budget: int) -> np.ndarray | None:
    """:return: the runs' scores at the evaluation of ``budget`` env steps, shape ``(n_runs, 1)`` (None: not evaluated)."""
    index = np.flatnonzero(curve.timesteps == budget)
    if index.size == 0:
        return None
    return curve.per_seed[:, index[0] : index[0] + 1]


def iqm_at_budgets_table(curves: dict[str, Curve], budgets: Sequence[int] = REPORTED_BUDGETS) -> str:
    """
    :param curves: Aggregated curves per configuration (the runs' score at each evaluation).
    :param budgets: Budgets to show; those no configuration evaluated at are left out.
    :return: a markdown table: IQM [95% CI] of the runs' scores at each budget. Each CI is bootstrapped from the
        scores at that budget alone, as the main table's final IQM is, so that the two agree at the final budget (the
        curves' bands resample all the evaluations at once and can differ from it by a few points).
    """
    shown = [budget for budget in budgets if any(budget in curve.timesteps for curve in curves.values())]
    lines = [
        "| config | seeds | " + " | ".join(f"IQM @{budget_label(budget)}" for budget in shown) + " |",
        "|---|---|" + "---|" * len(shown),
    ]
    for name, curve in curves.items():
        cells = []
        for budget in shown:
            scores = scores_at_budget(curve, budget)
            if scores is None:
                cells.append("-")
                continue
            ((point, low, high),) = interval_estimates({name: scores}, iqm_and_mean).values()
            cells.append(f"{point[0]:.0f} [{low[0]:.0f}, {high[0]:.0f}]")
        lines.append(f"| `{name}` | {curve.per_seed.shape[0]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def improvement_at_budgets(
    curves: dict[str, Curve],
    baseline: str = BASELINE,
    budgets: Sequence[int] = REPORTED_BUDGETS,
    reps: int = BOOTSTRAP_REPS,
) -> dict[int, dict[str, tuple[float, float, float]]]:
    """
    :param curves: Aggregated curves per configuration (the runs' score at each evaluation).
    :param baseline: Reference of the probability of improvement.
    :param budgets: Budgets to compare at; those the baseline did not evaluate at are left out.
    :param reps: Bootstrap resamples.
    :return: budget -> configuration -> (probability that a run of it scores above a run of ``baseline`` at that
        budget, lower and upper end of its 95% CI), for every configuration but the baseline that evaluated there;
        empty when the baseline has no runs or no other configuration is reported.
    """
    if baseline not in curves or len(curves) < 2:
        return {}
    result: dict[int, dict[str, tuple[float, float, float]]] = {}
    for budget in budgets:
        if budget not in curves[baseline].timesteps:
            continue
        at_budget = {name: scores_at_budget(curve, budget) for name, curve in curves.items()}
        scores = {name: matrix for name, matrix in at_budget.items() if matrix is not None}
        result[budget] = probability_of_improvement(scores, baseline, reps)
    return result


def improvement_columns(summary: pd.DataFrame, improvement: dict[int, dict[str, tuple[float, float, float]]]) -> pd.DataFrame:
    """
    :param summary: The report's summary table (one row per configuration, see
        :func:`~sb3_td3x.benchmark.analysis.stats.summarize`).
    :param improvement: Output of :func:`improvement_at_budgets`.
    :return: the table with ``p_improvement_<budget>`` and its ``_low`` / ``_high`` CI columns (e.g.
        ``p_improvement_300k``) after ``vs_baseline``, one triple per budget before the last evaluation of every
        configuration (the final budget's is ``p_improvement`` itself); NaN where a configuration has no value.
    """
    final = int(summary["steps"].min()) if len(summary) else 0
    summary = summary.copy()
    position = list(summary.columns).index("vs_baseline") + 1
    for budget in sorted(improvement):
        if budget >= final:
            continue
        key = f"p_improvement_{budget_label(budget)}"
        nan = (float("nan"),) * 3
        values = [improvement[budget].get(str(name), nan) for name in summary["config"]]
        for offset, suffix in enumerate(("", "_low", "_high")):
            summary.insert(position, key + suffix, [value[offset] for value in values])
            position += 1
    return summary


def improvement_at_budgets_table(
    curves: dict[str, Curve],
    baseline: str = BASELINE,
    budgets: Sequence[int] = REPORTED_BUDGETS,
    min_runs: int = MIN_RUNS_FOR_VERDICT,
    reps: int = BOOTSTRAP_REPS,
    improvement: dict[int, dict[str, tuple[float, float, float]]] | None = None,
) -> str:
    """
    :param curves: Aggregated curves per configuration (the runs' score at each evaluation).
    :param baseline: Reference of the probability of improvement.
    :param budgets: Budgets to show; those the baseline did not evaluate at are left out.
    :param min_runs: Runs each of the two configurations needs before a cell says better or worse.
    :param reps: Bootstrap resamples.
    :param improvement: The probabilities already computed at ``budgets`` by :func:`improvement_at_budgets`
        (default: computed here).
    :return: a markdown table: at each budget, the probability that a run of each configuration scores above a run
        of ``baseline`` there, with its 95% CI and what it shows (as the main table's final column, at every budget);
        "" when the baseline has no runs or no other configuration is reported.
    """
    if improvement is None:
        improvement = improvement_at_budgets(curves, baseline, budgets, reps)
    shown = [budget for budget in budgets if budget in improvement]
    if not shown:
        return ""
    cells: dict[str, list[str]] = {name: [] for name in curves if name != baseline}
    for budget in shown:
        for name in cells:
            at_budget = scores_at_budget(curves[name], budget)
            if name not in improvement[budget] or at_budget is None:
                cells[name].append("-")
                continue
            point, low, high = improvement[budget][name]
            n_runs = min(at_budget.shape[0], curves[baseline].per_seed.shape[0])
            cells[name].append(f"{point:.2f} [{low:.2f}, {high:.2f}] {verdict(low, high, n_runs, min_runs)}")
    lines = [
        "| config | seeds | " + " | ".join(f"P(better than {baseline}) @{budget_label(budget)}" for budget in shown) + " |",
        "|---|---|" + "---|" * len(shown),
    ]
    for name, row in cells.items():
        lines.append(f"| `{name}` | {curves[name].per_seed.shape[0]} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def published_table(env_id: str, budgets: Sequence[int] = REPORTED_BUDGETS) -> str:
    """:return: the published numbers of ``env_id`` at ``budgets`` as a markdown table ("" when none are known)."""
    rows = [entry for entry in PUBLISHED.get(env_id, ()) if entry.budget in budgets]
    if not rows:
        return ""
    lines = [
        "| method (other code) | env | steps | mean +- std | IQM | seeds | source |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in rows:
        spread = f" +- {entry.std:.0f}" if entry.std is not None else ""
        iqm = f"{entry.iqm:.0f}" if entry.iqm is not None else "-"
        lines.append(
            f"| {entry.method} | {entry.env_version} | {budget_label(entry.budget)} | {entry.mean:.0f}{spread} | {iqm} | "
            f"{entry.seeds or '?'} | {entry.source} |"
        )
    return "\n".join(lines)


def final_versus_best(runs: dict[str, list[SeedRun]], curves: dict[str, Curve]) -> str:
    """
    :return: one line per configuration: each run's final score, its best evaluation and when, and how many runs
        ended more than 10% below their best.
    """
    lines = []
    for name, seed_runs in runs.items():
        per_seed = curves[name].per_seed
        timesteps = curves[name].timesteps
        parts = []
        fell = 0
        for i, run in enumerate(seed_runs):
            best = int(np.argmax(per_seed[i]))
            final, top = per_seed[i, -1], per_seed[i, best]
            fell += bool(final < 0.9 * top)
            parts.append(f"{run.seed}: {final:.0f} (best {top:.0f} @{budget_label(int(timesteps[best]))})")
        lines.append(f"- `{name}` ({fell}/{len(seed_runs)} ended >10% below their best): " + ", ".join(parts))
    return "\n".join(lines)


def resumed_runs(runs: dict[str, list[SeedRun]]) -> str:
    """:return: the runs that were resumed from a checkpoint, and from which timesteps ("none" if no run was)."""
    parts = []
    for name, seed_runs in runs.items():
        for run in seed_runs:
            resumes = run.record.get("resumed") or []
            if resumes:
                steps = ", ".join(f"{entry['from_timestep']:,}" for entry in resumes)
                parts.append(f"`{name}` seed {run.seed} (from {steps})")
    return ", ".join(parts) if parts else "none"


def software_stacks(runs: dict[str, list[SeedRun]]) -> str:
    """:return: the distinct software stacks and CPUs the runs ran on, with how many runs each."""
    stacks: Counter[str] = Counter()
    for seed_runs in runs.values():
        for run in seed_runs:
            environment = run.record.get("environment")
            if not environment:
                stacks["not recorded"] += 1
                continue
            packages = ", ".join(f"{key} {value}" for key, value in environment.get("packages", {}).items() if value)
            stacks[f"Python {environment.get('python')}, {packages}; CPU: {environment.get('cpu')}"] += 1
    return "\n".join(f"- {count} run{'s' if count != 1 else ''}: {stack}" for stack, count in stacks.most_common())


def long_budget_section(
    runs: dict[str, list[SeedRun]],
    curves: dict[str, Curve],
    env_id: str,
    hopped: dict[str, tuple[int, int]],
    baseline: str = BASELINE,
    reps: int = BOOTSTRAP_REPS,
    improvement: dict[int, dict[str, tuple[float, float, float]]] | None = None,
) -> str:
    """
    :param runs: The runs, per configuration.
    :param curves: Their aggregated curves.
    :param env_id: Environment id (the published numbers).
    :param hopped: Per configuration, (episodes hopped through, episodes) at the final evaluation.
    :param baseline: Reference of the probability of improvement at each budget.
    :param reps: Bootstrap resamples.
    :param improvement: The probabilities of improvement at :data:`REPORTED_BUDGETS`, from
        :func:`improvement_at_budgets` (default: computed here).
    :return: the markdown of the sections this module adds to a long budget's report.
    """
    table = improvement_at_budgets_table(curves, baseline, reps=reps, improvement=improvement)
    improvement_text = (
        f"""Probability that a run scores above a run of `{baseline}` at each of those budgets (Mann-Whitney, 95% stratified
bootstrap CI over runs), and what it shows: better / worse only when both configurations have at least
{MIN_RUNS_FOR_VERDICT} runs there and the CI lies above / below 0.5.

{table}

"""
        if table
        else ""
    )
    published = published_table(env_id)
    published_text = (
        f"""Published numbers at those budgets, on other code (other env versions, network sizes, exploration warm-ups and
evaluation protocols): they place these runs, they are not a head-to-head.

{published}
"""
        if published
        else ""
    )
    done, total = WRITEUP_COMPLETIONS
    hopped_text = ", ".join(
        f"`{name}` {count}/{episodes} ({count / episodes:.0%})" for name, (count, episodes) in hopped.items() if episodes > 0
    )
    return f"""## IQM at the budgets of the published tables

{iqm_at_budgets_table(curves)}

{improvement_text}{published_text}
## Completion at the final evaluation

Hopped through (episodes of the final evaluation, all runs pooled): {hopped_text or "not known for this environment"}.
The founding write-up's agent "completed the terrain" in {done} of {total} tries at 500k steps (its own protocol).

## Final against best evaluation

{final_versus_best(runs, curves)}

## Resumed runs and software

Runs resumed from a checkpoint after their process was stopped: {resumed_runs(runs)}. A resumed run is not
bit-identical to an uninterrupted one (its environments restart from a reset and its random state is seeded again at
the checkpoint); it trains the same configuration for the same number of steps.

Software and CPU of the runs (a seed reproduces a run only on the same stack and CPU):
{software_stacks(runs)}
"""
