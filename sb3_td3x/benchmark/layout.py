"""
Where the benchmark's runs are filed, the contract between the part that trains them (:mod:`~sb3_td3x.benchmark.running`)
and the parts that read them (:mod:`~sb3_td3x.benchmark.analysis`, :mod:`~sb3_td3x.benchmark.video`), so that a
reader never imports the runner:

- a run's scratch folder, ``<root>/<key>/<config>/seed_<seed>/`` (:func:`scratch_folder`: RL Zoo's log folder under
  ``zoo/``, checkpoints; never committed), under :data:`DEFAULT_ROOT` unless ``--root`` says otherwise;
- its result folder, ``<results>/runs/<key>/<config>/seed_<seed>/`` (:func:`result_folder`): the small files a
  finished run leaves and a report reads, :data:`RESULT_FILE`, :data:`RESULT_EVALUATIONS`, :data:`RESULT_CONFIG`;
- ``<key>``, the env id and the budget (:func:`budget_key`);
- what makes two finished runs one set (:func:`check_same_overrides`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sb3_td3x.benchmark.configs import BenchmarkConfig, trained_as_config

# A finished run's result files: its record, RL Zoo's evaluations and RL Zoo's config.yml
RESULT_FILE = "run.json"
RESULT_EVALUATIONS = "evaluations.npz"
RESULT_CONFIG = "config.yml"
# The budget of the package's standard benchmark: its runs and reports are filed under the env id alone
STANDARD_BUDGET = 100_000

# Scratch folder of the runs: outside the work tree, so a fresh checkout on the same machine finds them
DEFAULT_ROOT = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "sb3_td3x", "benchmark")


def budget_key(env_id: str, n_timesteps: int) -> str:
    """
    :return: the name under which runs and reports of a budget are filed: the env id for the standard budget
        (:data:`STANDARD_BUDGET`), else the env id and the budget (``Hopper-v4-500k``), so that runs of two budgets
        on the same seeds never share a folder.
    """
    if n_timesteps == STANDARD_BUDGET:
        return env_id
    label = f"{n_timesteps // 1000}k" if n_timesteps % 1000 == 0 else str(n_timesteps)
    return f"{env_id}-{label}"


def scratch_folder(root: Path | str, key: str, config: str, seed: int) -> Path:
    """:return: ``<root>/<key>/<config>/seed_<seed>``, where a run trains (``key``: :func:`budget_key`)."""
    return Path(root) / key / config / f"seed_{seed}"


def result_folder(results: Path | str, key: str, config: str, seed: int) -> Path:
    """:return: ``<results>/runs/<key>/<config>/seed_<seed>``, where a finished run's result files go (``key``:
    :func:`budget_key`)."""
    return Path(results) / "runs" / key / config / f"seed_{seed}"


def has_result(folder: Path) -> bool:
    """:return: whether a result folder holds a finished run (its record and its evaluations)."""
    return (folder / RESULT_FILE).is_file() and (folder / RESULT_EVALUATIONS).is_file()


class MixedResultsError(ValueError):
    """A configuration's folder holds finished runs trained with other overrides than the configuration has now."""


def trained_overrides(record: dict[str, Any]) -> str:
    """:return: ``--algo ... --hyperparams ...`` of a finished run's record, as one line."""
    overrides = " ".join(f"{key}:{value}" for key, value in record.get("hyperparams", {}).items())
    return f"--algo {record.get('algo')}" + (f" --hyperparams {overrides}" if overrides else "")


def check_same_overrides(config: BenchmarkConfig, record: dict[str, Any], folder: Path) -> None:
    """
    Raise if a finished run was trained with other overrides than its configuration has now: its seeds would be
    reported (and skipped) as runs of a set they did not train.

    :param config: The configuration, as it is now.
    :param record: The finished run's record (``run.json``).
    :param folder: Where the record is (for the message).
    :raises MixedResultsError: naming the folder, what it trained with and what the configuration is now.
    """
    if trained_as_config(config, record.get("algo"), record.get("hyperparams", {})):
        return
    now = trained_overrides({"algo": config.algo, "hyperparams": config.hyperparams})
    raise MixedResultsError(
        f"{folder} was trained as {trained_overrides(record)}, but configuration {config.name} is now {now}: "
        f"its runs would mix two sets. Move the finished runs of the old set to the folder of a configuration with "
        f"their overrides (or out of {folder.parent.parent}), then run again."
    )
