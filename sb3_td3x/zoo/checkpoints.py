"""
Checkpoints of an RL Zoo run that a later process can resume from, even after the run was killed (SIGKILL).

A checkpoint of timestep ``N`` is a set of files next to each other in the run's log folder, all named after SB3's
``CheckpointCallback`` scheme (``<prefix>_<N>_steps.zip`` and ``<prefix>_<kind>_<N>_steps.<ext>``):

- the model zip, the replay buffer (``--save-replay-buffer``) and the ``VecNormalize`` statistics, as SB3 writes them;
- ``<prefix>_evaluations_<N>_steps.npz``: the evaluations of RL Zoo's ``EvalCallback`` so far (``timesteps``,
  ``results``, ``ep_lengths``), so that a resumed run's ``evaluations.npz`` carries on from them;
- ``<prefix>_monitor_<rank>_<N>_steps.csv``: the training env's ``Monitor`` file(s) up to ``N``;
- ``<prefix>_<N>_steps.json``: the manifest, written last: the size and SHA-256 of every other file. A checkpoint
  counts only once its manifest is there and every file matches it (:func:`verify_checkpoint`).

Each file is written under a temporary name, then renamed, so a process killed at any moment leaves whole files;
the manifest also catches what renaming cannot (a file truncated or altered afterwards, a disk that filled up).
"""

from __future__ import annotations

import functools
import glob
import hashlib
import json
import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback

MONITOR_SUFFIX = ".monitor.csv"
# Monitor rows of the segments before a resume, written next to the resumed run's own monitor file
PREVIOUS_MONITOR_SUFFIX = ".previous" + MONITOR_SUFFIX

_CHECKPOINT_ZIP = re.compile(r"(?P<prefix>.+)_(?P<steps>\d+)_steps\.zip")
_MANIFEST = re.compile(r"(?P<prefix>.+)_(?P<steps>\d+)_steps\.json")


class CheckpointError(ValueError):
    """A checkpoint is incomplete or damaged: it names the file and what is wrong."""


def write_atomically(save: Callable[[str], Any], path: str) -> None:
    """Call ``save`` on a temporary name next to ``path``, then rename it to ``path`` in one step."""
    temporary_path = f"{path}.partial"
    save(temporary_path)
    os.replace(temporary_path, path)


def checkpoint_companion(model_path: str, checkpoint_type: str, extension: str = "pkl") -> str | None:
    """
    The file that a checkpoint callback writes next to a checkpoint, e.g. ``rl_model_replay_buffer_500_steps.pkl``
    for ``rl_model_500_steps.zip`` and ``checkpoint_type="replay_buffer_"``.

    :param model_path: Path of a model zip file
    :param checkpoint_type: ``"replay_buffer_"``, ``"vecnormalize_"``, ``"evaluations_"``, ``"monitor_<rank>_"``
    :param extension: Extension of the companion (``"pkl"``, ``"npz"``, ``"csv"``, or ``"json"`` for the manifest)
    :return: the companion path, or None when ``model_path`` is not a checkpoint (a final or best model)
    """
    match = _CHECKPOINT_ZIP.fullmatch(os.path.basename(model_path))
    if match is None:
        return None
    name = f"{match['prefix']}_{checkpoint_type}{match['steps']}_steps.{extension}"
    return os.path.join(os.path.dirname(model_path), name)


def manifest_path(model_path: str) -> str | None:
    """:return: the manifest of the checkpoint ``model_path`` (``<prefix>_<N>_steps.json``), None if not a checkpoint."""
    return checkpoint_companion(model_path, "", "json")


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(model_path: str, num_timesteps: int, files: list[str]) -> str:
    """
    Write the manifest of a checkpoint, last: it lists every file of the checkpoint with its size and SHA-256.

    :param model_path: The checkpoint's model zip.
    :param num_timesteps: The timestep of the checkpoint.
    :param files: The checkpoint's files (the model zip included), all in the folder of ``model_path``.
    :return: the manifest's path.
    """
    path = manifest_path(model_path)
    assert path is not None, f"{model_path} is not named as a checkpoint"
    manifest = {
        "num_timesteps": int(num_timesteps),
        "model": os.path.basename(model_path),
        "files": {os.path.basename(file): {"bytes": os.path.getsize(file), "sha256": _sha256(file)} for file in files},
    }

    def save(temporary: str) -> None:
        with open(temporary, "w") as file:
            json.dump(manifest, file, indent=1)
            file.flush()
            os.fsync(file.fileno())

    write_atomically(save, path)
    return path


