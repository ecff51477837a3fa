"""
RL Baselines3 Zoo integration: ``--algo td3x`` (and ``dqnx``, ``sacx``, ``ddpgx``) for ``rl_zoo3.train``, ``enjoy``,
``record_video`` and ``--optimize``.

RL Zoo has no plugin entry point, so TD3X is added to its tables right after RL Zoo's own modules are executed,
by the start-up hook ``_sb3_td3x_zoo_hook`` (installed with the package as ``sb3_td3x_zoo_hook.pth``), or
explicitly by :func:`register` (``python -m sb3_td3x.train``). Each ``patch_*`` function receives one RL Zoo module:

- :func:`patch_utils`: ``ALGOS["td3x"] = TD3X``, and ``DQNX``, ``SACX``, ``DDPGX`` as ``dqnx``, ``sacx``, ``ddpgx``
- :func:`patch_hyperparams_opt`: :func:`sample_td3x_params` and :func:`convert_td3x_params` for ``--optimize``;
  for the others, RL Zoo's sampler of their SB3 parent with the replay's search space on top
  (:func:`prioritized_sampler`)
- :func:`patch_exp_manager`: for the package's algorithms only, ``ExperimentManager``

  - reads ``hyperparams/<algo>.yml`` shipped in this package when no ``--conf-file`` is given
    (and RL Zoo has no file of that name),
  - accepts ``noise_type: null`` to switch RL Zoo's action noise off (for the NoisyNet policy),
  - writes checkpoints (``--save-freq``) that carry the replay buffer with ``--save-replay-buffer``
    (:class:`ResumableCheckpointCallback`: taken between two iterations, each file written whole or not at all),
  - resumes from such a checkpoint (``-i .../rl_model_<steps>_steps.zip``) with the replay buffer
    (priorities included) and the ``VecNormalize`` statistics saved with it, ends the trajectories of the
    loaded buffer there (``--truncate-last-trajectory``, on by default), and keeps counting timesteps from
    the checkpoint, so beta annealing and the noise schedule go on where they were.

  ``PrioritizedReplayBuffer`` and ``LAPReplayBuffer`` also become names that ``replay_buffer_class`` can take
  in a yml file (RL Zoo evaluates that string in its ``exp_manager`` module).

On a Linux machine without a display, ``MUJOCO_GL`` is set to ``egl`` (or ``osmesa``) unless it is set already,
so that ``rl_zoo3.record_video`` renders MuJoCo headless (:func:`select_headless_rendering`).

Nothing in RL Zoo is changed on disk, and every other ``--algo`` runs exactly as before.
"""

import ctypes
import functools
import os
import socket
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_td3x.common.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.common.summary import evaluate_final_policy, summary_line
from sb3_td3x.ddpgx import DDPGX
from sb3_td3x.dqnx import DQNX
from sb3_td3x.optuna_storage import StorageError, is_database_url, open_storage
from sb3_td3x.sacx import SACX
from sb3_td3x.td3x import TD3X
from sb3_td3x.td7 import TD7
from sb3_td3x.zoo_checkpoints import (
    ResumableCheckpointCallback,
    checkpoint_companion,
    restore_run,
    truncate_last_transitions,
)

if TYPE_CHECKING:
    import optuna

ALGO_NAME = "td3x"
#: ``--algo`` names of the package's algorithms
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"td3x": TD3X, "td7": TD7, "dqnx": DQNX, "sacx": SACX, "ddpgx": DDPGX}
#: The SB3 algorithm whose RL Zoo sampler each prioritized variant extends (TD3X has a sampler of its own)
SB3_PARENTS = {"dqnx": "dqn", "sacx": "sac", "ddpgx": "ddpg"}


def hyperparams_file(algo: str) -> Path:
    """
    :return: the hyperparameter file that ``--algo <algo>`` reads without ``--conf-file``: in the package
        ``sb3_td3x.hyperparams``, which the build makes of the repository's top-level ``hyperparams/`` folder.
    """
    import sb3_td3x.hyperparams

    return Path(sb3_td3x.hyperparams.__file__).parent / f"{algo}.yml"


