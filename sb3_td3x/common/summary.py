"""
The one plain summary a training run ends with: how the final policy does, how long it took, where the model is.
RL Zoo's ``train`` prints it for the package's algorithms (:func:`sb3_td3x.zoo.patch_exp_manager`).
"""

from __future__ import annotations

import os

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization


def evaluate_final_policy(model: BaseAlgorithm, eval_env: VecEnv, n_episodes: int) -> tuple[np.ndarray, np.ndarray]:
    """
    :param model: The trained model (its deterministic policy acts; with a policy checkpoint, the checkpoint).
    :param eval_env: A separate environment (its ``VecNormalize`` statistics, if any, are synced from the training env).
    :param n_episodes: Episodes to play.
    :return: the returns and lengths of the episodes.
    """
    if model.get_vec_normalize_env() is not None:
        sync_envs_normalization(model.get_env(), eval_env)  # type: ignore[arg-type]
    returns, lengths = evaluate_policy(
        model, eval_env, n_eval_episodes=n_episodes, deterministic=True, return_episode_rewards=True
    )
    return np.asarray(returns, dtype=np.float64), np.asarray(lengths)


def summary_line(
    returns: np.ndarray,
    lengths: np.ndarray,
    max_episode_steps: int | None,
    timesteps: int,
    wall_time_s: float,
    model_path: str,
    checkpoint: bool = False,
) -> str:
    """
    :param returns: Returns of the final evaluation's episodes.
    :param lengths: Their lengths.
    :param max_episode_steps: The environment's time limit (None: unknown).
    :param timesteps: Env steps trained in this run.
    :param wall_time_s: Wall-clock seconds of the run.
    :param model_path: The saved model.
    :param checkpoint: Whether the policy evaluated is a policy checkpoint.
    :return: one line: return mean +- std over the episodes, how many lasted the time limit, time and speed, model
        path.
    """
    n = len(returns)
    policy = "the policy checkpoint" if checkpoint else "the final policy"
    episodes = "episode" if n == 1 else "episodes"
    parts = [f"Evaluation of {policy} (deterministic): return {returns.mean():.1f} +- {returns.std():.1f} over {n} {episodes}"]
    if max_episode_steps is not None:
        parts.append(f"{int((lengths >= max_episode_steps).sum())}/{n} lasted the {max_episode_steps}-step limit")
    rate = timesteps / wall_time_s if wall_time_s > 0 else float("nan")
    parts.append(f"{timesteps:,} env steps in {wall_time_s / 60:.1f} min ({rate:.0f} env steps/s)")
    parts.append(f"model: {os.path.abspath(model_path)}")
    return "; ".join(parts)
