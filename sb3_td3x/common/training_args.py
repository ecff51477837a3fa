"""
The off-policy training arguments SB3 takes without a check, checked before anything is built: out of range, SB3
would train on an empty batch (``batch_size=0``: NaN losses, silently), divide by zero at the first update
(``policy_delay=0``) or fail deep inside numpy (``buffer_size=0``). Every algorithm of the package calls these in its
constructor, beside the replay arguments' checks.
"""

import numbers
from typing import Any


def _is_integer(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value  # NaN is not a value


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
    if not _is_integer(buffer_size) or buffer_size < 1:
        raise ValueError(f"buffer_size must be an integer >= 1, got {buffer_size!r}")
    if not _is_real(learning_starts) or learning_starts < 0:
        raise ValueError(f"learning_starts must be >= 0, got {learning_starts!r}")
    if not _is_integer(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if not _is_real(tau) or not 0 <= tau <= 1:
        raise ValueError(f"tau must be in [0, 1], got {tau!r}")
    if not _is_real(gamma) or not 0 <= gamma <= 1:
        raise ValueError(f"gamma must be in [0, 1], got {gamma!r}")
    pair: tuple[Any, ...] = tuple(train_freq) if isinstance(train_freq, tuple) else (train_freq, "step")
    frequency, unit = pair if len(pair) == 2 else (0, None)
    unit = getattr(unit, "value", unit)  # SB3's TrainFrequencyUnit
    if not _is_integer(frequency) or frequency < 1 or unit not in ("step", "episode"):
        raise ValueError(
            "train_freq must be an integer >= 1 (env steps) or a tuple (frequency >= 1, 'step' | 'episode'), "
            f"got {train_freq!r}"
        )
    if not _is_integer(gradient_steps) or gradient_steps < -1:
        raise ValueError(f"gradient_steps must be an integer >= 0, or -1 (as many as env steps), got {gradient_steps!r}")


def check_td3_args(policy_delay: int, target_policy_noise: float, target_noise_clip: float) -> None:
    """
    :param policy_delay: Critic updates per actor (and target) update: an integer >= 1
    :param target_policy_noise: Standard deviation of the target policy smoothing noise: >= 0
    :param target_noise_clip: Limit of its absolute value: >= 0
    :raises ValueError: naming the first argument out of its range, and the range
    """
    if not _is_integer(policy_delay) or policy_delay < 1:
        raise ValueError(f"policy_delay must be an integer >= 1, got {policy_delay!r}")
    if not _is_real(target_policy_noise) or target_policy_noise < 0:
        raise ValueError(f"target_policy_noise must be >= 0, got {target_policy_noise!r}")
    if not _is_real(target_noise_clip) or target_noise_clip < 0:
        raise ValueError(f"target_noise_clip must be >= 0, got {target_noise_clip!r}")