#: The hyperparameter file that ``--algo td3x`` reads without ``--conf-file``
HYPERPARAMS_FILE = hyperparams_file(ALGO_NAME)

#: Network sizes of the sampler (the names and sizes of RL Zoo's off-policy samplers)
NET_ARCHS: dict[str, list[int]] = {"small": [64, 64], "medium": [256, 256], "big": [400, 300]}
#: Exploration kinds of the sampler: RL Zoo's Gaussian action noise, or a NoisyNet actor of either noise kind
EXPLORATION_KINDS = ("normal", "noisy_factorized", "noisy_independent")

# Marks the ExperimentManager class once patched, so that patching twice changes nothing
_PATCHED_MARK = "_sb3_td3x_patched"
# Set on ExperimentManager by resume_all_algorithms(): the algorithms (beyond the package's) and how many checkpoints to keep
RESUMABLE_ALGOS_ATTRIBUTE = "_sb3_td3x_resumable_algos"
KEEP_CHECKPOINTS_ATTRIBUTE = "_sb3_td3x_keep_checkpoints"


def sample_td3x_params(trial: "optuna.Trial", n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """
    Optuna sampler for TD3X (``HYPERPARAMS_SAMPLER["td3x"]``), RL Zoo's sampler signature.

    Samples the learning rate, the batch size, the network size, LayerNorm in the critics or not, ``n_steps``,
    the kind of prioritized replay (``none`` / ``per`` / ``lap``) with ``alpha`` and ``max_priority_reset`` (0: never,
    or 250 as TD7; PER and
    LAP), ``beta0`` (PER) and ``lap_threshold`` (LAP), and the exploration:
    Gaussian action noise (its std and its schedule: ``constant`` / ``linear`` / ``exponential`` with the final
    std as a fraction of the initial one) or a NoisyNet actor (``factorized`` / ``independent``). Parameters
    that only exist for one choice are only sampled for it (a conditional search space).

    :param trial: Optuna trial
    :param n_actions: Dimension of the action space (for the action noise)
    :param n_envs: Number of parallel environments (unused)
    :param additional_args: RL Zoo's extra arguments (unused: TD3X does not combine with HER)
    :return: keyword arguments of ``TD3X``, overriding those of the yml file
    """
    sampled: dict[str, Any] = {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True),
        # 2**6 = 64 to 2**10 = 1024
        "batch_size_pow": trial.suggest_int("batch_size_pow", 6, 10),
        "net_arch": trial.suggest_categorical("net_arch", list(NET_ARCHS)),
        "critic_layer_norm": trial.suggest_categorical("critic_layer_norm", [False, True]),
        **sample_replay_params(trial),
    }
    sampled["exploration"] = trial.suggest_categorical("exploration", list(EXPLORATION_KINDS))
    if sampled["exploration"] == "normal":
        sampled["noise_std"] = trial.suggest_float("noise_std", 0.05, 0.5)
        sampled["noise_schedule"] = trial.suggest_categorical("noise_schedule", ["constant", "linear", "exponential"])
        if sampled["noise_schedule"] != "constant":
            sampled["noise_final_fraction"] = trial.suggest_float("noise_final_fraction", 0.05, 0.5)

    hyperparams = convert_td3x_params(sampled)
    # Which machine and process ran the trial (several workers share a study)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("batch_size", hyperparams["batch_size"])
    trial.set_user_attr("policy_kwargs", str(hyperparams["policy_kwargs"]))
    # RL Zoo has already turned noise_type/noise_std of the yml file into an action noise object when the
    # sampler runs, so the sampled noise is built here
    noise_type = hyperparams.pop("noise_type")
    noise_std = hyperparams.pop("noise_std")
    hyperparams["action_noise"] = (
        NormalActionNoise(mean=np.zeros(n_actions), sigma=noise_std * np.ones(n_actions)) if noise_type == "normal" else None
    )
    return hyperparams


