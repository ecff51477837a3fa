"""Optuna samplers and converters of the package's algorithms for RL Zoo's ``--optimize`` and ``--trial-id``."""

from __future__ import annotations

import functools
import os
import socket
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from stable_baselines3.common.noise import NormalActionNoise

from sb3_td3x.zoo.noise import pop_noise_schedule, scheduled_noise
from sb3_td3x.zoo.registry import ALGO_NAME, SB3_PARENTS

if TYPE_CHECKING:
    import optuna

#: Network sizes of the sampler (the names and sizes of RL Zoo's off-policy samplers)
NET_ARCHS: dict[str, list[int]] = {"small": [64, 64], "medium": [256, 256], "big": [400, 300]}
#: Exploration kinds of the sampler: RL Zoo's Gaussian action noise, or a NoisyNet actor of either noise kind
EXPLORATION_KINDS = ("normal", "noisy_factorized", "noisy_independent")
#: Critic widths of CrossQ's networks in the sampler (two hidden layers; the actor takes the sampled ``net_arch``)
CROSSQ_CRITIC_WIDTHS = (256, 512, 1024)


def sample_td3x_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
    """
    Optuna sampler for TD3X (``HYPERPARAMS_SAMPLER["td3x"]``), RL Zoo's sampler signature.

    Samples the learning rate, the batch size, the network size, ``n_steps``, the kind of prioritized replay
    (:func:`sample_replay_params`), the exploration: Gaussian action noise (its std and its schedule: ``constant`` /
    ``linear`` / ``exponential`` with the final std as a fraction of the initial one) or a NoisyNet actor
    (``factorized`` / ``independent``), and the critics: SB3's, with LayerNorm or not, or, with Gaussian noise,
    CrossQ's networks (``CrossQPolicy``: batch-renormalized, no target networks; the critics' width is sampled, the
    actor has the sampled network size; ``policy_delay`` and ``learning_starts`` stay the yml file's). Parameters that
    only exist for one choice are only sampled for it (a conditional search space).

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
        **sample_replay_params(trial),
    }
    sampled["exploration"] = trial.suggest_categorical("exploration", list(EXPLORATION_KINDS))
    if sampled["exploration"] == "normal":
        sampled["noise_std"] = trial.suggest_float("noise_std", 0.05, 0.5)
        sampled["noise_schedule"] = trial.suggest_categorical("noise_schedule", ["constant", "linear", "exponential"])
        if sampled["noise_schedule"] != "constant":
            sampled["noise_final_fraction"] = trial.suggest_float("noise_final_fraction", 0.05, 0.5)
        # CrossQ's networks come with an actor of their own (batch-renormalized), which has no NoisyNet form
        sampled["crossq"] = trial.suggest_categorical("crossq", [False, True])
    if sampled.get("crossq", False):
        sampled["crossq_critic_width"] = trial.suggest_categorical("crossq_critic_width", list(CROSSQ_CRITIC_WIDTHS))
    else:
        sampled["critic_layer_norm"] = trial.suggest_categorical("critic_layer_norm", [False, True])

    hyperparams = convert_td3x_params(sampled)
    # Which machine and process ran the trial (several workers share a study)
    trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
    trial.set_user_attr("batch_size", hyperparams["batch_size"])
    trial.set_user_attr("policy_kwargs", str(hyperparams["policy_kwargs"]))
    # RL Zoo has already turned noise_type/noise_std of the yml file into an action noise object when the
    # sampler runs, so the sampled noise is built here
    noise_type = hyperparams.pop("noise_type")
    noise_std = hyperparams.pop("noise_std")
    schedule = pop_noise_schedule(hyperparams)
    normal = NormalActionNoise(mean=np.zeros(n_actions), sigma=noise_std * np.ones(n_actions))
    hyperparams["action_noise"] = scheduled_noise(normal, schedule) if noise_type == "normal" else None
    return hyperparams


def convert_td3x_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    Turn the parameters of a trial of :func:`sample_td3x_params` into hyperparameters in RL Zoo's yml form
    (``HYPERPARAMS_CONVERTER["td3x"]``: used by ``--storage ... --study-name ... --trial-id ...``).

    Every TD3X key the sampler decides is set, including those that the choice switches off (``None``), so
    that the values of the yml file they override cannot leak into the trial's configuration.

    :param sampled_params: ``trial.params`` of a trial of :func:`sample_td3x_params`
    :return: hyperparameters, with the action noise as ``noise_type`` / ``noise_std`` and its schedule
        (:mod:`sb3_td3x.zoo.noise`)
    """
    exploration = sampled_params["exploration"]
    if exploration not in EXPLORATION_KINDS:
        raise ValueError(f"exploration must be one of {EXPLORATION_KINDS}, got {exploration!r}")
    net_arch = NET_ARCHS[sampled_params["net_arch"]]
    # critic_layer_norm and crossq are absent from the trials of studies started before the sampler had them: those
    # trials ran without
    critic_layer_norm = sampled_params.get("critic_layer_norm", False)
    crossq = sampled_params.get("crossq", False)
    if crossq and exploration != "normal":
        raise ValueError(f"crossq=True needs exploration 'normal' (CrossQ's actor has no NoisyNet form), got {exploration!r}")
    hyperparams: dict[str, Any] = {
        "learning_rate": sampled_params["learning_rate"],
        "batch_size": 2 ** sampled_params["batch_size_pow"],
        **convert_replay_params(sampled_params),
        "noise_decay_steps": None,
    }

    if exploration == "normal":
        schedule = sampled_params["noise_schedule"]
        noise_std = sampled_params["noise_std"]
        policy_kwargs: dict[str, Any]
        if crossq:
            width = sampled_params["crossq_critic_width"]
            policy, policy_kwargs = "CrossQPolicy", dict(net_arch=dict(pi=net_arch, qf=[width, width]))
        else:
            policy, policy_kwargs = "MlpPolicy", dict(net_arch=net_arch, critic_layer_norm=critic_layer_norm)
        hyperparams.update(
            policy=policy,
            policy_kwargs=policy_kwargs,
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


#: The trial parameters of :func:`sample_replay_params` (named as the buffers' keywords, except the kind)
REPLAY_PARAMS = ("n_steps", "prioritized_replay", "alpha", "max_priority_reset", "beta0", "threshold_scale")


#: Embedding sizes of TD7's sampler (TD7: 256)
ZS_DIMS = (64, 128, 256)


def sample_td7_params(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
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
        "replay_buffer_kwargs": dict(max_priority_reset=interval),
        "policy_kwargs": dict(net_arch=[width] * 3, zs_dim=sampled_params["zs_dim"], encoder_net_arch=[width] * 2),
    }


def sample_replay_params(trial: optuna.Trial) -> dict[str, Any]:
    """
    The replay part of every sampler of the package: ``n_steps`` (1 to 5), the kind of prioritized replay
    (``none`` / ``per`` / ``lap``) with ``alpha`` (0.1 to 1) and ``max_priority_reset`` (never or 250; PER and LAP),
    ``beta0`` (0.1 to 1; PER) and ``threshold_scale`` (LAP). Parameters of one choice are only sampled for it.

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
        sampled["threshold_scale"] = trial.suggest_categorical("threshold_scale", ["fixed", "reward", "td_error"])
    return sampled


def convert_replay_params(sampled_params: dict[str, Any]) -> dict[str, Any]:
    """
    :param sampled_params: ``trial.params`` with the keys of :func:`sample_replay_params`
    :return: the replay hyperparameters: ``n_steps``, ``prioritized_replay`` and the whole ``replay_buffer_kwargs``
        (so that the yml file's replay settings cannot leak into the trial's configuration)
    """
    kind = sampled_params["prioritized_replay"]
    settings: dict[str, Any] = {}
    if kind != "none":
        settings["alpha"] = sampled_params["alpha"]
        if sampled_params.get("max_priority_reset"):
            settings["max_priority_reset"] = sampled_params["max_priority_reset"]
    if kind == "per":
        settings["beta0"] = sampled_params["beta0"]
    if kind == "lap":
        # lap_threshold: trials of studies started before the buffers' spelling
        settings["threshold_scale"] = sampled_params.get("threshold_scale", sampled_params.get("lap_threshold", "fixed"))
    return {
        "n_steps": sampled_params["n_steps"],
        # the kind of prioritized replay is chosen by prioritized_replay alone
        "replay_buffer_class": None,
        "prioritized_replay": kind,
        "replay_buffer_kwargs": settings,
    }


def prioritized_sampler(base_sampler: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """
    :param base_sampler: RL Zoo's own sampler of the SB3 parent (``sample_dqn_params``, ``sample_sac_params``, ...)
    :return: a sampler that samples RL Zoo's search space and then the replay's (:func:`sample_replay_params`)
    """

    @functools.wraps(base_sampler)
    def sampler(trial: optuna.Trial, n_actions: int, n_envs: int, additional_args: dict[str, Any]) -> dict[str, Any]:
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
        replay_keys = (*REPLAY_PARAMS, "lap_threshold")  # lap_threshold: trials of older studies
        base = base_converter({key: value for key, value in sampled_params.items() if key not in replay_keys})
        return {**base, **convert_replay_params(sampled_params)}

    return converter


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
