"""
Resumable process pool that trains benchmark configurations through RL Zoo, one subprocess per (config, seed).

Layout of a run folder ``<root>/<env>/<config>/seed_<seed>/``:

- ``train.log``: stdout and stderr of ``rl_zoo3.train``
- ``zoo/<algo>/<env>_1/``: RL Zoo's log folder (``evaluations.npz`` from its ``EvalCallback`` on a separate
  eval env, ``0.monitor.csv`` of the training env, the saved model)
- ``running.json``: claim of a live runner (pids); ``done.json``: finished marker with wall time and env steps/s.

A folder without ``done.json`` whose claim is not held by a live process is a killed or failed run:
it is wiped and started again.

The run folders are scratch (checkpoints, logs; not committed). Each finished run also leaves its small result
files in ``<results>/runs/<env>/<config>/seed_<seed>/``, the part that is committed and that the report reads:

- ``evaluations.npz``: RL Zoo's evaluations (``timesteps``, ``results``, ``ep_lengths``)
- ``config.yml``: the hyperparameters the run trained with (RL Zoo's ``config.yml``: zoo file + overrides)
- ``run.json``: the finished record (budget, seed, overrides, device, wall time, env steps/s, command, and the
  software and CPU it ran on: a seed gives the same run only with the same package versions on the same kind of CPU)

A run whose result folder exists counts as finished, so a later invocation (or another machine) on a checkout
with those files adds runs instead of repeating them. Several runners may share a root: a global lock makes them respect one
limit on concurrent runs, so a second invocation with more configurations simply queues behind the first.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sb3_td3x.benchmark.configs import CONFIGS, BenchmarkConfig
from sb3_td3x.benchmark.layout import (
    RESULT_CONFIG,
    RESULT_EVALUATIONS,
    RESULT_FILE,
    budget_key,
    check_same_overrides,
    has_result,
    result_folder,
    scratch_folder,
)
from sb3_td3x.benchmark.running.stop import STOPPED_EXIT_CODE
from sb3_td3x.zoo.checkpoints import (
    CheckpointError,
    checkpoint_manifests,
    manifest_path,
    remove_checkpoint,
    verify_checkpoint,
)

DONE_FILE = "done.json"
CLAIM_FILE = "running.json"
FAILED_FILE = "failed.json"
LOG_FILE = "train.log"
# A killed run's checkpoint is moved here before it resumes (``zoo/`` then holds only the segment now running)
RESUME_FOLDER = "resume"
RESUME_FILE = "resume.json"
# What run_status reports, in the order its summary counts them
RUN_STATES = ("finished", "running", "stopped", "not started")
# Checkpoints of a run kept in its scratch folder (each holds a copy of the replay buffer)
KEEP_CHECKPOINTS = 2

# Distributions whose versions decide what a seeded run computes (recorded in run.json)
RECORDED_PACKAGES = (
    "sb3-td3x",
    "stable-baselines3",
    "sb3-contrib",
    "rl-zoo3",
    "torch",
    "gymnasium",
    "mujoco",
    "numpy",
)

# Seconds before a deadline (--time-left) at which the running runs are asked to write a checkpoint and stop: a run
# trained per episode ends its episode and its gradient steps first, and writing a 1M-transition buffer takes seconds
STOP_MARGIN_S = 180.0
# Seconds of training before the stop that make a run with checkpoints worth starting (--time-left)
MIN_SEGMENT_S = 120.0
# Seconds a run asked to stop may take to write its checkpoint before it is terminated
STOP_TIMEOUT_S = 300.0
# Env steps per second assumed for a run's duration until a comparable run has finished (a loaded 2-core machine)
DEFAULT_STEPS_PER_S = 50.0

# The training process of every run: RL Zoo's train script, with resumable checkpoints for every algorithm
TRAIN_MODULE = "sb3_td3x.benchmark.running.train"


@dataclass(frozen=True)
class RunSpec:
    """
    One training run.

    :param config: The configuration.
    :param env_id: Gymnasium environment id.
    :param seed: Random seed.
    :param n_timesteps: Training budget in env steps.
    :param eval_freq: Evaluate every ``eval_freq`` env steps.
    :param eval_episodes: Deterministic episodes per evaluation.
    :param root: Root folder of all runs.
    :param device: PyTorch device of the training process (``"cpu"``, ``"cuda"``, ``"auto"``).
    :param results: Results folder: the run's small result files go to
        ``<results>/runs/<key>/<config>/seed_<seed>/`` (``<key>``: :func:`budget_key`).
    :param checkpoint_freq: Write a checkpoint every ``checkpoint_freq`` env steps, from which a killed run resumes
        (0: none, a killed run starts again).
    """

    config: BenchmarkConfig
    env_id: str
    seed: int
    n_timesteps: int
    eval_freq: int
    eval_episodes: int
    root: Path
    device: str = "cpu"
    results: Path = Path("results")
    checkpoint_freq: int = 0

    @property
    def name(self) -> str:
        return f"{self.config.name}/seed_{self.seed}"

    @property
    def key(self) -> str:
        """Folder name of the environment and budget (:func:`budget_key`)."""
        return budget_key(self.env_id, self.n_timesteps)

    @property
    def folder(self) -> Path:
        """Scratch folder of the run (RL Zoo's logs and checkpoints)."""
        return scratch_folder(self.root, self.key, self.config.name, self.seed)

    @property
    def result_folder(self) -> Path:
        """Folder of the run's committed result files."""
        return result_folder(self.results, self.key, self.config.name, self.seed)

    def command(self, python: str = sys.executable, resume: Path | None = None, done_steps: int = 0) -> list[str]:
        """
        :param python: The interpreter.
        :param resume: A checkpoint's model zip to resume from (``-i``), or None for a fresh start.
        :param done_steps: The checkpoint's timestep: the command trains the steps left after it.
        :return: the command line of this run (RL Zoo's ``train`` through :data:`TRAIN_MODULE`).
        """
        command = [
            python,
            "-m",
            TRAIN_MODULE,
            "--algo",
            self.config.algo,
            "--env",
            self.env_id,
            "--seed",
            str(self.seed),
            "-n",
            str(self.n_timesteps - done_steps),
            "--eval-freq",
            str(self.eval_freq),
            "--eval-episodes",
            str(self.eval_episodes),
            "--n-eval-envs",
            "1",
            "--num-threads",
            "1",
            "--device",
            self.device,
            "-f",
            str(self.folder / "zoo"),
        ]
        if self.checkpoint_freq > 0:
            command += ["--save-freq", str(self.checkpoint_freq), "--save-replay-buffer"]
            command += ["--keep-checkpoints", str(KEEP_CHECKPOINTS)]
        if resume is not None:
            command += ["-i", str(resume)]
        if self.config.hyperparams:
            command += ["--hyperparams", *self.config.hyperparams_args()]
        return command


def make_specs(
    config_names: Sequence[str],
    env_id: str,
    seeds: Sequence[int],
    n_timesteps: int,
    root: Path | str,
    eval_freq: int = 10_000,
    eval_episodes: int = 10,
    device: str = "cpu",
    results: Path | str = "results",
    checkpoint_freq: int = 0,
) -> list[RunSpec]:
    """
    Build the run list, seed-major so that every configuration gets its first seeds early.

    :param config_names: Names from :data:`CONFIGS`.
    :param env_id: Gymnasium environment id.
    :param seeds: Random seeds.
    :param n_timesteps: Training budget per run.
    :param root: Root folder of the runs.
    :param eval_freq: Evaluation frequency in env steps.
    :param eval_episodes: Episodes per evaluation.
    :param device: PyTorch device of the training processes.
    :param results: Results folder (finished runs go to ``<results>/runs/``).
    :param checkpoint_freq: Checkpoint every ``checkpoint_freq`` env steps (0: no checkpoints).
    :return: the run specifications.
    """
    unknown = [name for name in config_names if name not in CONFIGS]
    if unknown:
        raise ValueError(f"config_names={unknown} are unknown, allowed: {sorted(CONFIGS)}")
    if n_timesteps <= 0:
        raise ValueError(f"n_timesteps={n_timesteps} must be > 0")
    if eval_freq <= 0 or eval_episodes <= 0:
        raise ValueError(f"eval_freq={eval_freq} and eval_episodes={eval_episodes} must be > 0")
    if checkpoint_freq < 0:
        raise ValueError(f"checkpoint_freq={checkpoint_freq} must be >= 0 (0: no checkpoints)")
    return [
        RunSpec(
            CONFIGS[name],
            env_id,
            seed,
            n_timesteps,
            eval_freq,
            eval_episodes,
            Path(root),
            device,
            Path(results),
            checkpoint_freq,
        )
        for seed in seeds
        for name in config_names
    ]


def parse_shard(text: str) -> tuple[int, int]:
    """
    :param text: ``"I/K"``: shard ``I`` of ``K``, with ``0 <= I < K`` (a Slurm array task id from 0).
    :return: ``(I, K)``.
    :raises ValueError: naming ``--shard`` and the allowed form.
    """
    parts = text.split("/")
    if len(parts) == 2 and all(part.strip().isdigit() for part in parts):
        index, count = int(parts[0]), int(parts[1])
        if count >= 1 and 0 <= index < count:
            return index, count
    raise ValueError(f"--shard must be I/K with whole numbers 0 <= I < K (e.g. 0/4 ... 3/4), got {text!r}")


def select_shard(specs: Sequence[RunSpec], index: int, count: int) -> list[RunSpec]:
    """
    The runs of shard ``index`` of ``count``: the runs sorted by (environment, configuration, seed, budget), every
    ``count``-th one from position ``index``. The shards of one run list are disjoint, together they hold every run,
    their sizes differ by at most one, and the split depends only on the set of runs, not on their order.

    :param specs: The runs.
    :param index: Shard, ``0 <= index < count``.
    :param count: Number of shards, >= 1.
    :return: the runs of that shard, in their original order.
    """
    if not (count >= 1 and 0 <= index < count):
        raise ValueError(f"shard {index}/{count}: need 0 <= index < count")
    ordered = sorted(specs, key=lambda spec: (spec.env_id, spec.config.name, spec.seed, spec.n_timesteps))
    chosen = {id(spec) for spec in ordered[index::count]}
    return [spec for spec in specs if id(spec) in chosen]


def write_json_atomically(path: Path, content: dict[str, Any]) -> None:
    """Write ``content`` as JSON to ``path`` under a temporary name, then rename it: a reader sees the old or the new file."""
    temporary = path.with_name(path.name + ".partial")
    temporary.write_text(json.dumps(content, indent=2))
    os.replace(temporary, path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@cache
def environment_record(python: str = sys.executable) -> dict[str, Any]:
    """
    What a run's numbers depend on besides its seed: the same seed gives the same run only with the same package
    versions on the same kind of CPU (floating-point rounding differs between CPU code paths, and a training run
    amplifies the smallest difference).

    :param python: The interpreter that trains (recorded by path; the versions are this process's, the runner's,
        which is the training interpreter unless another one is given).
    :return: Python version, interpreter, OS and CPU, and the versions of :data:`RECORDED_PACKAGES`.
    """
    packages: dict[str, str | None] = {}
    for name in RECORDED_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": platform.python_version(),
        "interpreter": python,
        "same_interpreter_as_runner": os.path.realpath(python) == os.path.realpath(sys.executable),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "packages": packages,
    }


def _cpu_model() -> str:
    """:return: the CPU's model name (from /proc/cpuinfo on Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def is_done(spec: RunSpec) -> bool:
    """:return: whether the run finished: its result files exist, or its scratch folder has ``done.json``."""
    return has_result(spec.result_folder) or (spec.folder / DONE_FILE).is_file()


def check_finished_runs(specs: Sequence[RunSpec]) -> None:
    """
    :func:`check_same_overrides` for every finished run of the configurations of ``specs``: every seed in their
    result folders (a report takes them all), and the scratch folders of ``specs``.

    :param specs: The runs.
    :raises MixedResultsError: for the first finished run trained with other overrides than its configuration has now.
    """
    config_folders: dict[Path, BenchmarkConfig] = {}
    for spec in specs:
        config_folders.setdefault(spec.result_folder.parent, spec.config)
        if (spec.folder / DONE_FILE).is_file():
            check_same_overrides(spec.config, json.loads((spec.folder / DONE_FILE).read_text()), spec.folder)
    for config_folder, config in config_folders.items():
        for path in sorted(config_folder.glob(f"seed_*/{RESULT_FILE}")):
            check_same_overrides(config, json.loads(path.read_text()), path.parent)


def collect_finished(specs: Sequence[RunSpec]) -> int:
    """
    Copy the result files of every run finished in its scratch folder but missing from its result folder
    (e.g. finished by an older runner, or the result folder was deleted).

    :param specs: The runs.
    :return: how many runs were collected.
    """
    return sum(
        collect_result(spec.folder, spec.result_folder)
        for spec in specs
        if (spec.folder / DONE_FILE).is_file() and not has_result(spec.result_folder)
    )


_LOG_ROW = re.compile(r"^\|\s+(total_timesteps|n_checkpoints)\s+\|\s+([-+.\deE]+)\s+\|")


def checkpoint_counts(log: Path, every: int = 5000) -> list[list[int]]:
    """
    The policy checkpoints a run had taken along its training, read from the logger's tables in its ``train.log``
    (``time/total_timesteps`` and ``train/n_checkpoints`` of each table). A resumed run's log holds every segment; where
    a segment restarted from a checkpoint behind the last logged step, the rows past it are dropped.

    :param log: The run's ``train.log``.
    :param every: Keep the last row of each span of this many env steps (and the last row).
    :return: ``[env steps, checkpoints taken]`` pairs in order of env steps; empty for a run without checkpoints.
    """
    if not log.is_file():
        return []
    rows: list[list[int]] = []
    table: dict[str, float] = {}
    with open(log, errors="replace") as file:
        for line in file:
            match = _LOG_ROW.match(line)
            if match:
                table[match.group(1)] = float(match.group(2))
            elif line.startswith("---") and table:
                if "total_timesteps" in table and "n_checkpoints" in table:
                    steps = int(table["total_timesteps"])
                    while rows and rows[-1][0] >= steps:
                        rows.pop()
                    rows.append([steps, int(table["n_checkpoints"])])
                table = {}
    thinned = [row for row, following in itertools.pairwise(rows) if row[0] // every != following[0] // every]
    return thinned + rows[-1:]


def collect_result(scratch: Path, destination: Path) -> bool:
    """
    Copy the small result files of a finished run from its scratch folder to its result folder:
    ``evaluations.npz``, RL Zoo's ``config.yml`` and the ``done.json`` record (as ``run.json``).

    :param scratch: Scratch folder of the run (with ``done.json`` and RL Zoo's ``zoo/`` log folder).
    :param destination: Result folder, created if needed.
    :return: whether the run was finished and its files were copied.
    """
    done = scratch / DONE_FILE
    evaluations = sorted(scratch.glob("zoo/*/*/evaluations.npz"))
    if not done.is_file() or not evaluations:
        return False
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(evaluations[0], destination / RESULT_EVALUATIONS)
    configs = sorted(scratch.glob("zoo/*/*/*/config.yml"))
    if configs:
        shutil.copyfile(configs[0], destination / RESULT_CONFIG)
    # The record last: a result folder counts as finished once run.json is there
    shutil.copyfile(done, destination / RESULT_FILE)
    return True


def claim_holder(folder: Path) -> int | None:
    """:return: the pid of a live process holding the claim on a run folder, else None."""
    try:
        claim = json.loads((folder / CLAIM_FILE).read_text())
    except (OSError, ValueError):
        return None
    for key in ("child_pid", "runner_pid"):
        pid = claim.get(key)
        if isinstance(pid, int) and _pid_alive(pid):
            return pid
    return None


def count_live_claims(root: Path) -> int:
    """:return: how many run folders under ``root`` are claimed by live processes."""
    return sum(claim_holder(path.parent) is not None for path in root.glob(f"*/*/*/{CLAIM_FILE}"))


@contextmanager
def _global_lock(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".scheduler.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def read_progress(spec: RunSpec) -> int:
    """:return: env steps done so far by a run, from the episode lengths of its training monitor file."""
    steps = 0
    for monitor in spec.folder.glob("zoo/*/*/*.monitor.csv"):
        try:
            with open(monitor) as file:
                for line in file:
                    if line[:1].isdigit() or line[:1] == "-":
                        fields = line.split(",")
                        if len(fields) >= 2:
                            steps += int(fields[1])
        except (OSError, ValueError):
            pass
    return steps


@dataclass(frozen=True)
class ResumePoint:
    """
    Where a killed run carries on: a whole checkpoint, moved to the run's ``resume/`` folder.

    :param model: The checkpoint's model zip.
    :param timesteps: Its timestep.
    :param previous: The run's resume record so far (``resume.json``): the wall time of the segments before and the
        earlier resumes.
    """

    model: Path
    timesteps: int
    previous: dict[str, Any]


def _segment_identity(spec: RunSpec) -> dict[str, Any]:
    # What a checkpoint must have been trained as for the run to resume from it
    return {
        "algo": spec.config.algo,
        "hyperparams": spec.config.hyperparams,
        "n_timesteps": spec.n_timesteps,
        "eval_freq": spec.eval_freq,
        "eval_episodes": spec.eval_episodes,
    }


def _checkpoint_candidates(folder: Path) -> list[tuple[int, str]]:
    # Manifests of a run's checkpoints (newest first), where a resume may find them; not verified
    places = [folder / RESUME_FOLDER, folder / f"{RESUME_FOLDER}.partial", *sorted(folder.glob("zoo/*/*"))]
    return sorted((entry for place in places if place.is_dir() for entry in checkpoint_manifests(str(place))), reverse=True)


def newest_checkpoint_step(spec: RunSpec) -> int:
    """:return: the timestep of a run's newest checkpoint below its budget (the one a resume would try first, not
    verified), 0 when it has none."""
    return max((steps for steps, _ in _checkpoint_candidates(spec.folder) if steps < spec.n_timesteps), default=0)


def find_checkpoint(
    folder: Path, emit: Callable[[str], None] = lambda _line: None, before: int | None = None
) -> tuple[Path, int] | None:
    """
    The newest whole checkpoint of a run: in its ``resume/`` folder (the one it last resumed from) or in RL Zoo's log
    folder of the segment that was running. A checkpoint whose files do not match its manifest (cut short, altered) is
    announced, deleted, and the one before it is tried.

    :param folder: The run's scratch folder.
    :param emit: Called with a line for each damaged checkpoint.
    :param before: Only checkpoints of fewer timesteps than this (the budget: one taken at the end of training leaves
        nothing to resume, and RL Zoo would read ``-n 0`` as "the yml file's budget").
    :return: the model zip of the checkpoint and its timestep, or None when there is none.
    """
    for steps, manifest in _checkpoint_candidates(folder):
        if before is not None and steps >= before:
            continue
        try:
            content = verify_checkpoint(manifest)
        except CheckpointError as error:
            emit(f"{folder}: the checkpoint at {steps} steps is damaged ({error}); trying the one before it")
            remove_checkpoint(manifest)
            continue
        return Path(manifest).parent / content["model"], steps
    return None


def prepare_resume(spec: RunSpec, emit: Callable[[str], None] = lambda _line: None) -> ResumePoint | None:
    """
    Make the scratch folder of a killed (or failed) run ready to carry on from its newest whole checkpoint
    (:func:`find_checkpoint`): the checkpoint is moved to ``resume/``, the dead segment's RL Zoo folder removed.
    Without a checkpoint, or with one trained as another configuration, the folder is wiped and the run starts again.

    :param spec: The run.
    :param emit: Called with one line saying what was done.
    :return: where the run resumes, or None for a fresh start.
    """
    folder = spec.folder
    record_path = folder / RESUME_FILE
    try:
        record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    except ValueError:
        record = {}
    identity = _segment_identity(spec)
    point = find_checkpoint(folder, emit, before=spec.n_timesteps) if record.get("identity", identity) == identity else None
    if point is None:
        emit(f"{spec.name}: no checkpoint to resume from, starting again from step 0")
        shutil.rmtree(folder)
        return None
    model, steps = point
    resume = folder / RESUME_FOLDER
    if model.parent != resume:
        # Files first, manifest last, into a staging folder that then replaces resume/ in one rename
        staging = folder / f"{RESUME_FOLDER}.partial"
        if staging != model.parent:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            manifest = Path(manifest_path(str(model)) or "")
            for name in json.loads(manifest.read_text())["files"]:
                os.replace(model.parent / name, staging / name)
            os.replace(manifest, staging / manifest.name)
        shutil.rmtree(resume, ignore_errors=True)
        os.replace(staging, resume)
        model = resume / model.name
    shutil.rmtree(folder / "zoo", ignore_errors=True)
    # The dead segment's time counts: from its start to the last line of its log
    segment_start = record.get("segment_start")
    log = folder / LOG_FILE
    if isinstance(segment_start, (int, float)) and log.is_file():
        record["wall_time_s"] = record.get("wall_time_s", 0.0) + max(log.stat().st_mtime - segment_start, 0.0)
    emit(f"{spec.name}: resuming from the checkpoint at {steps} of {spec.n_timesteps} steps ({model})")
    return ResumePoint(model, steps, record)


def remove_checkpoints(folder: Path) -> None:
    """Delete the checkpoints and replay buffers of a finished run's scratch folder (hundreds of MB each); the models
    (final and best) stay."""
    for place in [folder / RESUME_FOLDER, *folder.glob("zoo/*/*")]:
        for _, manifest in checkpoint_manifests(str(place)) if place.is_dir() else []:
            remove_checkpoint(manifest)
    shutil.rmtree(folder / RESUME_FOLDER, ignore_errors=True)
    for buffer in folder.glob("zoo/*/*/replay_buffer.pkl"):
        buffer.unlink()


class _Running:
    def __init__(self, spec: RunSpec, python: str, extra_env: dict[str, str], resume: ResumePoint | None = None) -> None:
        self.spec = spec
        folder = spec.folder
        folder.mkdir(parents=True, exist_ok=True)
        self.command = spec.command(python)
        # What runs now (a resumed run trains the steps left after its checkpoint); the record keeps the whole run's
        self.launched = self.command if resume is None else spec.command(python, resume.model, resume.timesteps)
        env = {**os.environ, **extra_env}
        self.log = open(folder / LOG_FILE, "w" if resume is None else "a")
        self.log.write("$ " + " ".join(self.launched) + "\n")
        self.log.flush()
        self.start = time.time()
        # Env steps done before this segment: the progress line counts from there, not from 0
        self.start_steps = 0 if resume is None else resume.timesteps
        self.last_progress = (self.start, self.start_steps)
        self.resume_record: dict[str, Any] = {} if resume is None else dict(resume.previous)
        if resume is not None:
            self.resume_record.setdefault("resumes", []).append(
                {
                    "from_timestep": resume.timesteps,
                    "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                    "checkpoint": str(resume.model.relative_to(folder)),
                }
            )
        self.resume_record.update(identity=_segment_identity(spec), segment_start=self.start)
        write_json_atomically(folder / RESUME_FILE, self.resume_record)
        self.process = subprocess.Popen(self.launched, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.stop_sent: float | None = None
        self._write_claim()

    def _write_claim(self) -> None:
        claim = {"runner_pid": os.getpid(), "child_pid": self.process.pid, "start": self.start}
        (self.spec.folder / CLAIM_FILE).write_text(json.dumps(claim))

    def finish(self, returncode: int) -> dict[str, Any]:
        # A resumed run's wall time includes its earlier segments (their steps after the last checkpoint included)
        wall = time.time() - self.start + self.resume_record.get("wall_time_s", 0.0)
        self.log.close()
        record: dict[str, Any] = {
            "config": self.spec.config.name,
            "algo": self.spec.config.algo,
            "hyperparams": self.spec.config.hyperparams,
            "env_id": self.spec.env_id,
            "seed": self.spec.seed,
            "n_timesteps": self.spec.n_timesteps,
            "eval_freq": self.spec.eval_freq,
            "eval_episodes": self.spec.eval_episodes,
            "device": self.spec.device,
            "returncode": returncode,
            "wall_time_s": wall,
            "env_steps_per_s": self.spec.n_timesteps / wall if wall > 0 else float("nan"),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": self.command,
            "environment": environment_record(self.command[0]),
        }
        if self.resume_record.get("resumes"):
            # Not bit-identical to an uninterrupted run: the envs restart from a reset, the random state is reseeded
            record["resumed"] = self.resume_record["resumes"]
        counts = checkpoint_counts(self.spec.folder / LOG_FILE)
        if counts:
            # Policy checkpoints (TD7, td3x_ckpt*): how many had been taken at each env step, for the report's
            # "what the run deploys"
            record["checkpoint_counts"] = counts
        evaluations = list(self.spec.folder.glob("zoo/*/*/evaluations.npz"))
        ok = returncode == 0 and len(evaluations) > 0
        (self.spec.folder / (DONE_FILE if ok else FAILED_FILE)).write_text(json.dumps(record, indent=2))
        if ok:
            collect_result(self.spec.folder, self.spec.result_folder)
            remove_checkpoints(self.spec.folder)
        (self.spec.folder / CLAIM_FILE).unlink(missing_ok=True)
        record["ok"] = ok
        return record

    def request_stop(self) -> None:
        """Ask the training process to write a checkpoint at the end of its iteration and exit (SIGUSR1); a run
        without checkpoints has nothing to keep and is terminated."""
        self.stop_sent = time.time()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGUSR1 if self.spec.checkpoint_freq > 0 else signal.SIGTERM)

    def stopped(self, returncode: int) -> bool:
        """:return: whether the process ended as asked by :meth:`request_stop` (with its checkpoint written, before
        it had loaded anything to train by SIGUSR1's default action, or terminated for want of checkpoints); then its
        claim is released."""
        if self.stop_sent is None or returncode not in (STOPPED_EXIT_CODE, -signal.SIGUSR1, -signal.SIGTERM):
            return False
        self._release()
        return True

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._release()

    def _release(self) -> None:
        # The run's process is gone without a record: close its log, free its folder for the next invocation
        self.log.close()
        (self.spec.folder / CLAIM_FILE).unlink(missing_ok=True)


@dataclass(frozen=True)
class RunStatus:
    """
    Where one run of an experiment stands, read from its folders without changing them (:func:`run_status`).

    :param spec: The run.
    :param state: ``"finished"``, ``"running"`` (a live process holds its claim), ``"stopped"`` (it has a checkpoint
        to resume from) or ``"not started"`` (nothing to resume from: a next invocation starts it from step 0).
    :param steps: Env steps done (the budget for a finished run; for a stopped run, those of its checkpoint).
    :param checkpoint: Timestep of its newest checkpoint (not verified; 0 when it has none).
    :param pid: The live process of a running run.
    """

    spec: RunSpec
    state: str
    steps: int
    checkpoint: int = 0
    pid: int | None = None

    def describe(self) -> str:
        """:return: one line for people: the run, its state and its steps."""
        budget = self.spec.n_timesteps
        if self.state == "finished":
            where = "result files" if has_result(self.spec.result_folder) else "scratch folder only, not collected"
            return f"{self.spec.name}: finished ({where})"
        if self.state == "running":
            checkpoint = f", last checkpoint {self.checkpoint:,}" if self.checkpoint else ", no checkpoint yet"
            return f"{self.spec.name}: running (pid {self.pid}), {self.steps:,} of {budget:,} steps{checkpoint}"
        if self.state == "stopped":
            return f"{self.spec.name}: stopped, resumes from its checkpoint at {self.checkpoint:,} of {budget:,} steps"
        return f"{self.spec.name}: not started"


def run_status(spec: RunSpec) -> RunStatus:
    """
    :param spec: The run.
    :return: where it stands (:class:`RunStatus`), read without verifying, moving or deleting anything, so that it
        can be asked while the experiment runs.
    """
    if is_done(spec):
        return RunStatus(spec, "finished", spec.n_timesteps)
    checkpoint = newest_checkpoint_step(spec)
    pid = claim_holder(spec.folder)
    if pid is not None:
        return RunStatus(spec, "running", max(read_progress(spec), checkpoint), checkpoint, pid)
    if checkpoint > 0:
        return RunStatus(spec, "stopped", checkpoint, checkpoint)
    return RunStatus(spec, "not started", 0)


def status_report(specs: Sequence[RunSpec], jobs: int) -> list[str]:
    """
    :param specs: The runs of an experiment.
    :param jobs: Runs at a time, for the estimate of the time left.
    :return: lines saying where each run stands, then a summary: counts, env steps left and an estimate of the
        wall-clock hours they take at ``jobs`` runs at a time (:func:`estimate_seconds`, for the part of each run left).
    """
    statuses = [run_status(spec) for spec in specs]
    lines = [status.describe() for status in statuses]
    counts = {state: sum(status.state == state for status in statuses) for state in RUN_STATES}
    left = sum(status.spec.n_timesteps - status.steps for status in statuses)
    total = sum(spec.n_timesteps for spec in specs)
    seconds = sum(
        estimate_seconds(status.spec) * (status.spec.n_timesteps - status.steps) / status.spec.n_timesteps
        for status in statuses
    )
    summary = ", ".join(f"{count} {state}" for state, count in counts.items())
    lines.append(
        f"{len(specs)} runs: {summary}; {left:,} of {total:,} env steps left, "
        f"about {seconds / 3600 / max(jobs, 1):.1f} h at {jobs} run(s) at a time"
    )
    return lines


def estimate_seconds(spec: RunSpec, default_rate: float = DEFAULT_STEPS_PER_S) -> float:
    """
    Wall-clock time a run is expected to take: the median wall time of the finished runs (result files) of the same
    configuration, environment and budget; else of any configuration on that environment and budget, each scaled
    from its configuration's ``relative_cost`` to this one's; else the budget at ``default_rate`` env steps per second
    (times the ``relative_cost``).

    :param spec: The run.
    :param default_rate: Env steps per second assumed for a ``td3`` run when no comparable run has finished.
    :return: the expected duration in seconds.
    """
    same_config: list[float] = []
    same_budget: list[float] = []
    for path in (spec.results / "runs" / spec.key).glob(f"*/seed_*/{RESULT_FILE}"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if record.get("n_timesteps") != spec.n_timesteps or not isinstance(record.get("wall_time_s"), (int, float)):
            continue
        if record.get("config") == spec.config.name:
            same_config.append(float(record["wall_time_s"]))
        config = CONFIGS.get(record.get("config", ""))
        cost = config.relative_cost if config is not None else 1.0
        same_budget.append(float(record["wall_time_s"]) * spec.config.relative_cost / cost)
    for walls in (same_config, same_budget):
        if walls:
            return float(np.median(walls))
    return spec.n_timesteps / default_rate * spec.config.relative_cost


def run_all(
    specs: Sequence[RunSpec],
    jobs: int,
    python: str = sys.executable,
    on_event: Callable[[str], None] | None = None,
    progress_interval: float = 60.0,
    poll_interval: float = 1.0,
    deadline: float | None = None,
    default_rate: float = DEFAULT_STEPS_PER_S,
    stop: threading.Event | None = None,
) -> list[dict[str, Any]]:
    """
    Run every unfinished spec, at most ``jobs`` at a time across all runners sharing the same root.

    Finished runs (``done.json``) are skipped; a run folder left by a killed or failed run resumes from its newest
    whole checkpoint (:func:`prepare_resume`), or is wiped and restarts from scratch when it has none. Runs claimed by
    another live runner are left to it.

    :param specs: The runs.
    :param jobs: Maximum number of concurrent training processes (one core each).
    :param python: Python interpreter for the subprocesses.
    :param on_event: Called with one line for every start, finish and progress report.
    :param progress_interval: Seconds between progress reports.
    :param poll_interval: Seconds between polls of the subprocesses.
    :param deadline: Time (``time.time()``) at which the machine goes: :data:`STOP_MARGIN_S` before it the running
        runs are stopped as by ``stop``; a run with checkpoints starts if it has :data:`MIN_SEGMENT_S` to train before
        that (it writes a checkpoint where it stops), one without if its expected duration (:func:`estimate_seconds`)
        fits. None: no limit.
    :param default_rate: Env steps per second assumed for the estimate when no comparable run has finished.
    :param stop: Once set (e.g. by a signal handler), no run is started and each running run writes a checkpoint at
        the end of its current iteration and exits (a run without checkpoints is terminated; one that takes longer
        than :data:`STOP_TIMEOUT_S` too); the next invocation resumes them from there.
    :return: the records of the runs finished (or failed) by this call; runs stopped are not among them.
    :raises MixedResultsError: when a finished run was trained with other overrides than its configuration has now
        (before any run starts).
    """
    if jobs < 1:
        raise ValueError(f"jobs={jobs} must be >= 1")
    if not default_rate > 0:
        raise ValueError(f"default_rate={default_rate} must be > 0")
    emit = on_event or (lambda _line: None)
    # One core per run: intra-op threading only slows small MLPs down when runs share the machine.
    thread_env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    # Before anything is trained: finished runs of an older version of a configuration are not its runs
    check_finished_runs(specs)
    collect_finished(specs)
    pending = [spec for spec in specs if not is_done(spec)]
    skipped = len(specs) - len(pending)
    if skipped:
        emit(f"{skipped}/{len(specs)} runs already finished, skipped")
    roots = {spec.root for spec in specs}
    running: list[_Running] = []
    records: list[dict[str, Any]] = []
    last_report = 0.0
    stopping: float | None = None
    try:
        while pending or running:
            if deadline is not None:
                pending = _drop_late(pending, deadline, default_rate, emit)
            if stopping is None and _stop_due(stop, deadline):
                stopping = time.time()
                if running or pending:
                    emit(f"stopping: {len(running)} running run(s) asked to write a checkpoint and exit, none started")
                pending = []
                for run in running:
                    run.request_stop()
            elif stopping is not None and time.time() - stopping > STOP_TIMEOUT_S:
                for run in running:
                    emit(f"{run.spec.name} did not stop within {STOP_TIMEOUT_S:.0f}s: terminated")
                    run.terminate()
                running = []
            records += _reap(running, emit)
            pending = _start_pending(pending, running, roots, jobs, python, thread_env, emit)
            now = time.time()
            if running and now - last_report >= progress_interval:
                last_report = now
                emit(_progress_line(specs, running))
            time.sleep(poll_interval)
    finally:
        for run in running:
            run.terminate()
    return records


def _start_pending(
    pending: list[RunSpec],
    running: list[_Running],
    roots: set[Path],
    jobs: int,
    python: str,
    thread_env: dict[str, str],
    emit: Callable[[str], None],
) -> list[RunSpec]:
    """Start pending runs while slots are free (appending them to ``running``); :return: the runs still pending
    (less those that another live runner holds, once nothing else is left for this one)."""
    while pending:
        started = _start_next(pending, roots, jobs, python, thread_env, emit)
        if started is None:
            break
        running.append(started)
        emit(f"{started.spec.name} started: {' '.join(started.launched)}")
    if not running and pending and all(claim_holder(spec.folder) is not None for spec in pending):
        # Every pending run is held by another live runner: leave those to it
        pending = [spec for spec in pending if claim_holder(spec.folder) is None and not is_done(spec)]
    return pending


def _stop_due(stop: threading.Event | None, deadline: float | None) -> bool:
    """:return: whether the runs must stop now: asked to, or the deadline is less than :data:`STOP_MARGIN_S` away."""
    return (stop is not None and stop.is_set()) or (deadline is not None and time.time() >= deadline - STOP_MARGIN_S)


def _reap(running: list[_Running], emit: Callable[[str], None]) -> list[dict[str, Any]]:
    """
    Take the runs whose process has ended out of ``running`` and say how each ended.

    :return: the records of those that finished or failed; a run stopped at a checkpoint has none (it goes on later).
    """
    records = []
    for run in list(running):
        returncode = run.process.poll()
        if returncode is None:
            continue
        running.remove(run)
        if run.stopped(returncode):
            point = newest_checkpoint_step(run.spec)
            where = f"its checkpoint at {point:,} steps" if point else "step 0 (no checkpoint yet)"
            emit(f"{run.spec.name} stopped; the next invocation resumes it from {where}")
            continue
        record = run.finish(returncode)
        records.append(record)
        status = "done" if record["ok"] else f"FAILED (rc={returncode}, see {run.spec.folder / LOG_FILE})"
        emit(f"{run.spec.name} {status} in {record['wall_time_s']:.0f}s, {record['env_steps_per_s']:.1f} env steps/s")
    return records


def _drop_late(pending: list[RunSpec], deadline: float, default_rate: float, emit: Callable[[str], None]) -> list[RunSpec]:
    """:return: the pending runs expected to finish before ``deadline``; the others are announced and dropped."""
    kept = []
    left = deadline - STOP_MARGIN_S - time.time()
    for spec in pending:
        needed = estimate_seconds(spec, default_rate)
        if spec.checkpoint_freq > 0:
            # A run with checkpoints keeps what it trains until the stop (it checkpoints there), and a later
            # invocation carries on from it: worth starting with a few minutes to go
            needed = min(needed, MIN_SEGMENT_S)
        if needed <= left:
            kept.append(spec)
        else:
            emit(f"{spec.name} not started: expected to take {needed / 60:.1f} min, {max(left, 0) / 60:.1f} min left")
    return kept


def _start_next(
    pending: list[RunSpec],
    roots: set[Path],
    jobs: int,
    python: str,
    thread_env: dict[str, str],
    emit: Callable[[str], None] = lambda _line: None,
) -> _Running | None:
    for root in roots:
        root.mkdir(parents=True, exist_ok=True)
    lock_root = min(roots)
    with _global_lock(lock_root):
        if sum(count_live_claims(root) for root in roots) >= jobs:
            return None
        for spec in list(pending):
            if is_done(spec):
                pending.remove(spec)
                continue
            if claim_holder(spec.folder) is not None:
                continue
            pending.remove(spec)
            # Left by a killed or failed run: carry on from its last checkpoint, or start again
            resume = prepare_resume(spec, emit) if spec.folder.exists() else None
            return _Running(spec, python, thread_env, resume)
    return None


def _progress_line(specs: Sequence[RunSpec], running: Sequence[_Running]) -> str:
    done = sum(is_done(spec) for spec in specs)
    parts = []
    for run in running:
        # A resumed run's monitor file is back only once its training process has loaded the checkpoint
        steps, now = max(read_progress(run.spec), run.start_steps), time.time()
        # Rate since the last report: the random warm-up steps at the start are much faster than training, and a
        # resumed run's first report must not count the steps before its checkpoint as done in this interval
        last_time, last_steps = run.last_progress
        rate = (steps - last_steps) / (now - last_time) if now > last_time else 0.0
        run.last_progress = (now, steps)
        eta = (run.spec.n_timesteps - steps) / rate if rate > 0 else float("nan")
        parts.append(f"{run.spec.name} {steps}/{run.spec.n_timesteps} ({rate:.0f}/s, eta {eta / 60:.0f} min)")
    return f"[{time.strftime('%H:%M:%S')}] {done}/{len(specs)} done, {len(running)} running: " + "; ".join(parts)
