"""
Statistics of TD3's published Hopper learning curves, at the budgets of our long-budget reports.

The curves are the TD3 paper's (Fujimoto et al. 2018), committed by its authors as ``learning_curves/Hopper/
TD3_Hopper-v1_<seed>.npy`` in github.com/sfujim/TD3 (10 seeds; evaluation k after about k * 5000 env steps, k = 0 the
untrained policy, k = 200 at 1M; each the mean return of 10 deterministic episodes on Hopper-v1).

    python results/published/td3_hopper_curves.py <git dir of a checkout of sfujim/TD3> [commit]

The output is the table of ``results/published/README.md``; ``sb3_td3x.benchmark.analysis.long_budget.PUBLISHED``
holds its numbers.
"""

import io
import subprocess
import sys

import numpy as np
from scipy.stats import trim_mean


def load_curves(git_dir: str, commit: str) -> np.ndarray:
    curves = []
    for seed in range(10):
        path = f"{commit}:learning_curves/Hopper/TD3_Hopper-v1_{seed}.npy"
        blob = subprocess.run(["git", "-C", git_dir, "show", path], check=True, capture_output=True).stdout
        curves.append(np.load(io.BytesIO(blob)))
    return np.stack(curves)


def main() -> None:
    git_dir = sys.argv[1]
    commit = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    resolved = subprocess.run(["git", "-C", git_dir, "rev-parse", commit], check=True, capture_output=True, text=True)
    curves = load_curves(git_dir, commit)
    print(f"sfujim/TD3 at {resolved.stdout.strip()}: {curves.shape[0]} seeds x {curves.shape[1]} evaluations")
    print("| steps | evaluation | mean +- std (ddof 0) | IQM | median | min | max |")
    print("|---|---|---|---|---|---|---|")
    for steps in (100_000, 300_000, 500_000, 1_000_000):
        scores = curves[:, steps // 5000]
        print(
            f"| {steps:,} | {steps // 5000} | {scores.mean():.0f} +- {scores.std():.0f} | {trim_mean(scores, 0.25):.0f} | "
            f"{np.median(scores):.0f} | {scores.min():.0f} | {scores.max():.0f} |"
        )


if __name__ == "__main__":
    main()