def verify_checkpoint(manifest: str) -> dict[str, Any]:
    """
    Check a checkpoint against its manifest: every file listed is there, with the size and SHA-256 recorded.

    :param manifest: Path of the checkpoint's manifest (``<prefix>_<N>_steps.json``).
    :return: the manifest (``num_timesteps``, ``model``, ``files``).
    :raises CheckpointError: naming the first file that is missing, truncated or altered, or a damaged manifest.
    """
    try:
        with open(manifest) as file:
            content = json.load(file)
        files = content["files"]
        model = content["model"]
        int(content["num_timesteps"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CheckpointError(f"manifest {manifest} is unreadable ({error})") from None
    if model not in files:
        raise CheckpointError(f"manifest {manifest} does not list its model {model}")
    folder = os.path.dirname(manifest)
    for name, expected in files.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            raise CheckpointError(f"{path} is missing")
        size = os.path.getsize(path)
        if size != expected["bytes"]:
            raise CheckpointError(f"{path} has {size} bytes, the manifest says {expected['bytes']} (truncated)")
        if _sha256(path) != expected["sha256"]:
            raise CheckpointError(f"{path} does not match its SHA-256 in the manifest (damaged)")
    return content


def checkpoint_manifests(folder: str) -> list[tuple[int, str]]:
    """:return: ``(timestep, manifest path)`` of every checkpoint manifest in ``folder``, newest first."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(folder), "*_steps.json")):
        match = _MANIFEST.fullmatch(os.path.basename(path))
        if match is not None:
            found.append((int(match["steps"]), path))
    return sorted(found, reverse=True)


def remove_checkpoint(manifest: str) -> None:
    """Delete a checkpoint: its manifest first (a half-deleted checkpoint is never taken for a whole one), then its files."""
    try:
        with open(manifest) as file:
            names = list(json.load(file).get("files", {}))
    except (OSError, ValueError, AttributeError):
        names = []
    os.remove(manifest)
    for name in names:
        try:
            os.remove(os.path.join(os.path.dirname(manifest), name))
        except FileNotFoundError:
            pass


def save_evaluations(eval_callback: EvalCallback, path: str) -> None:
    """Write what ``eval_callback`` has evaluated so far, as SB3's ``EvalCallback`` writes its ``evaluations.npz``."""
    extra: dict[str, Any] = {}
    if eval_callback.evaluations_successes:
        extra["successes"] = eval_callback.evaluations_successes
    with open(path, "wb") as file:
        np.savez(
            file,
            timesteps=np.asarray(eval_callback.evaluations_timesteps, dtype=np.int64),
            results=np.asarray(eval_callback.evaluations_results),
            ep_lengths=np.asarray(eval_callback.evaluations_length),
            **extra,
        )


def restore_evaluations(eval_callback: EvalCallback, path: str, num_timesteps: int) -> int:
    """
    Give ``eval_callback`` the evaluations of a checkpoint, so that it writes them back into its ``evaluations.npz``
    ahead of its own and keeps the best mean return of the run so far (``best_model.zip`` is saved on improvement).

    :param eval_callback: The resumed run's evaluation callback, before its first evaluation.
    :param path: The checkpoint's evaluations (``<prefix>_evaluations_<N>_steps.npz``).
    :param num_timesteps: The checkpoint's timestep: evaluations after it are not kept (none are, normally).
    :return: how many evaluations were restored.
    """
    with np.load(path) as data:
        keep = data["timesteps"] <= num_timesteps
        timesteps = data["timesteps"][keep]
        results = data["results"][keep]
        lengths = data["ep_lengths"][keep]
        successes = data["successes"][keep] if "successes" in data.files else None
    eval_callback.evaluations_timesteps = [int(step) for step in timesteps]
    eval_callback.evaluations_results = [list(row) for row in results]
    eval_callback.evaluations_length = [list(row) for row in lengths]
    if successes is not None:
        eval_callback.evaluations_successes = [list(row) for row in successes]
    if len(results):
        means = results.mean(axis=1)
        eval_callback.best_mean_reward = float(means.max())
        eval_callback.last_mean_reward = float(means[-1])
    return len(timesteps)


def monitor_rows(path: str) -> tuple[list[str], list[str]]:
    """:return: the header lines (``#{...}`` and the column names) and the episode rows of a ``Monitor`` file."""
    with open(path) as file:
        lines = file.read().splitlines()
    header = [line for line in lines[:2] if line.startswith("#") or line.startswith("r,")]
    rows = lines[len(header) :]
    # A row cut short by a kill (no newline yet) is not an episode
    return header, [row for row in rows if row.count(",") == header[-1].count(",")] if header else rows


class ResumableCheckpointCallback(CheckpointCallback):
    """
    SB3's ``CheckpointCallback`` (same arguments, same file names), made for resuming after a crash.

    - The checkpoint of step ``N`` is written between two iterations of ``learn()``: after the transition of
      step ``N`` is in the replay buffer and the gradient steps that follow it are done, before step ``N + 1``
      (SB3's callback saves inside step ``N``, before its transition is stored). Model, replay buffer and
      timestep count then agree, and a run resumed from the checkpoint goes on exactly from there.
    - Each file appears whole or not at all: it is written under a temporary name, then renamed; the model zip, then
      the manifest, last (see the module docstring). A process killed at any moment, even with SIGKILL, leaves every
      checkpoint with a manifest complete.
    - With an :attr:`eval_callback` and :attr:`monitor_folder` (RL Zoo's run, :func:`sb3_td3x.zoo.patch_exp_manager`),
      the evaluations and the training monitor so far are part of the checkpoint.
    - A subclass may write one at the end of any iteration: :meth:`save_checkpoint` called from
      ``_on_rollout_start`` (e.g. to end a run where it stands when it is asked to stop).

    :param save_freq: Save checkpoints every ``save_freq`` call of the callback.
    :param save_path: Path to the folder where the model will be saved.
    :param name_prefix: Common prefix to the saved models
    :param save_replay_buffer: Save the model replay buffer
    :param save_vecnormalize: Save the ``VecNormalize`` statistics
    :param verbose: Verbosity level (kept for compatibility: nothing is printed)
    :param keep_last: Keep only the newest ``keep_last`` checkpoints of this callback, deleting older ones (each
        holds a copy of the replay buffer); None keeps all, as SB3's callback does.
    """

    def __init__(
        self,
        save_freq: int,
        save_path: str,
        name_prefix: str = "rl_model",
        save_replay_buffer: bool = False,
        save_vecnormalize: bool = False,
        verbose: int = 0,
        keep_last: int | None = None,
    ):
        if keep_last is not None and keep_last < 1:
            raise ValueError(f"keep_last must be >= 1 or None (keep all), got {keep_last}")
        super().__init__(save_freq, save_path, name_prefix, save_replay_buffer, save_vecnormalize, verbose)
        self.keep_last = keep_last
        self.checkpoint_due = False
        #: The run's evaluation callback, whose evaluations go into each checkpoint
        self.eval_callback: EvalCallback | None = None
        #: Folder of the training env's ``<rank>.monitor.csv`` files, copied into each checkpoint
        self.monitor_folder: str | None = None

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            self.checkpoint_due = True
        return True

    def _on_rollout_start(self) -> None:
        # Between two iterations: the transitions of the last one and their gradient steps are done
        if self.checkpoint_due:
            self.save_checkpoint()

    def _on_training_end(self) -> None:
        if self.checkpoint_due:
            self.save_checkpoint()

    def save_checkpoint(self) -> None:
        """Write the checkpoint of the current timestep: companions, the model zip, then the manifest."""
        self.checkpoint_due = False
        files = []
        if self.save_replay_buffer and getattr(self.model, "replay_buffer", None) is not None:
            files.append(self._checkpoint_path("replay_buffer_", extension="pkl"))
            write_atomically(self.model.save_replay_buffer, files[-1])  # type: ignore[attr-defined]
        vec_normalize = self.model.get_vec_normalize_env()
        if self.save_vecnormalize and vec_normalize is not None:
            files.append(self._checkpoint_path("vecnormalize_", extension="pkl"))
            write_atomically(vec_normalize.save, files[-1])
        if self.eval_callback is not None:
            eval_callback = self.eval_callback
            files.append(self._checkpoint_path("evaluations_", extension="npz"))
            write_atomically(lambda path: save_evaluations(eval_callback, path), files[-1])
        for rank, monitor in self._monitor_files():
            files.append(self._checkpoint_path(f"monitor_{rank}_", extension="csv"))
            write_atomically(functools.partial(_merge_monitor, monitor), files[-1])
        model_path = self._checkpoint_path(extension="zip")
        write_atomically(self.model.save, model_path)
        write_manifest(model_path, self.num_timesteps, [*files, model_path])
        if self.keep_last is not None:
            for _, manifest in checkpoint_manifests(self.save_path)[self.keep_last :]:
                remove_checkpoint(manifest)

    def _monitor_files(self) -> list[tuple[str, str]]:
        if self.monitor_folder is None:
            return []
        files = sorted(glob.glob(os.path.join(glob.escape(self.monitor_folder), "*" + MONITOR_SUFFIX)))
        return [
            (os.path.basename(path)[: -len(MONITOR_SUFFIX)], path)
            for path in files
            if not path.endswith(PREVIOUS_MONITOR_SUFFIX)
        ]


def _merge_monitor(monitor: str, destination: str) -> None:
    """Write the rows of the monitor file of the segments before a resume (if any), then those of ``monitor``."""
    previous = monitor[: -len(MONITOR_SUFFIX)] + PREVIOUS_MONITOR_SUFFIX
    header, rows = monitor_rows(monitor)
    if os.path.isfile(previous):
        header, previous_rows = monitor_rows(previous)
        rows = previous_rows + rows
    with open(destination, "w") as file:
        file.write("\n".join(header + rows) + "\n")


def restore_run(model_path: str, callbacks: list[BaseCallback], num_timesteps: int, n_envs: int) -> None:
    """
    Make the callbacks of a run resumed from the checkpoint ``model_path`` carry on where the checkpoint was:
    the callbacks count calls from the checkpoint's timestep (an evaluation every ``eval_freq`` steps stays on the same
    timesteps: 10k, 20k, ... whatever step the checkpoint was taken at), the evaluation callback starts from the
    checkpoint's evaluations, and the monitor rows before the checkpoint are kept next to the new monitor file.

    :param model_path: The checkpoint's model zip.
    :param callbacks: The resumed run's callbacks, before ``learn()``.
    :param num_timesteps: The checkpoint's timestep.
    :param n_envs: Number of training envs (a callback is called once per ``n_envs`` timesteps).
    """
    evaluations = checkpoint_companion(model_path, "evaluations_", "npz")
    for callback in callbacks:
        callback.n_calls = num_timesteps // n_envs
        if isinstance(callback, EvalCallback) and evaluations is not None and os.path.isfile(evaluations):
            restore_evaluations(callback, evaluations, num_timesteps)
        if isinstance(callback, ResumableCheckpointCallback) and callback.monitor_folder is not None:
            pattern = checkpoint_companion(model_path, "monitor_*_", "csv")
            for path in glob.glob(pattern or ""):
                rank = os.path.basename(path)[len(_companion_head(model_path, "monitor_")) :].split("_", 1)[0]
                header, rows = monitor_rows(path)
                with open(os.path.join(callback.monitor_folder, rank + PREVIOUS_MONITOR_SUFFIX), "w") as file:
                    file.write("\n".join(header + rows) + "\n")


def _companion_head(model_path: str, checkpoint_type: str) -> str:
    match = _CHECKPOINT_ZIP.fullmatch(os.path.basename(model_path))
    assert match is not None
    return f"{match['prefix']}_{checkpoint_type}"


def truncate_last_transitions(replay_buffer: ReplayBuffer) -> None:
    """
    Mark the newest transition of each environment in ``replay_buffer`` as truncated (as a time limit does),
    unless it ends its episode anyway. A resumed run starts from freshly reset environments, so the
    trajectories in the buffer end there: without the mark, n-step returns computed from the last
    transitions would run on into the first ones collected after the restart.

    :param replay_buffer: A loaded replay buffer (SB3's ``ReplayBuffer`` or a subclass)
    """
    if replay_buffer.pos == 0 and not replay_buffer.full:
        return
    last = (replay_buffer.pos - 1) % replay_buffer.buffer_size
    replay_buffer.timeouts[last] = np.logical_or(replay_buffer.timeouts[last], np.logical_not(replay_buffer.dones[last]))
