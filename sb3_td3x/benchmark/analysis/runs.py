"""The finished runs a report reads: each run's committed result files (``run.json``, ``evaluations.npz``, RL Zoo's
``config.yml``), loaded and checked for mixed sets."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sb3_td3x.benchmark.configs import CONFIGS
from sb3_td3x.benchmark.layout import (
    RESULT_CONFIG,
    RESULT_EVALUATIONS,
    RESULT_FILE,
    MixedResultsError,
    check_same_overrides,
    has_result,
)


@dataclass
class SeedRun:
    """
    Evaluations of one finished run.

    :param seed: Random seed.
    :param timesteps: Env steps of each evaluation, shape (n_evals,).
    :param returns: Episode returns, shape (n_evals, n_episodes).
    :param ep_lengths: Episode lengths, shape (n_evals, n_episodes).
    :param env_steps_per_s: Wall-clock env steps per second of the whole run (training and evaluations).
    :param hyperparams: Hyperparameters the run trained with (its RL Zoo ``config.yml``, without the buffer's
        ``n_steps`` / ``gamma`` that the algorithm gives it itself), None if it has none.
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
        ``<env>-<budget>``, see :func:`~sb3_td3x.benchmark.layout.budget_key`).
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
                loaded = _without_derived_args(yaml.load(config_file.read_text(), Loader=_ZooConfigLoader))
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


def _without_derived_args(hyperparams: object) -> object:
    """
    The hyperparameters of a ``config.yml`` without the entries the algorithm writes into the dicts it is given, which
    change nothing it trains: the ``n_steps`` / ``gamma`` of ``replay_buffer_kwargs`` equal to the run's own (the
    algorithm gives its buffer those itself) and the ``use_sde`` of ``policy_kwargs`` equal to the run's own (default
    ``False``: SB3 puts it there for the algorithms that support gSDE, e.g. SAC and sb3-contrib's CrossQ). RL Zoo
    writes ``config.yml`` after building the model from those very dicts, so the entries appear or not depending on
    how the run's last segment started: a fresh start lists SB3's ``use_sde`` (a resumed one loads the saved policy
    arguments instead), and a run resumed with a version of this package that filled its buffer's arguments into the
    dict it was given lists ``n_steps`` / ``gamma``.

    :param hyperparams: A loaded ``config.yml``.
    :return: the same hyperparameters, ``replay_buffer_kwargs`` and ``policy_kwargs`` in new dicts without those
        entries.
    """
    if not isinstance(hyperparams, dict):
        return hyperparams
    # Per dict: the run's own value of each entry the algorithm may write into it
    own = {
        "replay_buffer_kwargs": {name: hyperparams[name] for name in ("n_steps", "gamma") if name in hyperparams},
        "policy_kwargs": {"use_sde": hyperparams.get("use_sde", False)},
    }
    cleaned = dict(hyperparams)
    for key, own_values in own.items():
        if isinstance(hyperparams.get(key), dict):
            cleaned[key] = {
                name: value
                for name, value in hyperparams[key].items()
                if not (name in own_values and value == own_values[name])
            }
    return cleaned


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
