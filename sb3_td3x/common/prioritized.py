"""
Prioritized replay for SB3's off-policy algorithms: the one mechanism behind TD3X, DQNX, SACX and DDPGX.

PER: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
LAP: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay, Fujimoto et al. 2020,
https://arxiv.org/abs/2007.06049, reference implementation https://github.com/sfujim/LAP-PAL

:class:`PrioritizedReplayMixin` goes before the SB3 algorithm in the bases (``class DQNX(PrioritizedReplayMixin,
DQN)``). It owns everything that is the same for every algorithm: the arguments (``prioritized_replay``, ``alpha``,
``beta0``, ``priority_eps``, ``min_priority``, ``lap_threshold``, ``max_priority_reset``,
``is_weight_normalization``) and their checks, the choice of the buffer (with SB3's ``n_steps`` put under it), the
annealing of ``beta``, the loss of a batch (SB3's own with uniform replay, importance-weighted with PER, Huber with
LAP), the write-back of the priorities and what the logger shows. An algorithm's ``train()`` is SB3's, with the loss
computed by :meth:`PrioritizedReplayMixin._replay_loss` and the priorities written back by
:meth:`PrioritizedReplayMixin._write_priorities` after the update.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from torch.nn import functional as F

from sb3_td3x.common.buffers import (
    THRESHOLD_SCALES,
    IndexedReplayBuffer,
    LAPReplayBuffer,
    PrioritizedReplayBuffer,
    check_is_weight_normalization,
    check_n_steps,
    check_priority_args,
)

PRIORITIZED_REPLAY_KINDS = ("none", "per", "lap")

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
    if prioritized_replay != "none" and replay_buffer_class is not None:
        expected = LAPReplayBuffer if prioritized_replay == "lap" else PrioritizedReplayBuffer
        if not issubclass(replay_buffer_class, expected) or (
            prioritized_replay == "per" and issubclass(replay_buffer_class, LAPReplayBuffer)
        ):
            raise ValueError(
                f"prioritized_replay={prioritized_replay!r} conflicts with replay_buffer_class="
                f"{replay_buffer_class.__name__}: pass one or the other"
            )
    check_priority_args(alpha=alpha, beta0=beta0, priority_eps=priority_eps, min_priority=min_priority)
    kind = prioritized_replay
    if replay_buffer_class is not None and issubclass(replay_buffer_class, PrioritizedReplayBuffer):
        kind = "lap" if issubclass(replay_buffer_class, LAPReplayBuffer) else "per"
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
    prioritized = prioritized_replay != "none" or (
        replay_buffer_class is not None and issubclass(replay_buffer_class, PrioritizedReplayBuffer)
    )
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
        self.prioritized_replay = prioritized_replay
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
            self.replay_buffer_class = LAPReplayBuffer if self.prioritized_replay == "lap" else PrioritizedReplayBuffer
        prioritized = self.replay_buffer_class is not None and issubclass(self.replay_buffer_class, PrioritizedReplayBuffer)
        indexed = self.replay_buffer_class is not None and issubclass(self.replay_buffer_class, IndexedReplayBuffer)
        n_steps = self.n_steps
        if indexed:
            self.replay_buffer_kwargs.setdefault("n_steps", self.n_steps)
            self.replay_buffer_kwargs.setdefault("gamma", self.gamma)
        if prioritized:
            assert self.replay_buffer_class is not None
            lap = issubclass(self.replay_buffer_class, LAPReplayBuffer)
            own_args: dict[str, Any] = (
                {
                    "alpha": self.alpha,
                    "min_priority": self.min_priority,
                    "threshold_scale": self.lap_threshold if self.lap_threshold != "fixed" else None,
                }
                if lap
                else {
                    "alpha": self.alpha,
                    "beta0": self.beta0,
                    "priority_eps": self.priority_eps,
                    "is_weight_normalization": self.is_weight_normalization,
                }
            )
            for name, value in own_args.items():
                if value is not None:
                    self.replay_buffer_kwargs.setdefault(name, value)
            unused = [
                name
                for name in ("beta0", "priority_eps", "min_priority")
                if name not in own_args and getattr(self, name) is not None
            ]
        else:
            unused = [name for name in ("alpha", "beta0", "priority_eps", "min_priority") if getattr(self, name) is not None]
        # Like min_priority: a yml entry or a zoo file may set it for LAP while the command line switches LAP off
        lap_buffer = self.replay_buffer_class is not None and issubclass(self.replay_buffer_class, LAPReplayBuffer)
        if self.lap_threshold != "fixed" and not lap_buffer:
            unused.append("lap_threshold")
        if unused:
            warnings.warn(f"{', '.join(unused)} ignored: only used by the other kind of prioritized replay")
        if indexed:
            self.n_steps = 1  # the buffer has it already; silences SB3's "n_steps is ignored" warning
        try:
            super()._setup_model()  # type: ignore[misc]
        finally:
            self.n_steps = n_steps

    def _anneal_beta(self) -> None:
        """PER's ``beta`` goes linearly from ``beta0`` to 1 over the training run (Schaul et al. 2016, section 3.4)."""
        if isinstance(self.replay_buffer, PrioritizedReplayBuffer) and self.replay_buffer.uses_is_weights:
            progress = min(max(1.0 - self._current_progress_remaining, 0.0), 1.0)
            self.replay_buffer.beta = self.replay_buffer.beta0 + (1.0 - self.replay_buffer.beta0) * progress

    def _on_step(self) -> None:
        super()._on_step()  # type: ignore[misc]
        self._anneal_beta()

    def _start_replay_updates(self) -> dict[str, Any]:
        """
        Called at the start of ``train()``: sets LAP's Huber threshold for this call.

        :return: the accumulators of :meth:`_replay_loss` (diagnostics), to give to :meth:`_record_replay`.
        """
        if isinstance(self.replay_buffer, LAPReplayBuffer):
            # The Huber threshold and the priority floor: min_priority, times the scale lap_threshold names
            self.replay_buffer.update_priority_floor(self._vec_normalize_env)
        device = getattr(self, "device", "cpu")
        return {"td_abs_sum": th.zeros((), device=device), "linear_sum": th.zeros((), device=device), "is_weights": []}

    def _replay_loss(
        self,
        current_q_values: Sequence[th.Tensor],
        target_q_values: th.Tensor,
        replay_data: Any,
        stats: dict[str, Any],
        loss: Literal["mse", "huber"] = "mse",
    ) -> tuple[th.Tensor, th.Tensor]:
        """
        The loss of a batch, summed over the Q-networks, and the TD errors that become the priorities.

        - Uniform replay: SB3's own (``F.mse_loss`` or ``F.smooth_l1_loss`` per Q-network), bit for bit.
        - PER: the same per-sample loss weighted by the importance-sampling weights (Schaul et al. 2016, Algorithm 1,
          line 11).
        - LAP: a Huber loss with threshold ``min_priority`` (times the scale ``lap_threshold`` names), no weights
          (Fujimoto et al. 2020, eq. 11); for an algorithm whose loss is already a Huber loss (DQN), only its
          threshold moves to ``min_priority``.

        :param current_q_values: One ``(batch, 1)`` tensor per Q-network.
        :param target_q_values: The targets, ``(batch, 1)``.
        :param replay_data: The sampled batch (its ``weights`` with PER).
        :param stats: The accumulators of :meth:`_start_replay_updates`.
        :param loss: The algorithm's loss with uniform replay: squared error (TD3, SAC) or Huber (DQN).
        :return: the loss, and the TD errors, ``(batch, number of Q-networks)``, detached.
        """
        td_errors = th.cat([current_q - target_q_values for current_q in current_q_values], dim=1).detach()
        stats["td_abs_sum"] += td_errors.abs().mean()
        buffer = self.replay_buffer
        if not isinstance(buffer, PrioritizedReplayBuffer):
            sb3_loss = F.mse_loss if loss == "mse" else F.smooth_l1_loss
            total = sum(sb3_loss(current_q, target_q_values) for current_q in current_q_values)
        elif buffer.uses_is_weights:
            per_sample = F.mse_loss if loss == "mse" else F.smooth_l1_loss
            weights = replay_data.weights
            total = sum(
                (weights * per_sample(current_q, target_q_values, reduction="none")).mean() for current_q in current_q_values
            )
            stats["is_weights"].append(weights.mean().item())
        else:
            delta = buffer.priority_floor  # type: ignore[attr-defined]
            total = sum(F.huber_loss(current_q, target_q_values, delta=delta) for current_q in current_q_values)
            stats["linear_sum"] += (td_errors.abs() > delta).float().mean()
        assert isinstance(total, th.Tensor)
        return total, td_errors

    def _write_priorities(self, replay_data: Any, td_errors: th.Tensor) -> None:
        """
        New priorities from the larger ``|TD error|`` of the Q-networks (as the LAP reference code does for twin
        critics: a transition keeps priority while either still fits it badly), and the periodic reset of the
        priority given to new transitions (``max_priority_reset``). Nothing to do with uniform replay.
        """
        if not isinstance(self.replay_buffer, PrioritizedReplayBuffer):
            return
        self.replay_buffer.update_priorities(replay_data.indices, td_errors.abs().max(dim=1).values)
        if self.max_priority_reset is not None and self._n_updates % self.max_priority_reset == 0:
            self.replay_buffer.reset_max_priority()

    def _record_replay(self, stats: dict[str, Any], gradient_steps: int) -> None:
        """
        Log what the replay does: mean ``|TD error|`` of the batches, LAP's share of TD errors in the Huber loss's
        linear part and its threshold, the priorities (largest, median, 99th percentile, effective sample size of the
        sampling, refreshed every ``PRIORITY_STATS_INTERVAL`` gradient steps), PER's ``beta`` and IS weights.
        """
        if gradient_steps > 0:
            td_abs_mean = stats["td_abs_sum"].item() / gradient_steps
            self.logger.record("train/td_error_abs_mean", td_abs_mean)
            if isinstance(self.replay_buffer, LAPReplayBuffer):
                self.replay_buffer.record_td_errors(td_abs_mean)
                self.logger.record("train/huber_linear_frac", stats["linear_sum"].item() / gradient_steps)
        if not isinstance(self.replay_buffer, PrioritizedReplayBuffer):
            return
        self.logger.record("train/max_priority", self.replay_buffer.max_priority)
        cached = getattr(self, "_priority_stats", None)
        if cached is None or self._n_updates // PRIORITY_STATS_INTERVAL != (self._n_updates - gradient_steps) // (
            PRIORITY_STATS_INTERVAL
        ):
            cached = self._priority_stats = self.replay_buffer.priority_stats()
        for key, value in cached.items():
            self.logger.record(f"train/{key}", value)
        if isinstance(self.replay_buffer, LAPReplayBuffer):
            self.logger.record("train/huber_threshold", self.replay_buffer.priority_floor)
        if self.replay_buffer.uses_is_weights:
            self.logger.record("train/beta", self.replay_buffer.beta)
            if stats["is_weights"]:
                self.logger.record("train/is_weight_mean", float(np.mean(stats["is_weights"])))
