"""
The off-policy training arguments SB3 takes without a check, checked before anything is built: out of range, SB3
would train on an empty batch (``batch_size=0``: NaN losses, silently), divide by zero at the first update
(``policy_delay=0``) or fail deep inside numpy (``buffer_size=0``). Every algorithm of the package calls these in its
constructor, beside the replay arguments' checks.
"""

from typing import Any

import numpy as np


def is_integer_at_least(value: Any, low: int) -> bool:
    """
    :param value: A value
    :param low: The smallest integer allowed
    :return: Whether ``value`` is an integer (Python's or numpy's, not a bool) >= ``low``
    """
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and bool(value >= low)


def check_integer_at_least(name: str, value: Any, low: int, allowed: str | None = None) -> None:
    """
    :param name: The argument's name, for the message
    :param value: Its value
    :param low: The smallest value allowed
    :param allowed: What the message says is allowed (default: "an integer >= low")
    :raises ValueError: unless ``value`` is an integer (not a bool) >= ``low``
    """
    if not is_integer_at_least(value, low):
        raise ValueError(f"{name} must be {allowed or f'an integer >= {low}'}, got {value!r}")


def _number_in(name: str, value: Any, low: float, high: float = float("inf")) -> None:
    # NaN fails both comparisons; bool is an int to Python, not a number here
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool) or not low <= value <= high:
        allowed = f">= {low:g}" if high == float("inf") else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def train_freq_pair(train_freq: Any) -> tuple[Any, Any]:
    """
    :param train_freq: SB3's ``train_freq``: env steps, a tuple ``(frequency, unit)`` or a ``TrainFreq``
    :return: ``(frequency, unit)``, the unit as a string (``"step"`` for a bare frequency; SB3's
        ``TrainFrequencyUnit`` by its value); ``(None, None)`` for a tuple that is not a pair
    """
    pair: tuple[Any, ...] = tuple(train_freq) if isinstance(train_freq, tuple) else (train_freq, "step")
    if len(pair) != 2:
        return None, None
    frequency, unit = pair
    return frequency, getattr(unit, "value", unit)


def check_off_policy_args(
    buffer_size: int,
    learning_starts: int,
    batch_size: int,
    tau: float,
    gamma: float,
    train_freq: int | tuple[int, str],
    gradient_steps: int,
) -> None:
    """
    :param buffer_size: Size of the replay buffer: an integer >= 1
    :param learning_starts: Env steps before the first update: >= 0
    :param batch_size: Minibatch size of each gradient update: an integer >= 1
    :param tau: The soft update coefficient: in [0, 1]
    :param gamma: The discount factor: in [0, 1]
    :param train_freq: Env steps (an integer >= 1) or a tuple ``(frequency, unit)`` with ``unit`` ``"step"`` or
        ``"episode"`` between two rounds of updates
    :param gradient_steps: Gradient steps after each rollout: an integer >= 0, or -1 (as many as env steps)
    :raises ValueError: naming the first argument out of its range, and the range
    """
    check_integer_at_least("buffer_size", buffer_size, 1)
    _number_in("learning_starts", learning_starts, 0)
    check_integer_at_least("batch_size", batch_size, 1)
    _number_in("tau", tau, 0, 1)
    _number_in("gamma", gamma, 0, 1)
    frequency, unit = train_freq_pair(train_freq)
    if not is_integer_at_least(frequency, 1) or unit not in ("step", "episode"):
        raise ValueError(
            "train_freq must be an integer >= 1 (env steps) or a tuple (frequency >= 1, 'step' | 'episode'), "
            f"got {train_freq!r}"
        )
    check_integer_at_least("gradient_steps", gradient_steps, -1, "an integer >= 0, or -1 (as many as env steps)")


def check_td3_args(policy_delay: int, target_policy_noise: float, target_noise_clip: float) -> None:
    """
    :param policy_delay: Critic updates per actor (and target) update: an integer >= 1
    :param target_policy_noise: Standard deviation of the target policy smoothing noise: >= 0
    :param target_noise_clip: Limit of its absolute value: >= 0
    :raises ValueError: naming the first argument out of its range, and the range
    """
    check_integer_at_least("policy_delay", policy_delay, 1)
    _number_in("target_policy_noise", target_policy_noise, 0)
    _number_in("target_noise_clip", target_noise_clip, 0)
