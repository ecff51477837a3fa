"""
What ``--algo`` of the package's algorithms needs from RL Zoo's ``ExperimentManager`` (:func:`patch_exp_manager`):
the packaged yml files, ``noise_type: null``, hyperparameters checked before anything is built, resumable checkpoints
and resuming from them, Optuna studies on a database, the summary line a run ends with. Every patched method calls
RL Zoo's own one for the other algorithms.
"""

from __future__ import annotations

import functools
import os
import time
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.callbacks import CheckpointCallback, EvalCallback
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from sb3_td3x.common.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.common.summary import evaluate_final_policy, summary_line
from sb3_td3x.zoo.checkpoints import (
    ResumableCheckpointCallback,
    checkpoint_companion,
    restore_run,
    truncate_last_transitions,
)
from sb3_td3x.zoo.noise import check_noise_schedule, pop_noise_schedule, scheduled_noise
from sb3_td3x.zoo.registry import ALGORITHMS, hyperparams_file, register
from sb3_td3x.zoo.storage import OptunaWithStorage, StorageError, is_database_url, open_storage

# Marks the ExperimentManager class once patched, so that patching twice changes nothing
_PATCHED_MARK = "_sb3_td3x_patched"
# Set on ExperimentManager by resume_all_algorithms(): the algorithms (beyond the package's), how many checkpoints to keep
# and the checkpoint callback
RESUMABLE_ALGOS_ATTRIBUTE = "_sb3_td3x_resumable_algos"
KEEP_CHECKPOINTS_ATTRIBUTE = "_sb3_td3x_keep_checkpoints"
CHECKPOINT_CALLBACK_ATTRIBUTE = "_sb3_td3x_checkpoint_callback"


def _default_config_path(exp_manager_module: ModuleType, algo: str) -> Path:
    """Where ``ExperimentManager`` looks for ``hyperparams/<algo>.yml`` without ``--conf-file`` (its own rule)."""
    package_dir = Path(exp_manager_module.__file__ or "").parent
    root = package_dir if (package_dir / "hyperparams").is_dir() else package_dir.parent
    return root / "hyperparams" / f"{algo}.yml"


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
            # the trials of killed workers (sb3_td3x.zoo.storage)
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
        if self.algo in ALGORITHMS:
            check_action_space(ALGORITHMS[self.algo], self.env_name.gym_id, self.env_kwargs)
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
        module.__dict__["optuna"] = OptunaWithStorage(real_optuna, self.storage, storage)
        try:
            original_optimization(self)
        finally:
            module.__dict__["optuna"] = real_optuna

    original_preprocess_action_noise = manager_class._preprocess_action_noise

    @functools.wraps(original_preprocess_action_noise)
    def _preprocess_action_noise(self, hyperparams: dict[str, Any], saved_hyperparams: dict[str, Any], env: VecEnv):
        if self.algo not in ALGORITHMS:
            return original_preprocess_action_noise(self, hyperparams, saved_hyperparams, env)
        if "noise_type" in hyperparams and hyperparams["noise_type"] is None:
            # noise_type: null means no action noise: RL Zoo would pass both keys on to the constructor
            del hyperparams["noise_type"]
            hyperparams.pop("noise_std", None)
        # noise_schedule & co. make RL Zoo's Gaussian noise a decaying one (sb3_td3x.zoo.noise)
        schedule = pop_noise_schedule(hyperparams)
        hyperparams = original_preprocess_action_noise(self, hyperparams, saved_hyperparams, env)
        if schedule:
            hyperparams["action_noise"] = scheduled_noise(hyperparams.get("action_noise"), schedule)
        return hyperparams

    original_create_callbacks = manager_class.create_callbacks

    @functools.wraps(original_create_callbacks)
    def create_callbacks(self) -> None:
        original_create_callbacks(self)
        if not _resumable(self):
            return
        eval_callback = next((callback for callback in self.callbacks if isinstance(callback, EvalCallback)), None)
        checkpoint_class = getattr(manager_class, CHECKPOINT_CALLBACK_ATTRIBUTE, ResumableCheckpointCallback)
        for index, callback in enumerate(self.callbacks):
            if type(callback) is CheckpointCallback:
                checkpoint = checkpoint_class(
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

    original_save_trained_model = manager_class.save_trained_model

    @functools.wraps(original_save_trained_model)
    def save_trained_model(self, model: BaseAlgorithm) -> None:
        original_save_trained_model(self, model)
        if self.algo in ALGORITHMS and hasattr(self, "_td3x_learn_start"):
            print(run_summary(self, model), flush=True)

    manager_class.__init__ = __init__
    manager_class._preprocess_hyperparams = _preprocess_hyperparams
    manager_class.hyperparameters_optimization = hyperparameters_optimization
    manager_class._preprocess_action_noise = _preprocess_action_noise
    manager_class.create_callbacks = create_callbacks
    manager_class._maybe_normalize = _maybe_normalize
    manager_class._load_pretrained_agent = _load_pretrained_agent
    manager_class.learn = learn
    manager_class.save_trained_model = save_trained_model
    setattr(manager_class, _PATCHED_MARK, True)


# RL Zoo's own keys that are still in the hyperparameters when they are checked (not the algorithm's arguments)
ZOO_KEYS = ("noise_type", "noise_std", "normalize", "normalize_kwargs")
# The action noises RL Zoo builds (None: none)
NOISE_TYPES = (None, "normal", "ornstein-uhlenbeck")


def check_action_space(algorithm: type[BaseAlgorithm], env_id: str, env_kwargs: dict[str, Any] | None) -> None:
    """
    Refuse an environment whose action space the algorithm cannot act in, before RL Zoo makes a run folder.

    :param algorithm: The algorithm class (DQNX: discrete actions; the others: continuous).
    :param env_id: The environment id.
    :param env_kwargs: RL Zoo's ``--env-kwargs``.
    :raises SystemExit: with one line naming the environment, its action space and what the algorithm needs.
    """
    import gymnasium as gym
    from gymnasium import spaces
    from stable_baselines3 import DQN

    needed = spaces.Discrete if issubclass(algorithm, DQN) else spaces.Box
    try:
        env = gym.make(env_id, **(env_kwargs or {}))
    except Exception:  # RL Zoo's own error for an unknown or broken env comes later, as without this check
        return
    try:
        action_space = env.action_space
    finally:
        env.close()
    if not isinstance(action_space, needed):
        kind = "discrete (Discrete)" if needed is spaces.Discrete else "continuous (Box)"
        raise SystemExit(f"error: env {env_id}: {algorithm.__name__} needs a {kind} action space, got {action_space}")


def check_hyperparams(algorithm: type[BaseAlgorithm], hyperparams: dict[str, Any]) -> None:
    """
    Check the hyperparameters of a run of one of the package's algorithms (the yml file's and ``--hyperparams``) by
    building the algorithm without an environment or networks: its constructor checks every argument first.

    :param algorithm: The algorithm class.
    :param hyperparams: RL Zoo's hyperparameters after its preprocessing, before the action noise is made.
    :raises SystemExit: with one line, ``error: ...`` naming the argument and its allowed values.
    """
    kwargs = {key: value for key, value in hyperparams.items() if key not in ZOO_KEYS}
    schedule = pop_noise_schedule(kwargs)
    noise_type = hyperparams.get("noise_type")
    if noise_type not in NOISE_TYPES:
        raise SystemExit(f"error: noise_type must be one of {NOISE_TYPES} (null: no action noise), got {noise_type!r}")
    noise_std = hyperparams.get("noise_std", 0.1)
    if isinstance(noise_std, bool) or not isinstance(noise_std, (int, float)) or not 0.0 <= noise_std < float("inf"):
        raise SystemExit(f"error: noise_std must be a number >= 0 (the std of the action noise), got {noise_std!r}")
    try:
        check_noise_schedule(schedule, noise_type)
    except ValueError as error:
        raise SystemExit(f"error: {error}") from None
    if noise_type == "normal":
        # The noise RL Zoo will build (its size does not matter to the checks)
        kwargs["action_noise"] = NormalActionNoise(np.zeros(1), float(noise_std) * np.ones(1))
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
    time limit, the wall time and env steps/s, the saved model.

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
        max_steps,
        model.num_timesteps - start_timesteps,
        wall,
        os.path.join(manager.save_path, f"{manager.env_name}.zip"),
        checkpoint=bool(getattr(model.policy, "has_checkpoint", False)),
    )