def convert_td3x_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the parameters of a trial of :func:`sample_td3x_params` into hyperparameters in RL Zoo's yml form
    (``HYPERPARAMS_CONVERTER["td3x"]``: used by ``--storage ... --study-name ... --trial-id ...``).

    Every TD3X key the sampler decides is set, including those that the choice switches off (``None``), so
    that the values of the yml file they override cannot leak into the trial's configuration.

    :param sampled_params: ``trial.params`` of a trial of :func:`sample_td3x_params`
    :return: hyperparameters, with the action noise as ``noise_type`` / ``noise_std``
    """
    exploration = sampled_params["exploration"]
    if exploration not in EXPLORATION_KINDS:
        raise ValueError(f"exploration must be one of {EXPLORATION_KINDS}, got {exploration!r}")
    net_arch = NET_ARCHS[sampled_params["net_arch"]]
    # absent from the trials of studies started before the sampler had it: those trials ran without
    critic_layer_norm = sampled_params.get("critic_layer_norm", False)
    hyperparams: dict[str, Any] = {
        "learning_rate": sampled_params["learning_rate"],
        "batch_size": 2 ** sampled_params["batch_size_pow"],
        **convert_replay_params(sampled_params),
        "noise_decay_steps": None,
    }

    if exploration == "normal":
        schedule = sampled_params["noise_schedule"]
        noise_std = sampled_params["noise_std"]
        hyperparams.update(
            policy="MlpPolicy",
            policy_kwargs=dict(net_arch=net_arch, critic_layer_norm=critic_layer_norm),
            noise_type="normal",
            noise_std=noise_std,
            noise_schedule=schedule,
            noise_final_std=None if schedule == "constant" else noise_std * sampled_params["noise_final_fraction"],
        )
    else:
        # The NoisyNet actor explores by itself: no action noise
        hyperparams.update(
            policy="NoisyMlpPolicy",
            policy_kwargs=dict(
                net_arch=net_arch, noise_kind=exploration.removeprefix("noisy_"), critic_layer_norm=critic_layer_norm
            ),
            noise_type=None,
            noise_std=0.0,
            noise_schedule="constant",
            noise_final_std=None,
        )
    return hyperparams


#: The trial parameters of :func:`sample_replay_params`
REPLAY_PARAMS = ("n_steps", "prioritized_replay", "alpha", "max_priority_reset", "beta0", "lap_threshold")


#: Embedding sizes of TD7's sampler (TD7: 256)
ZS_DIMS = (64, 128, 256)


def sample_td7_params(trial: "optuna.Trial", n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """
    Optuna sampler for TD7 (``HYPERPARAMS_SAMPLER["td7"]``), RL Zoo's sampler signature: the learning rate, the batch
    size, the width of every layer, the embedding size and the period of the hard target updates (with which the
    largest priority of new transitions is reset, as TD7 does); LAP, the checkpoints and value clipping stay TD7's.

    :param trial: Optuna trial
    :param n_actions: Dimension of the action space (unused: the yml file's action noise stays)
    :param n_envs: Number of parallel environments (unused)
    :param additional_args: RL Zoo's extra arguments (unused)
    :return: keyword arguments of ``TD7``, overriding those of the yml file
    """
    sampled = {
        "learning_rate": trial.suggest_float("learning_rate", 1e-5, 2e-3, log=True),
        "batch_size_pow": trial.suggest_int("batch_size_pow", 6, 10),
        "width": trial.suggest_categorical("width", [128, 256, 512]),
        "zs_dim": trial.suggest_categorical("zs_dim", list(ZS_DIMS)),
        "target_update_interval": trial.suggest_categorical("target_update_interval", [100, 250, 500]),
    }
    hyperparams = convert_td7_params(sampled)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("policy_kwargs", str(hyperparams["policy_kwargs"]))
    return hyperparams


def convert_td7_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the parameters of a trial of :func:`sample_td7_params` into ``TD7`` keyword arguments
    (``HYPERPARAMS_CONVERTER["td7"]``, used by ``--trial-id`` to train a trial's hyperparameters again).

    :param sampled_params: ``trial.params`` of a trial of :func:`sample_td7_params`
    :return: keyword arguments of ``TD7``
    """
    width = sampled_params["width"]
    interval = sampled_params["target_update_interval"]
    return {
        "learning_rate": sampled_params["learning_rate"],
        "batch_size": 2 ** sampled_params["batch_size_pow"],
        "target_update_interval": interval,
        "max_priority_reset": interval,
        "policy_kwargs": dict(net_arch=[width] * 3, zs_dim=sampled_params["zs_dim"], encoder_net_arch=[width] * 2),
    }


def sample_replay_params(trial: "optuna.Trial") -> dict[str, Any]:
    """
    The replay part of every sampler of the package: ``n_steps`` (1 to 5), the kind of prioritized replay
    (``none`` / ``per`` / ``lap``) with ``alpha`` (0.1 to 1) and ``max_priority_reset`` (never or 250; PER and LAP),
    ``beta0`` (0.1 to 1; PER) and ``lap_threshold`` (LAP). Parameters of one choice are only sampled for it.

    :param trial: Optuna trial
    :return: the sampled parameters (``trial.params`` form, see :func:`convert_replay_params`)
    """
    sampled: dict[str, Any] = {
        "n_steps": trial.suggest_int("n_steps", 1, 5),
        "prioritized_replay": trial.suggest_categorical("prioritized_replay", ["none", "per", "lap"]),
    }
    if sampled["prioritized_replay"] != "none":
        sampled["alpha"] = trial.suggest_float("alpha", 0.1, 1.0)
        sampled["max_priority_reset"] = trial.suggest_categorical("max_priority_reset", [0, 250])
    if sampled["prioritized_replay"] == "per":
        sampled["beta0"] = trial.suggest_float("beta0", 0.1, 1.0)
    if sampled["prioritized_replay"] == "lap":
        sampled["lap_threshold"] = trial.suggest_categorical("lap_threshold", ["fixed", "reward", "td_error"])
    return sampled


def convert_replay_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    :param sampled_params: ``trial.params`` with the keys of :func:`sample_replay_params`
    :return: the replay hyperparameters, every one set (those the choice switches off to ``None``), so that the yml
        file's values cannot leak into the trial's configuration
    """
    kind = sampled_params["prioritized_replay"]
    hyperparams: dict[str, Any] = {
        "n_steps": sampled_params["n_steps"],
        # the kind of prioritized replay is chosen by prioritized_replay alone
        "replay_buffer_class": None,
        "prioritized_replay": kind,
        "alpha": sampled_params.get("alpha") if kind != "none" else None,
        "beta0": sampled_params.get("beta0") if kind == "per" else None,
        "max_priority_reset": (sampled_params.get("max_priority_reset") or None) if kind != "none" else None,
        "lap_threshold": sampled_params.get("lap_threshold", "fixed") if kind == "lap" else "fixed",
    }
    # Arguments of the other kind of prioritized replay would only raise a warning
    if kind != "per":
        hyperparams["priority_eps"] = None
    if kind != "lap":
        hyperparams["min_priority"] = None
    return hyperparams


def prioritized_sampler(base_sampler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """
    :param base_sampler: RL Zoo's own sampler of the SB3 parent (``sample_dqn_params``, ``sample_sac_params``, ...)
    :return: a sampler that samples RL Zoo's search space and then the replay's (:func:`sample_replay_params`)
    """

    @functools.wraps(base_sampler)
    def sampler(trial: "optuna.Trial", n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
        hyperparams = base_sampler(trial, n_actions, n_envs, additional_args)
        hyperparams.update(convert_replay_params(sample_replay_params(trial)))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        return hyperparams

    return sampler


def prioritized_converter(base_converter: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """
    :param base_converter: RL Zoo's converter of the SB3 parent (``convert_offpolicy_params``)
    :return: the converter of :func:`prioritized_sampler`'s trials
    """

    def converter(sampled_params: dict[str, Any]) -> dict[str, Any]:
        base = base_converter({key: value for key, value in sampled_params.items() if key not in REPLAY_PARAMS})
        return {**base, **convert_replay_params(sampled_params)}

    return converter


class _OptunaWithStorage:
    """
    Stands in for the ``optuna`` module inside ``rl_zoo3.exp_manager`` during one ``hyperparameters_optimization``:
    ``create_study`` with the ``--storage`` URL gets the storage opened by :func:`sb3_td3x.optuna_storage.open_storage`;
    every other name is Optuna's own.
    """

    def __init__(self, optuna_module: ModuleType, url: str, storage: Any) -> None:
        self._optuna = optuna_module
        self._url = url
        self._storage = storage

    def create_study(self, *args: Any, **kwargs: Any) -> "optuna.Study":
        if kwargs.get("storage") == self._url:
            kwargs["storage"] = self._storage
        return self._optuna.create_study(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optuna, name)


def _default_config_path(exp_manager_module: ModuleType, algo: str) -> Path:
    """Where ``ExperimentManager`` looks for ``hyperparams/<algo>.yml`` without ``--conf-file`` (its own rule)."""
    package_dir = Path(exp_manager_module.__file__ or "").parent
    root = package_dir if (package_dir / "hyperparams").is_dir() else package_dir.parent
    return root / "hyperparams" / f"{algo}.yml"


def select_headless_rendering() -> str | None:
    """
    On a Linux machine without a display, set ``MUJOCO_GL`` to MuJoCo's offscreen OpenGL backend that can be
    loaded, ``egl`` (libEGL) or else ``osmesa`` (libOSMesa), so that ``rl_zoo3.record_video`` renders MuJoCo
    environments headless. Without it, MuJoCo falls back to GLFW, which needs a display. Nothing is changed when
    ``MUJOCO_GL`` is already set, when a display is available, or once MuJoCo has been imported.

    :return: the backend chosen, or None when nothing was changed
    """
    if (
        not sys.platform.startswith("linux")
        or "MUJOCO_GL" in os.environ
        or os.environ.get("DISPLAY")
        or os.environ.get("WAYLAND_DISPLAY")
        or "mujoco" in sys.modules
    ):
        return None
    for backend, library in (("egl", "libEGL.so.1"), ("osmesa", "libOSMesa.so.8")):
        # MuJoCo's EGL and OSMesa contexts go through PyOpenGL, which must be set for the same platform
        if os.environ.get("PYOPENGL_PLATFORM", backend) != backend:
            continue
        try:
            ctypes.CDLL(library)
        except OSError:
            continue
        os.environ["MUJOCO_GL"] = backend
        return backend
    return None


def patch_utils(module: ModuleType) -> None:
    """
    Add TD3X to RL Zoo's ``ALGOS`` table, from which ``--algo`` takes its choices and models are created and loaded;
    select headless MuJoCo rendering where there is no display (:func:`select_headless_rendering`).

    :param module: ``rl_zoo3.utils``
    """
    for name, algorithm in ALGORITHMS.items():
        module.ALGOS.setdefault(name, algorithm)
    select_headless_rendering()


def patch_hyperparams_opt(module: ModuleType) -> None:
    """
    Add the TD3X sampler and converter to RL Zoo's tables for ``--optimize`` and ``--trial-id``.

    :param module: ``rl_zoo3.hyperparams_opt``
    """
    module.HYPERPARAMS_SAMPLER.setdefault(ALGO_NAME, sample_td3x_params)
    module.HYPERPARAMS_CONVERTER.setdefault(ALGO_NAME, convert_td3x_params)
    module.HYPERPARAMS_SAMPLER.setdefault("td7", sample_td7_params)
    module.HYPERPARAMS_CONVERTER.setdefault("td7", convert_td7_params)
    for name, parent in SB3_PARENTS.items():
        module.HYPERPARAMS_SAMPLER.setdefault(name, prioritized_sampler(module.HYPERPARAMS_SAMPLER[parent]))
        module.HYPERPARAMS_CONVERTER.setdefault(name, prioritized_converter(module.HYPERPARAMS_CONVERTER[parent]))


def patch_exp_manager(module: ModuleType) -> None:  # noqa: C901
    """
    Teach ``ExperimentManager`` what ``--algo td3x`` needs (see the module docstring); other algorithms see
    no change: every patched method calls RL Zoo's own one unless the algorithm is TD3X.

    :param module: ``rl_zoo3.exp_manager``
    """
    # replay_buffer_class strings of a yml file are evaluated in this module's namespace
    for buffer_class in (PrioritizedReplayBuffer, LAPReplayBuffer):
        module.__dict__.setdefault(buffer_class.__name__, buffer_class)

    manager_class = module.ExperimentManager
    if getattr(manager_class, _PATCHED_MARK, False):
        return

    original_init = manager_class.__init__

    @functools.wraps(original_init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        default_config = _default_config_path(module, self.algo)
        if self.algo in ALGORITHMS and Path(self.config) == default_config and not default_config.is_file():
            self.config = str(hyperparams_file(self.algo))
        if self.algo in ALGORITHMS and self.optimize_hyperparameters and is_database_url(self.storage):
            # Opened (and so checked) before any environment or model is built; heartbeats and retries of
            # the trials of killed workers (sb3_td3x.optuna_storage)
            try:
                self._td3x_storage = open_storage(self.storage)
            except StorageError as error:
                raise SystemExit(f"error: {error}") from None

    original_preprocess_hyperparams = manager_class._preprocess_hyperparams

    @functools.wraps(original_preprocess_hyperparams)
    def _preprocess_hyperparams(self, hyperparams: dict[str, Any]) -> Any:
        result = original_preprocess_hyperparams(self, hyperparams)
        # Before the log folder, the environments or the action noise are made: a bad value stops here, in one line
        if self.algo in ALGORITHMS and not self.optimize_hyperparameters and not self.continue_training:
            check_hyperparams(ALGORITHMS[self.algo], result[0])
        return result

    original_optimization = manager_class.hyperparameters_optimization

    @functools.wraps(original_optimization)
    def hyperparameters_optimization(self) -> None:
        storage = getattr(self, "_td3x_storage", None)
        if storage is None:
            original_optimization(self)
            return
        # RL Zoo calls optuna.create_study(storage=<the URL>, ...): give it the opened storage instead
        real_optuna = module.__dict__["optuna"]
        module.__dict__["optuna"] = _OptunaWithStorage(real_optuna, self.storage, storage)
        try:
            original_optimization(self)
        finally:
            module.__dict__["optuna"] = real_optuna

    original_preprocess_action_noise = manager_class._preprocess_action_noise

    @functools.wraps(original_preprocess_action_noise)
    def _preprocess_action_noise(self, hyperparams: dict[str, Any], saved_hyperparams: dict[str, Any], env: VecEnv):
        if self.algo in ALGORITHMS and "noise_type" in hyperparams and hyperparams["noise_type"] is None:
            # noise_type: null means no action noise: RL Zoo would pass both keys on to the constructor
            del hyperparams["noise_type"]
            hyperparams.pop("noise_std", None)
        return original_preprocess_action_noise(self, hyperparams, saved_hyperparams, env)

    original_create_callbacks = manager_class.create_callbacks

    @functools.wraps(original_create_callbacks)
    def create_callbacks(self) -> None:
        original_create_callbacks(self)
        if not _resumable(self):
            return
        eval_callback = next((callback for callback in self.callbacks if isinstance(callback, EvalCallback)), None)
        for index, callback in enumerate(self.callbacks):
            if type(callback) is CheckpointCallback:
                checkpoint = ResumableCheckpointCallback(
                    save_freq=callback.save_freq,
                    save_path=callback.save_path,
                    name_prefix=callback.name_prefix,
                    save_replay_buffer=self.save_replay_buffer,
                    save_vecnormalize=True,
                    verbose=callback.verbose,
                    keep_last=getattr(manager_class, KEEP_CHECKPOINTS_ATTRIBUTE, None),
                )
                # The evaluations and the training monitor so far go into each checkpoint
                checkpoint.eval_callback = eval_callback
                checkpoint.monitor_folder = self.save_path
                self.callbacks[index] = checkpoint

    original_maybe_normalize = manager_class._maybe_normalize

    @functools.wraps(original_maybe_normalize)
    def _maybe_normalize(self, env: VecEnv, eval_env: bool) -> VecEnv:
        if _resumable(self) and self.continue_training:
            path = checkpoint_companion(self.trained_agent, "vecnormalize_")
            if path is not None and os.path.isfile(path):
                # The statistics of the checkpoint itself, not the latest ones RL Zoo saved in the run folder
                env = VecNormalize.load(path, env)
                if eval_env:
                    env.training = False
                    env.norm_reward = False
                return env
        return original_maybe_normalize(self, env, eval_env)

    original_load_pretrained_agent = manager_class._load_pretrained_agent

    @functools.wraps(original_load_pretrained_agent)
    def _load_pretrained_agent(self, hyperparams: dict[str, Any], env: VecEnv) -> BaseAlgorithm:
        model = original_load_pretrained_agent(self, hyperparams, env)
        if not _resumable(self):
            return model
        # A final model: RL Zoo has loaded replay_buffer.pkl next to it, if any; a checkpoint: its own buffer
        replay_buffer_path = checkpoint_companion(self.trained_agent, "replay_buffer_")
        if replay_buffer_path is not None and os.path.isfile(replay_buffer_path):
            model.load_replay_buffer(replay_buffer_path, truncate_last_traj=self.truncate_last_trajectory)  # type: ignore[attr-defined]
        elif replay_buffer_path is not None:
            warnings.warn(
                f"No replay buffer was saved with the checkpoint {self.trained_agent} (no {replay_buffer_path}): "
                "training resumes without the transitions collected before it. "
                "Train with --save-replay-buffer to checkpoint the replay buffer too."
            )
        replay_buffer = getattr(model, "replay_buffer", None)
        if self.truncate_last_trajectory and isinstance(replay_buffer, ReplayBuffer):
            truncate_last_transitions(replay_buffer)
        return model

    original_learn = manager_class.learn

    @functools.wraps(original_learn)
    def learn(self, model: BaseAlgorithm) -> None:
        # Where the run's summary starts counting (save_trained_model prints it)
        self._td3x_learn_start = (time.time(), model.num_timesteps)
        if not _resumable(self) or not self.continue_training:
            original_learn(self, model)
            return
        # The callbacks go on from the checkpoint: evaluations on the same timesteps, those done so far kept
        restore_run(self.trained_agent, self.callbacks, model.num_timesteps, model.n_envs)
        # RL Zoo's learn(), except reset_num_timesteps=False: a resumed run keeps counting from the
        # loaded model's timesteps (checkpoint names, logs, beta annealing, noise schedule); -n is still
        # the number of timesteps to add
        kwargs: dict[str, Any] = {}
        if self.log_interval > -1:
            kwargs = {"log_interval": self.log_interval}
        elif self.log_interval < -1:
            kwargs = {"log_interval": None}
        if len(self.callbacks) > 0:
            kwargs["callback"] = self.callbacks
        try:
            model.learn(self.n_timesteps, reset_num_timesteps=False, **kwargs)
        except KeyboardInterrupt:
            # as RL Zoo: the model is saved when training is interrupted
            pass
        finally:
            if len(self.callbacks) > 0:
                self.callbacks[0].on_training_end()
            try:
                assert model.env is not None
                model.env.close()
            except EOFError:
                pass

    manager_class.__init__ = __init__
    manager_class._preprocess_hyperparams = _preprocess_hyperparams
    manager_class.hyperparameters_optimization = hyperparameters_optimization
    manager_class._preprocess_action_noise = _preprocess_action_noise
    manager_class.create_callbacks = create_callbacks
    manager_class._maybe_normalize = _maybe_normalize
    manager_class._load_pretrained_agent = _load_pretrained_agent
    manager_class.learn = learn

    original_save_trained_model = manager_class.save_trained_model

    @functools.wraps(original_save_trained_model)
    def save_trained_model(self, model: BaseAlgorithm) -> None:
        original_save_trained_model(self, model)
        if self.algo in ALGORITHMS and hasattr(self, "_td3x_learn_start"):
            print(run_summary(self, model), flush=True)

    manager_class.save_trained_model = save_trained_model
    setattr(manager_class, _PATCHED_MARK, True)


# RL Zoo's own keys that are still in the hyperparameters when they are checked (not the algorithm's arguments)
ZOO_KEYS = ("noise_type", "noise_std", "normalize", "normalize_kwargs")


def check_hyperparams(algorithm: type[BaseAlgorithm], hyperparams: dict[str, Any]) -> None:
    """
    Check the hyperparameters of a run of one of the package's algorithms (the yml file's and ``--hyperparams``) by
    building the algorithm without an environment or networks: its constructor checks every argument first.

    :param algorithm: The algorithm class.
    :param hyperparams: RL Zoo's hyperparameters after its preprocessing, before the action noise is made.
    :raises SystemExit: with one line, ``error: ...`` naming the argument and its allowed values.
    """
    kwargs = {key: value for key, value in hyperparams.items() if key not in ZOO_KEYS}
    if hyperparams.get("noise_type") == "normal":
        # The noise RL Zoo will build (its size does not matter to the checks)
        kwargs["action_noise"] = NormalActionNoise(np.zeros(1), float(hyperparams.get("noise_std", 0.1)) * np.ones(1))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            algorithm(env=None, _init_setup_model=False, **kwargs)  # type: ignore[call-arg]
    except (ValueError, TypeError) as error:
        raise SystemExit(f"error: {error}") from None


def run_summary(manager: Any, model: BaseAlgorithm) -> str:
    """
    The line a run of the package's algorithms ends with: the final policy's return on a separate environment
    (``--eval-episodes`` deterministic episodes, the policy checkpoint where one is kept), how many episodes lasted the
    time limit and completed the task where it has a rule, the wall time and env steps/s, the saved model.

    :param manager: RL Zoo's ``ExperimentManager`` of the run, after ``learn`` and ``save_trained_model``.
    :param model: The trained model.
    :return: the summary line.
    """
    import gymnasium as gym

    start, start_timesteps = manager._td3x_learn_start
    wall = time.time() - start
    eval_env = manager.create_envs(1, eval_env=True)
    try:
        returns, lengths = evaluate_final_policy(model, eval_env, manager.n_eval_episodes)
    finally:
        eval_env.close()
    try:
        max_steps = gym.spec(manager.env_name.gym_id).max_episode_steps
    except gym.error.Error:
        max_steps = None
    return "Summary: " + summary_line(
        returns,
        lengths,
        manager.env_name.gym_id,
        max_steps,
        model.num_timesteps - start_timesteps,
        wall,
        os.path.join(manager.save_path, f"{manager.env_name}.zip"),
        checkpoint=bool(getattr(model.policy, "has_checkpoint", False)),
    )


def _resumable(manager: Any) -> bool:
    """Whether ``manager`` (an ``ExperimentManager``) writes resumable checkpoints and resumes from them."""
    return manager.algo in ALGORITHMS or manager.algo in getattr(type(manager), RESUMABLE_ALGOS_ATTRIBUTE, ())


def resume_all_algorithms(keep_last: int | None = None) -> None:
    """
    In this process, give every ``--algo`` of RL Zoo (SB3's own included) what the package's algorithms have:
    resumable checkpoints (``--save-freq``, with the evaluations and the monitor so far) and resuming from one with
    ``-i``, counting timesteps on. The benchmark's training entry point calls it (``sb3_td3x.benchmark.train``), so
    that its ``td3`` runs survive the end of a session as its ``td3x`` runs do; RL Zoo's own commands are unchanged.

    :param keep_last: Keep the newest ``keep_last`` checkpoints of a run only (None: all, as RL Zoo).
    """
    import rl_zoo3.exp_manager
    import rl_zoo3.utils

    register()
    manager_class = rl_zoo3.exp_manager.ExperimentManager
    setattr(manager_class, RESUMABLE_ALGOS_ATTRIBUTE, frozenset(rl_zoo3.utils.ALGOS))
    setattr(manager_class, KEEP_CHECKPOINTS_ATTRIBUTE, keep_last)


def register() -> None:
    """
    Register TD3X with RL Baselines3 Zoo in this process: what the start-up hook does by itself when RL Zoo is
    imported. Calling it again changes nothing.

    .. code-block:: python

        import sb3_td3x.zoo
        sb3_td3x.zoo.register()
        from rl_zoo3.train import train
        train()  # accepts --algo td3x
    """
    import rl_zoo3.exp_manager
    import rl_zoo3.hyperparams_opt
    import rl_zoo3.utils

    patch_utils(rl_zoo3.utils)
    patch_hyperparams_opt(rl_zoo3.hyperparams_opt)
    patch_exp_manager(rl_zoo3.exp_manager)
