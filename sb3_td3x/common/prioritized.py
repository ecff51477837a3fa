"""
Prioritized replay for SB3's off-policy algorithms: the one mechanism behind TD3X, DQNX, SACX and DDPGX.

PER: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
LAP: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay, Fujimoto et al. 2020,
https://arxiv.org/abs/2007.06049, reference implementation https://github.com/sfujim/LAP-PAL

The buffers own what differs between the kinds of replay (:mod:`sb3_td3x.common.buffers`: the loss of a batch, the
priorities written back, what is logged). :class:`PrioritizedReplayMixin` goes before the SB3 algorithm in the bases
(``class DQNX(PrioritizedReplayMixin, DQN)``) and owns what is the same for every algorithm: the arguments and their
checks, the choice of the buffer (``prioritized_replay`` is the short form of SB3's ``replay_buffer_class``, resolved
once), and the four calls an algorithm's ``train()`` makes, each marked there: :meth:`~PrioritizedReplayMixin.\
_start_replay_updates`, :meth:`~PrioritizedReplayMixin._replay_loss`, :meth:`~PrioritizedReplayMixin._write_priorities`
and :meth:`~PrioritizedReplayMixin._record_replay`.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer

from sb3_td3x.common.buffers import PRIORITIZED_BUFFERS, replay_buffer_defaults, replay_kind, resolve_kind
from sb3_td3x.common.indexed_buffer import Loss, ReplayHooks, replay_hooks
from sb3_td3x.common.replay_args import (
    PRIORITIZED_REPLAY_KINDS,
    THRESHOLD_SCALES,
    check_is_weight_normalization,
    check_n_steps,
    check_priority_args,
)

# Gradient steps between two computations of the buffer-wide priority statistics (an O(buffer) pass)
PRIORITY_STATS_INTERVAL = 1000


class UnsupportedSpaceError(ValueError, AssertionError):
    """
    An environment space the algorithm cannot learn on, refused before anything is built, with a message that names
    it. A ``ValueError`` like every other bad argument of the package, and an ``AssertionError`` as SB3's own check of
    the same thing raises (SB3's ``assert isinstance(self.action_space, supported_action_spaces)``), so code that
    catches either keeps working.
    """


def check_action_space(algorithm: str, env: Any) -> None:
    """
    :param algorithm: The algorithm's name (for the message).
    :param env: The environment.
    :raises UnsupportedSpaceError: when its action space is not a continuous ``Box``.
    """
    if not isinstance(env.action_space, spaces.Box):
        raise UnsupportedSpaceError(
            f"env: {algorithm} needs a continuous gymnasium.spaces.Box action space, got {env.action_space}"
        )


def check_prioritized_replay_args(
    prioritized_replay: str,
    replay_buffer_class: type[ReplayBuffer] | None,
    replay_buffer_kwargs: dict[str, Any] | None,
    alpha: float | None,
    beta0: float | None,
    priority_eps: float | None,
    min_priority: float | None,
    lap_threshold: str,
    max_priority_reset: int | None,
    is_weight_normalization: str | None,
) -> None:
    """
    Check the prioritized-replay arguments of an algorithm before anything is built.

    :raises ValueError: naming the first argument out of its range, or two arguments that conflict.
    """
    if prioritized_replay not in PRIORITIZED_REPLAY_KINDS:
        raise ValueError(f"prioritized_replay must be one of {PRIORITIZED_REPLAY_KINDS}, got {prioritized_replay!r}")
    class_kind = replay_kind(replay_buffer_class)
    if prioritized_replay != "none" and replay_buffer_class is not None and class_kind != prioritized_replay:
        raise ValueError(
            f"prioritized_replay={prioritized_replay!r} conflicts with replay_buffer_class="
            f"{replay_buffer_class.__name__}: pass one or the other"
        )
    check_priority_args(alpha=alpha, beta0=beta0, priority_eps=priority_eps, min_priority=min_priority)
    kind = resolve_kind(prioritized_replay, replay_buffer_class)
    if lap_threshold not in THRESHOLD_SCALES:
        raise ValueError(f"lap_threshold must be one of {THRESHOLD_SCALES}, got {lap_threshold!r}")
    if max_priority_reset is not None:
        if (
            not isinstance(max_priority_reset, (int, np.integer))
            or isinstance(max_priority_reset, bool)
            or max_priority_reset < 1
        ):
            raise ValueError(f"max_priority_reset must be an integer >= 1 or None, got {max_priority_reset!r}")
        if kind == "none":
            raise ValueError("max_priority_reset needs prioritized_replay='per' or 'lap', got prioritized_replay='none'")
    if is_weight_normalization is not None:
        check_is_weight_normalization(is_weight_normalization)
        if kind != "per":
            raise ValueError(
                f"is_weight_normalization needs prioritized_replay='per' (only PER has importance-sampling "
                f"weights), got prioritized_replay={kind!r}"
            )
    check_no_conflict(
        replay_buffer_kwargs,
        [
            ("alpha", "alpha", alpha),
            ("beta0", "beta0", beta0),
            ("priority_eps", "priority_eps", priority_eps),
            ("min_priority", "min_priority", min_priority),
            ("lap_threshold", "threshold_scale", lap_threshold if lap_threshold != "fixed" else None),
            ("is_weight_normalization", "is_weight_normalization", is_weight_normalization),
        ],
    )


def check_replay_support(
    env: Any,
    prioritized_replay: str,
    replay_buffer_class: type[ReplayBuffer] | None,
    n_steps: int,
    optimize_memory_usage: bool,
) -> None:
    """
    What SB3's n-step buffer refuses, and the prioritized buffers built on it: one clear error before anything is
    built, instead of an assertion or a buffer error halfway through the setup.

    :param env: The (built) environment.
    :raises ValueError: for Dict observations or ``optimize_memory_usage`` with prioritized replay or ``n_steps > 1``.
    """
    prioritized = resolve_kind(prioritized_replay, replay_buffer_class) != "none"
    if not prioritized and n_steps == 1:
        return
    what = "prioritized replay" if prioritized else f"n_steps={n_steps}"
    if isinstance(env.observation_space, spaces.Dict):
        raise ValueError(
            f"observation_space: {what} does not support Dict observation spaces (SB3's n-step buffer does not either)"
        )
    if optimize_memory_usage:
        raise ValueError(f"optimize_memory_usage=True is not supported with {what} (SB3's n-step buffer refuses it too)")


def check_no_conflict(replay_buffer_kwargs: dict[str, Any] | None, arguments: list[tuple[str, str, Any]]) -> None:
    """
    :param replay_buffer_kwargs: The user's ``replay_buffer_kwargs``.
    :param arguments: (algorithm argument, buffer keyword it becomes, value; None: not given).
    :raises ValueError: when an argument given to the algorithm is also in ``replay_buffer_kwargs`` with another value.
    """
    kwargs = replay_buffer_kwargs or {}
    for name, buffer_name, value in arguments:
        if value is not None and kwargs.get(buffer_name, value) != value:
            raise ValueError(
                f"{name}={value} conflicts with replay_buffer_kwargs[{buffer_name!r}]={kwargs[buffer_name]}: pass it once"
            )


class PrioritizedReplayMixin:
    """
    Prioritized replay (PER or LAP) for an SB3 off-policy algorithm; see the module docstring. The algorithm's
    constructor calls :meth:`_init_prioritized_replay` first (it checks the arguments before anything is built), then
    its SB3 parent with ``_init_setup_model=False``, then ``_setup_model()``.

    The replay arguments of every algorithm of the package (TD3X, DQNX, SACX, DDPGX, TD7), documented here once:

    :param n_steps: Number of steps of the n-step return (SB3's ``NStepReplayBuffer``), >= 1; also applied to a
        prioritized buffer
    :param replay_buffer_class: SB3's way to choose the buffer: ``PrioritizedReplayBuffer`` or ``LAPReplayBuffer``
        (or a subclass) switch prioritized replay on exactly as ``prioritized_replay`` does; ``None``: chosen from
        ``prioritized_replay`` and ``n_steps``
    :param replay_buffer_kwargs: Keyword arguments of the buffer (those of ``PrioritizedReplayBuffer`` or
        ``LAPReplayBuffer``; the arguments below are their short forms, and giving one both ways with two values is
        an error)
    :param prioritized_replay: ``"none"`` (uniform replay), ``"per"`` (proportional prioritized replay with
        importance-sampling weights) or ``"lap"`` (loss-adjusted prioritized replay with a Huber loss)
    :param alpha: Priority exponent, in [0, 1] (0: uniform sampling). ``None``: the buffer's default (0.6 for PER,
        0.4 for LAP)
    :param beta0: PER only: initial importance-sampling exponent in [0, 1], annealed linearly to 1 over the
        training run. ``None``: 0.4
    :param priority_eps: PER only: constant added to ``|delta|``, > 0. ``None``: 1e-6
    :param min_priority: LAP only: lower clip of ``|delta|`` and Huber threshold, > 0. ``None``: 1.0
    :param lap_threshold: LAP only: what ``min_priority`` (the Huber threshold and the priority floor) is a multiple
        of: ``"fixed"`` (nothing: the paper's fixed threshold), ``"reward"`` (the mean absolute reward of the buffer,
        MR.Q's reward scaling, Fujimoto et al. 2025) or ``"td_error"`` (a running mean of the sampled ``|delta|``, so
        that the threshold follows the TD errors as the values grow)
    :param max_priority_reset: PER / LAP: every this many gradient steps, the priority given to new transitions is
        reset to the largest priority still stored (TD7, Fujimoto et al. 2023, resets it every 250).
        ``None``: never (the largest priority ever seen, as in PER and LAP)
    :param is_weight_normalization: PER only: ``"buffer"`` (importance-sampling weights divided by the largest
        possible weight over the buffer, Schaul et al. 2016) or ``"batch"`` (by the largest in the batch).
        ``None``: ``"buffer"``
    """

    # Set by the SB3 algorithm this mixin goes with
    replay_buffer: ReplayBuffer | None
    replay_buffer_class: type[ReplayBuffer] | None
    replay_buffer_kwargs: dict[str, Any]
    n_steps: int
    gamma: float
    _n_updates: int
    _current_progress_remaining: float
    logger: Any
    _vec_normalize_env: Any

    def _init_prioritized_replay(
        self,
        n_steps: int,
        replay_buffer_class: type[ReplayBuffer] | None,
        replay_buffer_kwargs: dict[str, Any] | None,
        prioritized_replay: str = "none",
        alpha: float | None = None,
        beta0: float | None = None,
        priority_eps: float | None = None,
        min_priority: float | None = None,
        lap_threshold: str = "fixed",
        max_priority_reset: int | None = None,
        is_weight_normalization: str | None = None,
    ) -> None:
        """
        Check the replay arguments (:func:`check_prioritized_replay_args`, ``n_steps``) and keep the prioritized-replay
        ones on the algorithm, so that ``save`` keeps them. Called first in the constructor, before anything is built.
        """
        check_n_steps(n_steps)
        check_prioritized_replay_args(
            prioritized_replay,
            replay_buffer_class,
            replay_buffer_kwargs,
            alpha,
            beta0,
            priority_eps,
            min_priority,
            lap_threshold,
            max_priority_reset,
            is_weight_normalization,
        )
        # One source of truth: a prioritized replay_buffer_class names its kind, prioritized_replay is its short form
        self.prioritized_replay = resolve_kind(prioritized_replay, replay_buffer_class)
        self.alpha = alpha
        self.beta0 = beta0
        self.priority_eps = priority_eps
        self.min_priority = min_priority
        self.lap_threshold = lap_threshold
        self.max_priority_reset = max_priority_reset
        self.is_weight_normalization = is_weight_normalization

    def _setup_model(self) -> None:
        """
        Choose the buffer (``prioritized_replay`` or ``replay_buffer_class``), give a prioritized one its keywords
        and any of the package's buffers SB3's ``n_steps`` / ``gamma`` (SB3 wires ``n_steps`` only into its own buffer
        choice), then SB3's setup.
        """
        if self.replay_buffer_class is None and self.prioritized_replay != "none":
            self.replay_buffer_class = PRIORITIZED_BUFFERS[self.prioritized_replay]
        n_steps = self.n_steps
        settings = {
            "alpha": self.alpha,
            "beta0": self.beta0,
            "priority_eps": self.priority_eps,
            "min_priority": self.min_priority,
            "lap_threshold": self.lap_threshold if self.lap_threshold != "fixed" else None,
            "is_weight_normalization": self.is_weight_normalization,
        }
        # SB3's own buffers (replay_buffer_class None) take none of the settings
        defaults, unused = replay_buffer_defaults(self.replay_buffer_class, self.n_steps, self.gamma, settings)
        for name, value in defaults.items():
            self.replay_buffer_kwargs.setdefault(name, value)
        own_buffer = "n_steps" in defaults
        # A yml entry or a zoo file may set one for a kind of replay that the command line switches off
        if unused:
            warnings.warn(f"{', '.join(unused)} ignored: only used by the other kind of prioritized replay")
            # Back to their defaults, so that the model's attributes (and a saved model) say what it trains with
            parameters = inspect.signature(PrioritizedReplayMixin._init_prioritized_replay).parameters
            for name in unused:
                setattr(self, name, parameters[name].default)
        if own_buffer:
            self.n_steps = 1  # the buffer has it already; silences SB3's "n_steps is ignored" warning
        try:
            super()._setup_model()  # type: ignore[misc]
        finally:
            self.n_steps = n_steps

    @property
    def _replay(self) -> ReplayHooks:
        """The replay's hooks: the buffer itself for the package's buffers, uniform replay's for SB3's own."""
        return replay_hooks(self.replay_buffer)

    def _on_step(self) -> None:
        super()._on_step()  # type: ignore[misc]
        # PER's beta goes from beta0 to 1 over the training run
        self._replay.set_progress(1.0 - self._current_progress_remaining)

    def _start_replay_updates(self) -> dict[str, Any]:
        """
        Called at the start of ``train()`` (LAP sets its Huber threshold for the call).

        :return: the accumulators of the call's diagnostics, to give to :meth:`_replay_loss` and :meth:`_record_replay`.
        """
        return self._replay.begin_updates(self._vec_normalize_env)

    def _replay_loss(
        self,
        current_q_values: Sequence[th.Tensor],
        target_q_values: th.Tensor,
        replay_data: Any,
        stats: dict[str, Any],
        loss: Loss = "mse",
    ) -> tuple[th.Tensor, th.Tensor]:
        """
        The loss of a batch, summed over the Q-networks, and the TD errors that become the priorities: the buffer's
        own (``batch_loss`` of :mod:`sb3_td3x.common.buffers`): SB3's loss with uniform replay, bit for bit;
        importance-weighted with PER; a Huber loss of threshold ``min_priority`` with LAP.

        :param current_q_values: One ``(batch, 1)`` tensor per Q-network.
        :param target_q_values: The targets, ``(batch, 1)``.
        :param replay_data: The sampled batch.
        :param stats: The accumulators of :meth:`_start_replay_updates`.
        :param loss: The algorithm's loss with uniform replay: squared error (TD3, SAC) or Huber (DQN).
        :return: the loss, and the TD errors, ``(batch, number of Q-networks)``, detached.
        """
        return self._replay.batch_loss(current_q_values, target_q_values, replay_data, stats, loss)

    def _write_priorities(self, replay_data: Any, td_errors: th.Tensor) -> None:
        """
        After the update: the buffer's new priorities (prioritized replay), and the periodic reset of the priority
        given to new transitions (``max_priority_reset``, counted in gradient steps).
        """
        replay = self._replay
        replay.after_update(replay_data, td_errors)
        if self.max_priority_reset is not None and self._n_updates % self.max_priority_reset == 0:
            replay.reset_max_priority()

    def _record_replay(self, stats: dict[str, Any], gradient_steps: int) -> None:
        """
        Log what the replay did (the buffer's keys: mean ``|TD error|``, LAP's Huber threshold and linear share, PER's
        ``beta`` and weights, the largest priority), and the sampling distribution's statistics, refreshed every
        ``PRIORITY_STATS_INTERVAL`` gradient steps (an O(buffer) pass).
        """
        replay = self._replay
        replay.record(self.logger, stats, gradient_steps)
        cached = getattr(self, "_priority_stats", None)
        if cached is None or self._n_updates // PRIORITY_STATS_INTERVAL != (self._n_updates - gradient_steps) // (
            PRIORITY_STATS_INTERVAL
        ):
            cached = self._priority_stats = replay.priority_stats()
        for key, value in cached.items():
            self.logger.record(f"train/{key}", value)