def _resumable(manager: Any) -> bool:
    """Whether ``manager`` (an ``ExperimentManager``) writes resumable checkpoints and resumes from them."""
    return manager.algo in ALGORITHMS or manager.algo in getattr(type(manager), RESUMABLE_ALGOS_ATTRIBUTE, ())


def resume_all_algorithms(
    keep_last: int | None = None, callback_class: type[ResumableCheckpointCallback] = ResumableCheckpointCallback
) -> None:
    """
    In this process, give every ``--algo`` of RL Zoo (SB3's own included) what the package's algorithms have:
    resumable checkpoints (``--save-freq``, with the evaluations and the monitor so far) and resuming from one with
    ``-i``, counting timesteps on, so that a ``td3`` run survives a kill as a ``td3x`` run does. Call it before
    ``rl_zoo3.train.train()`` in a script of your own; RL Zoo's own commands are unchanged.

    :param keep_last: Keep the newest ``keep_last`` checkpoints of a run only (None: all, as RL Zoo).
    :param callback_class: The checkpoint callback of ``--save-freq``: :class:`ResumableCheckpointCallback` or a
        subclass (e.g. one that also ends the run at a checkpoint when it is asked to stop).
    """
    import rl_zoo3.exp_manager
    import rl_zoo3.utils

    register()
    manager_class = rl_zoo3.exp_manager.ExperimentManager
    setattr(manager_class, RESUMABLE_ALGOS_ATTRIBUTE, frozenset(rl_zoo3.utils.ALGOS))
    setattr(manager_class, KEEP_CHECKPOINTS_ATTRIBUTE, keep_last)
    setattr(manager_class, CHECKPOINT_CALLBACK_ATTRIBUTE, callback_class)
