"""
The replay settings' allowed values and their checks, shared by the buffers (which check what they are given) and the
algorithms (which check everything before anything is built).
"""

from sb3_td3x.common.training_args import check_integer_at_least

PRIORITIZED_REPLAY_KINDS = ("none", "per", "lap")
IS_WEIGHT_NORMALIZATIONS = ("buffer", "batch")
THRESHOLD_SCALES = ("fixed", "reward", "td_error")


def check_n_steps(n_steps: int) -> None:
    """
    :param n_steps: Number of steps of the n-step return
    :raises ValueError: unless ``n_steps`` is an integer >= 1
    """
    check_integer_at_least("n_steps", n_steps, 1)


def check_threshold_scale(threshold_scale: str) -> None:
    """
    :param threshold_scale: What LAP's ``min_priority`` is a multiple of
    :raises ValueError: unless it is one of ``THRESHOLD_SCALES``
    """
    if threshold_scale not in THRESHOLD_SCALES:
        raise ValueError(f"threshold_scale must be one of {THRESHOLD_SCALES}, got {threshold_scale!r}")


def check_is_weight_normalization(is_weight_normalization: str) -> None:
    """
    :param is_weight_normalization: What PER's importance-sampling weights are divided by
    :raises ValueError: unless it is one of ``IS_WEIGHT_NORMALIZATIONS``
    """
    if is_weight_normalization not in IS_WEIGHT_NORMALIZATIONS:
        raise ValueError(f"is_weight_normalization must be one of {IS_WEIGHT_NORMALIZATIONS}, got {is_weight_normalization!r}")


def check_priority_args(
    alpha: float | None = None,
    beta0: float | None = None,
    priority_eps: float | None = None,
    min_priority: float | None = None,
    max_priority_reset: int | None = None,
) -> None:
    """
    Check the prioritized-replay arguments that are given (None: not given).

    :param alpha: Priority exponent, in [0, 1] (0: uniform sampling, 1: proportional to the priority)
    :param beta0: Initial importance-sampling exponent, in [0, 1]
    :param priority_eps: PER constant added to ``|delta|``, > 0
    :param min_priority: LAP lower clip of ``|delta|``, > 0
    :param max_priority_reset: Updates between two resets of the priority of new transitions, an integer >= 1
    :raises ValueError: naming the first argument out of its range
    """
    if alpha is not None and not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1] (0: uniform sampling, 1: proportional to the priority), got {alpha}")
    if beta0 is not None and not 0.0 <= beta0 <= 1.0:
        raise ValueError(f"beta0 must be in [0, 1], got {beta0}")
    if priority_eps is not None and not priority_eps > 0.0:
        raise ValueError(f"priority_eps must be > 0, got {priority_eps}")
    if min_priority is not None and not min_priority > 0.0:
        raise ValueError(f"min_priority must be > 0, got {min_priority}")
    if max_priority_reset is not None:
        check_integer_at_least("max_priority_reset", max_priority_reset, 1, "an integer >= 1 or None (never)")
