"""The benchmark report's plots: learning curves, return against CPU hours, performance profiles, final IQM and AUC."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from sb3_td3x.benchmark.analysis.runs import SeedRun
from sb3_td3x.benchmark.analysis.stats import BASELINE, BOOTSTRAP_REPS, Curve, performance_profile


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
