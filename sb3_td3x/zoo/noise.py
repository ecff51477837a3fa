"""
The exploration-noise schedule in RL Zoo's hyperparameters: beside RL Zoo's own ``noise_type`` and ``noise_std``,
``noise_schedule`` (``"constant"``, ``"linear"`` or ``"exponential"``), ``noise_final_std`` (the std at the end of
the decay) and ``noise_decay_steps`` (env steps of the decay; default: the whole run) turn the Gaussian action noise
RL Zoo builds into a :class:`~sb3_td3x.common.noise.DecayingNormalActionNoise`, the algorithm's ``action_noise``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise

from sb3_td3x.common.noise import DecayingNormalActionNoise

#: The schedule's keys of RL Zoo's hyperparameters
NOISE_SCHEDULE_KEYS = ("noise_schedule", "noise_final_std", "noise_decay_steps")
#: Values of ``noise_schedule`` (``"constant"``: RL Zoo's noise as it is)
NOISE_SCHEDULES = ("constant", "linear", "exponential")


def pop_noise_schedule(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """
    :param hyperparams: RL Zoo's hyperparameters (changed: the schedule's keys are removed).
    :return: the schedule's keys that were there.
    """
    return {key: hyperparams.pop(key) for key in NOISE_SCHEDULE_KEYS if key in hyperparams}


def check_noise_schedule(schedule: dict[str, Any], noise_type: str | None) -> None:
    """
    :param schedule: The schedule's keys (:func:`pop_noise_schedule`).
    :param noise_type: RL Zoo's ``noise_type``.
    :raises ValueError: naming the key and its allowed values.
    """
    kind = schedule.get("noise_schedule", "constant")
    if kind not in NOISE_SCHEDULES:
        raise ValueError(f"noise_schedule must be one of {NOISE_SCHEDULES}, got {kind!r}")
    final_std, decay_steps = schedule.get("noise_final_std"), schedule.get("noise_decay_steps")
    if kind == "constant":
        if final_std is not None or decay_steps is not None:
            raise ValueError("noise_final_std / noise_decay_steps need noise_schedule 'linear' or 'exponential'")
        return
    if noise_type != "normal":
        raise ValueError(f"noise_schedule {kind!r} decays a Gaussian action noise: it needs noise_type 'normal'")
    bound = 0.0 if kind == "linear" else np.finfo(np.float64).tiny
    if isinstance(final_std, bool) or not isinstance(final_std, (int, float)) or not bound <= final_std < float("inf"):
        raise ValueError(
            f"noise_final_std must be {'>= 0' if kind == 'linear' else '> 0'} with noise_schedule {kind!r}, got {final_std!r}"
        )
    if decay_steps is not None and (isinstance(decay_steps, bool) or not isinstance(decay_steps, int) or decay_steps < 1):
        raise ValueError(f"noise_decay_steps must be an integer >= 1 (or None: the whole run), got {decay_steps!r}")


def scheduled_noise(action_noise: ActionNoise | None, schedule: dict[str, Any]) -> ActionNoise | None:
    """
    :param action_noise: The noise RL Zoo built from ``noise_type`` / ``noise_std``.
    :param schedule: The schedule's keys (already checked).
    :return: the noise, decaying as the schedule says (RL Zoo's noise itself with ``"constant"``).
    """
    kind = schedule.get("noise_schedule", "constant")
    if kind == "constant" or not isinstance(action_noise, NormalActionNoise):
        return action_noise
    return DecayingNormalActionNoise.from_normal(
        action_noise, schedule["noise_final_std"], schedule.get("noise_decay_steps"), kind
    )
