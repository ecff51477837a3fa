"""
Prioritized replay buffers, built on :class:`~sb3_td3x.common.indexed_buffer.IndexedReplayBuffer` (SB3's
``NStepReplayBuffer``, so ``n_steps=1`` is the one-step case). Each owns its loss and its priority update
(:class:`~sb3_td3x.common.indexed_buffer.ReplayHooks`), so an algorithm's ``train()`` does not ask which kind it has.

- :class:`BasePrioritizedReplayBuffer`: what both kinds share: one sum tree and one min tree over the
  ``buffer_size * n_envs`` flat slots ``row * n_envs + env`` (a sampled slot is exactly one (row, env) pair of SB3's
  storage), stratified sampling, new transitions at the largest priority, the priorities written back from the TD
  errors.
- :class:`PrioritizedReplayBuffer`: proportional prioritized experience replay (Schaul et al. 2016),
  priority ``p = (|delta| + eps)^alpha``, the loss weighted by importance-sampling weights
  ``(N * P(i))^-beta / max_j (N * P(j))^-beta``.
- :class:`LAPReplayBuffer`: Loss-Adjusted Prioritized replay (Fujimoto et al. 2020),
  priority ``p = max(|delta|, min_priority)^alpha``, no importance-sampling weights, a Huber loss of threshold
  ``min_priority``.
"""

import inspect
import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.vec_env import VecNormalize
from torch.nn import functional as F

from sb3_td3x.common.indexed_buffer import IndexedReplayBuffer, Loss
from sb3_td3x.common.replay_args import check_is_weight_normalization, check_priority_args, check_threshold_scale
from sb3_td3x.common.segment_tree import MinSegmentTree, SumSegmentTree, update_trees

# Weight of the newest round of updates in LAP's running mean of |delta| (threshold_scale="td_error")
TD_ERROR_SCALE_RATE = 0.01
# Updates between two computations of the buffer-wide priority statistics (an O(buffer) pass), for the logs
PRIORITY_STATS_INTERVAL = 1000


class PrioritizedReplayBufferSamples(NamedTuple):
    """``ReplayBufferSamples`` plus the importance-sampling ``weights`` and the flat slot ``indices`` to update."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor
    weights: th.Tensor
    indices: np.ndarray
    one_step_next_observations: th.Tensor


class BasePrioritizedReplayBuffer(IndexedReplayBuffer):
    """
    What proportional PER and LAP share: priorities in a sum tree (sampling) and a min tree (PER's weights), new
    transitions at the largest priority seen so far, stratified sampling (the total priority mass is cut into
    ``batch_size`` equal segments and one value is drawn uniformly in each), and the priorities written back after
    each update from the TD errors. A subclass says what a priority is (:meth:`_priority`), what the importance
    weights are (:meth:`_importance_weights`) and what the loss is (:meth:`_loss`).

    :param buffer_size: Max number of element in the buffer
    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device
    :param n_envs: Number of parallel environments
    :param optimize_memory_usage: Not supported
    :param handle_timeout_termination: Handle timeout termination (due to timelimit)
        separately and treat the task as infinite horizon task.
    :param n_steps: Number of steps to accumulate rewards for n-step returns (1: one-step TD targets)
    :param gamma: Discount factor for future rewards
    :param alpha: Priority exponent, in [0, 1]
    :param max_priority_reset: Every this many updates (:meth:`after_update` calls, one per gradient step), the
        priority given to new transitions is reset to the largest priority still stored (TD7 resets it every 250,
        with its hard target updates); ``None``: never (the largest priority ever seen, as in PER and LAP)
    """

    #: ``prioritized_replay`` of the algorithms that names this kind (a kind of one's own has no short form)
    kind: ClassVar[str] = "custom"
    #: Class-level default for buffers pickled before the setting existed (the algorithm sets it when it loads one)
    max_priority_reset: int | None = None
    #: Priority statistics (:meth:`priority_stats`) as last computed, and the update count they were computed at
    _priority_stats: tuple[int, dict[str, float]] | None = None

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        n_steps: int = 1,
        gamma: float = 0.99,
        alpha: float = 0.6,
        max_priority_reset: int | None = None,
    ):
        check_priority_args(alpha=alpha, max_priority_reset=max_priority_reset)
        if isinstance(observation_space, spaces.Dict):
            raise ValueError("observation_space: prioritized replay does not support Dict observation spaces")
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=optimize_memory_usage,
            handle_timeout_termination=handle_timeout_termination,
            n_steps=n_steps,
            gamma=gamma,
        )
        self.alpha = alpha
        self.max_priority_reset = max_priority_reset
        capacity = self.buffer_size * self.n_envs
        self.sum_tree = SumSegmentTree(capacity)
        self.min_tree = MinSegmentTree(capacity)
        # Largest priority (already raised to alpha) ever given: new transitions enter with it
        self.max_priority = 1.0
        self.n_nonfinite_td_errors = 0
        # Running sum of |reward| over the stored transitions (see mean_abs_reward)
        self._abs_reward_sum = 0.0

    def stored_priorities(self) -> np.ndarray:
        """:return: the priorities (already raised to ``alpha``) of the stored transitions, a view of the sum tree's leaves."""
        return self.sum_tree.tree[self.sum_tree.size : self.sum_tree.size + self._n_stored_slots()]

    def reset_max_priority(self) -> None:
        """
        Set the priority given to new transitions to the largest priority still stored, as TD7 does at every target
        update (Fujimoto et al. 2023, https://github.com/sfujim/TD7, ``buffer.py``), so that one early spike of the
        TD error does not set the priority of every later transition.
        """
        stored = self.stored_priorities()
        if stored.size:
            self.max_priority = float(stored.max())

    def priority_stats(self) -> dict[str, float]:
        """
        Statistics of the sampling distribution over the stored transitions: the median and 99th percentile of the
        priorities (as stored, i.e. raised to ``alpha``), and the effective sample size ``(sum p)^2 / (N sum p^2)``
        as a share of ``N`` (1: uniform sampling; small: a few transitions take most of the sampling mass).

        :return: ``priority_p50``, ``priority_p99`` and ``sampling_ess``; empty when the buffer is empty
        """
        stored = self.stored_priorities()
        if stored.size == 0:
            return {}
        p50, p99 = np.percentile(stored, [50.0, 99.0])
        ess = float(stored.sum() ** 2 / (stored.size * np.square(stored).sum()))
        return {"priority_p50": float(p50), "priority_p99": float(p99), "sampling_ess": ess}

    def mean_abs_reward(self) -> float:
        """:return: the mean absolute one-step reward of the stored transitions (0 when empty)."""
        n_stored = self._n_stored_slots()
        return self._abs_reward_sum / n_stored if n_stored else 0.0

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        row = self.pos
        if self.full:
            self._abs_reward_sum -= float(np.abs(self.rewards[row]).sum())
        self._abs_reward_sum += float(np.abs(reward).sum())
        super().add(obs, next_obs, action, reward, done, infos)
        slots = row * self.n_envs + np.arange(self.n_envs)
        update_trees((self.sum_tree, self.min_tree), slots, self.max_priority)

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> PrioritizedReplayBufferSamples:  # type: ignore[override]
        """
        Sample a batch of flat slots proportionally to their priority (stratified), then gather their
        n-step transitions.

        :param batch_size: Number of element to sample
        :param env: associated VecEnv to normalize the observations/rewards when sampling
        :return: The samples, with importance-sampling ``weights`` (all ones for LAP) and the sampled ``indices``
        """
        n_stored = self._n_stored_slots()
        if n_stored == 0:
            raise RuntimeError("Cannot sample from an empty replay buffer")
        self._begin_sampling(env)
        total = self.sum_tree.total()
        segment = total / batch_size
        prefixsums = (np.arange(batch_size) + np.random.uniform(size=batch_size)) * segment
        indices = np.minimum(self.sum_tree.find_prefixsum_idx(prefixsums), n_stored - 1)
        weights = self._importance_weights(indices)
        batch_inds, env_indices = np.unravel_index(indices, (self.buffer_size, self.n_envs))
        samples = self._get_samples(batch_inds, env=env, env_indices=env_indices)
        return PrioritizedReplayBufferSamples(
            *samples,  # type: ignore[arg-type]
            weights=self.to_torch(weights.reshape(-1, 1)),
            indices=indices,
            one_step_next_observations=self._one_step_next_observations(
                samples.next_observations, batch_inds, env_indices, env
            ),
        )

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray | th.Tensor) -> None:
        """
        Write new priorities for sampled slots after a critic update.

        A NaN or infinite TD error never enters the trees: that slot keeps its previous priority, the event is
        counted in ``n_nonfinite_td_errors`` and a warning is issued.

        :param indices: Flat slots, as returned in ``samples.indices``
        :param td_errors: TD errors of those slots, shape (batch,) or (batch, 1)
        """
        if isinstance(td_errors, th.Tensor):
            td_errors = td_errors.detach().cpu().numpy()
        td_errors = np.asarray(td_errors, dtype=np.float64).reshape(-1)
        indices = np.asarray(indices).reshape(-1)
        if td_errors.shape != indices.shape:
            raise ValueError(f"td_errors has shape {td_errors.shape}, expected one per index {indices.shape}")
        finite = np.isfinite(td_errors)
        if not finite.all():
            n_bad = int((~finite).sum())
            self.n_nonfinite_td_errors += n_bad
            warnings.warn(f"{n_bad} non-finite TD error(s) ignored: those transitions keep their previous priority")
            indices, td_errors = indices[finite], td_errors[finite]
        if indices.size == 0:
            return
        priorities = self._priority(td_errors)
        update_trees((self.sum_tree, self.min_tree), indices, priorities)
        self.max_priority = max(self.max_priority, float(priorities.max()))

    def _importance_weights(self, indices: np.ndarray) -> np.ndarray:
        """:return: the importance-sampling weight of each sampled slot."""
        raise NotImplementedError

    def _priority(self, td_errors: np.ndarray) -> np.ndarray:
        """:return: the priority (already raised to ``alpha``) that each ``|TD error|`` gives."""
        raise NotImplementedError

    def after_update(self, samples: Any, td_errors: th.Tensor) -> None:
        """
        New priorities from the larger ``|TD error|`` of the Q-networks (as the LAP reference code does for twin
        critics: a transition keeps priority while either still fits it badly); every ``max_priority_reset`` updates,
        the priority of new transitions is reset (:meth:`reset_max_priority`).

        :param samples: The sampled batch.
        :param td_errors: ``(batch, number of Q-networks)``
        """
        super().after_update(samples, td_errors)
        self.update_priorities(samples.indices, td_errors.abs().max(dim=1).values)
        if self.max_priority_reset is not None and self.n_updates % self.max_priority_reset == 0:
            self.reset_max_priority()

    def _record(self, logger: Logger, stats: dict[str, Any]) -> None:
        """
        Uniform replay's keys, the largest priority (the one new transitions enter with) and the sampling
        distribution's statistics, refreshed every ``PRIORITY_STATS_INTERVAL`` updates (an O(buffer) pass).
        """
        super()._record(logger, stats)
        logger.record("train/max_priority", self.max_priority)
        cached = self._priority_stats
        if cached is None or cached[0] // PRIORITY_STATS_INTERVAL != self.n_updates // PRIORITY_STATS_INTERVAL:
            cached = self._priority_stats = (self.n_updates, self.priority_stats())
        for key, value in cached[1].items():
            logger.record(f"train/{key}", value)


class PrioritizedReplayBuffer(BasePrioritizedReplayBuffer):
    """
    Proportional prioritized experience replay with n-step returns.

    Paper: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
    (sampling: section 3.3; importance sampling: section 3.4, Algorithm 1).

    New transitions enter with the largest priority seen so far, so each is replayed at least once with
    high probability. The loss of a batch is the algorithm's own per-sample loss weighted by the importance-sampling
    weights; ``beta`` goes from ``beta0`` to 1 over the training run (:meth:`set_progress`).

    :param buffer_size: Max number of element in the buffer
    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device
    :param n_envs: Number of parallel environments
    :param optimize_memory_usage: Not supported
    :param handle_timeout_termination: Handle timeout termination (due to timelimit)
        separately and treat the task as infinite horizon task.
    :param n_steps: Number of steps to accumulate rewards for n-step returns (1: one-step TD targets)
    :param gamma: Discount factor for future rewards
    :param alpha: Priority exponent (0: uniform sampling, 1: fully proportional), in [0, 1]
    :param beta0: Initial importance-sampling exponent, in [0, 1]
    :param priority_eps: Constant added to ``|delta|`` so no transition gets zero probability, > 0
    :param is_weight_normalization: What the importance-sampling weights are divided by so that they are <= 1:
        ``"buffer"``, the largest weight any stored transition could get (Schaul et al. 2016), or ``"batch"``, the
        largest weight in the sampled batch (so the largest weight of every batch is 1 and the step size does not
        shrink as the priorities spread)
    :param max_priority_reset: Every this many updates, the priority of new transitions is reset to the largest
        priority still stored (TD7: 250); ``None``: never
    """

    kind = "per"

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        n_steps: int = 1,
        gamma: float = 0.99,
        alpha: float = 0.6,
        beta0: float = 0.4,
        priority_eps: float = 1e-6,
        is_weight_normalization: str = "buffer",
        max_priority_reset: int | None = None,
    ):
        check_priority_args(beta0=beta0, priority_eps=priority_eps)
        check_is_weight_normalization(is_weight_normalization)
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=optimize_memory_usage,
            handle_timeout_termination=handle_timeout_termination,
            n_steps=n_steps,
            gamma=gamma,
            alpha=alpha,
            max_priority_reset=max_priority_reset,
        )
        self.beta0 = beta0
        self.beta = beta0
        self.priority_eps = priority_eps
        self.is_weight_normalization = is_weight_normalization

    def _importance_weights(self, indices: np.ndarray) -> np.ndarray:
        """
        ``w_i = (N * P(i))^-beta / max_j w_j`` with ``P(i) = p_i / sum_k p_k`` (Schaul et al. 2016, Algorithm 1,
        line 10). With ``is_weight_normalization="buffer"`` the max is over the whole buffer (the smallest priority,
        from the min tree), so weights are in (0, 1] and do not depend on which other transitions share the batch;
        with ``"batch"`` it is over the batch (the smallest sampled priority). ``N`` and the total cancel out:
        ``w_i = (p_i / p_min)^-beta``.
        """
        priorities = self.sum_tree[indices]
        smallest = priorities.min() if self.is_weight_normalization == "batch" else self.min_tree.min()
        return (priorities / smallest) ** (-self.beta)

    def _priority(self, td_errors: np.ndarray) -> np.ndarray:
        """Schaul et al. 2016, section 3.3: ``p_i = (|delta_i| + eps)^alpha`` (the value stored in the trees)."""
        return (np.abs(td_errors) + self.priority_eps) ** self.alpha

    def set_progress(self, progress: float) -> None:
        """``beta`` goes linearly from ``beta0`` to 1 over the training run (Schaul et al. 2016, section 3.4)."""
        progress = min(max(progress, 0.0), 1.0)
        self.beta = self.beta0 + (1.0 - self.beta0) * progress

    def _new_log_stats(self) -> dict[str, Any]:
        return {**super()._new_log_stats(), "is_weights": []}

    def _loss(
        self,
        current_q_values: Sequence[th.Tensor],
        target_q_values: th.Tensor,
        td_errors: th.Tensor,
        samples: Any,
        stats: dict[str, Any],
        loss: Loss,
    ) -> th.Tensor:
        """
        The algorithm's per-sample loss weighted by the importance-sampling weights (Schaul et al. 2016, Algorithm 1,
        line 11), summed over the Q-networks.
        """
        per_sample = F.mse_loss if loss == "mse" else F.smooth_l1_loss
        weights = samples.weights
        total = sum(
            (weights * per_sample(current_q, target_q_values, reduction="none")).mean() for current_q in current_q_values
        )
        stats["is_weights"].append(weights.mean().item())
        assert isinstance(total, th.Tensor)
        return total

    def _record(self, logger: Logger, stats: dict[str, Any]) -> None:
        """Also ``beta`` and the mean importance-sampling weight of the batches."""
        super()._record(logger, stats)
        logger.record("train/beta", self.beta)
        if stats["is_weights"]:
            logger.record("train/is_weight_mean", float(np.mean(stats["is_weights"])))


class LAPReplayBuffer(BasePrioritizedReplayBuffer):
    """
    Loss-Adjusted Prioritized (LAP) experience replay with n-step returns.

    Paper: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay,
    Fujimoto, Meger and Precup 2020, https://arxiv.org/abs/2007.06049 (section 5, equation 11).
    Reference implementation: https://github.com/sfujim/LAP-PAL (continuous/LAP_TD3.py)

    Priority ``p_i = max(|delta_i|, min_priority)^alpha``; no importance-sampling correction (``weights`` are
    all ones). The equivalence holds when the critic is trained with a Huber loss of threshold ``min_priority``:
    :meth:`_loss` is that loss.

    :param buffer_size: Max number of element in the buffer
    :param observation_space: Observation space
    :param action_space: Action space
    :param device: PyTorch device
    :param n_envs: Number of parallel environments
    :param optimize_memory_usage: Not supported
    :param handle_timeout_termination: Handle timeout termination (due to timelimit)
        separately and treat the task as infinite horizon task.
    :param n_steps: Number of steps to accumulate rewards for n-step returns (1: one-step TD targets)
    :param gamma: Discount factor for future rewards
    :param alpha: Priority exponent, in [0, 1] (0.4 in the paper)
    :param min_priority: Lower clip of ``|delta|`` and threshold of the Huber loss, > 0 (1 in the paper)
    :param threshold_scale: What ``min_priority`` (the clip and the Huber threshold) is a multiple of:
        ``"fixed"``, nothing (the paper's fixed threshold); ``"reward"``, the mean absolute reward of the stored
        transitions, as MR.Q keeps its values in units of that scale (Fujimoto et al. 2025,
        https://github.com/facebookresearch/MRQ), so that the threshold means the same on tasks whose rewards differ
        in size; ``"td_error"``, a running mean of the ``|delta|`` of the sampled batches (:meth:`record_td_errors`),
        so that the threshold follows the TD errors as they grow with the values. See :meth:`update_priority_floor`.
    :param max_priority_reset: Every this many updates, the priority of new transitions is reset to the largest
        priority still stored (TD7: 250); ``None``: never
    """

    kind = "lap"
    #: Sum of the batches' mean ``|delta|`` in the current round of updates, and their number (``"td_error"``)
    _round_td_abs_sum: Any = 0.0
    _round_batches: int = 0

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        n_steps: int = 1,
        gamma: float = 0.99,
        alpha: float = 0.4,
        min_priority: float = 1.0,
        threshold_scale: str = "fixed",
        max_priority_reset: int | None = None,
    ):
        check_priority_args(min_priority=min_priority)
        check_threshold_scale(threshold_scale)
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device=device,
            n_envs=n_envs,
            optimize_memory_usage=optimize_memory_usage,
            handle_timeout_termination=handle_timeout_termination,
            n_steps=n_steps,
            gamma=gamma,
            alpha=alpha,
            max_priority_reset=max_priority_reset,
        )
        self.min_priority = min_priority
        self.threshold_scale = threshold_scale
        # Running mean of the sampled |delta| (threshold_scale="td_error"); 0 until the first update
        self.td_error_scale = 0.0
        # min_priority, times the scale of threshold_scale: the clip of |delta| and the Huber threshold
        self.priority_floor = min_priority
        # Every stored priority is at least priority_floor^alpha; the first transitions enter at that level
        self.max_priority = min_priority**alpha

    def record_td_errors(self, mean_abs_td_error: float) -> None:
        """
        Update the running mean of the sampled ``|delta|`` (an exponential moving average over rounds of updates,
        weight ``TD_ERROR_SCALE_RATE`` for the newest) that ``threshold_scale="td_error"`` follows.

        :param mean_abs_td_error: Mean ``|delta|`` of the batches of the last round of updates
        """
        if not np.isfinite(mean_abs_td_error):
            return
        if self.td_error_scale == 0.0:
            self.td_error_scale = float(mean_abs_td_error)
        else:
            self.td_error_scale += TD_ERROR_SCALE_RATE * (float(mean_abs_td_error) - self.td_error_scale)

    def update_priority_floor(self, env: VecNormalize | None = None) -> float:
        """
        Set ``priority_floor`` (the clip of ``|delta|`` and the Huber threshold) to ``min_priority`` times the scale
        that ``threshold_scale`` names: 1 (``"fixed"``); the mean absolute reward of the stored transitions,
        normalized as the samples are when ``env`` normalizes rewards (``"reward"``); the running mean of the sampled
        ``|delta|`` (``"td_error"``). While a scale is still 0 (no reward or TD error seen yet), 1 stands in for it.

        :param env: The VecNormalize the samples are normalized with, if any
        :return: the new ``priority_floor``
        """
        scale = 1.0
        if self.threshold_scale == "reward":
            scale = self.mean_abs_reward()
            if env is not None and scale > 0.0:
                scale = float(np.abs(env.normalize_reward(np.array([scale]))).item())
        elif self.threshold_scale == "td_error":
            scale = self.td_error_scale
        self.priority_floor = self.min_priority * (scale if scale > 0.0 else 1.0)
        return self.priority_floor

    def _importance_weights(self, indices: np.ndarray) -> np.ndarray:
        return np.ones(indices.shape, dtype=np.float64)

    def _priority(self, td_errors: np.ndarray) -> np.ndarray:
        """Fujimoto et al. 2020, equation 11: ``p_i = max(|delta_i|, min_priority)^alpha`` (``priority_floor``, see above)."""
        return np.maximum(np.abs(td_errors), self.priority_floor) ** self.alpha

    def _start_round(self, env: VecNormalize | None) -> None:
        """
        The last round's mean ``|delta|`` goes into the running mean (:meth:`record_td_errors`), then the Huber
        threshold and priority floor of this round are set (:meth:`update_priority_floor`).
        """
        if self._round_batches > 0:
            self.record_td_errors(float(self._round_td_abs_sum) / self._round_batches)
        self._round_td_abs_sum, self._round_batches = 0.0, 0
        self.update_priority_floor(env)

    def _observe_td_errors(self, td_abs_mean: th.Tensor) -> None:
        self._round_td_abs_sum += td_abs_mean
        self._round_batches += 1

    def _new_log_stats(self) -> dict[str, Any]:
        return {**super()._new_log_stats(), "linear_sum": 0.0}

    def _loss(
        self,
        current_q_values: Sequence[th.Tensor],
        target_q_values: th.Tensor,
        td_errors: th.Tensor,
        samples: Any,
        stats: dict[str, Any],
        loss: Loss,
    ) -> th.Tensor:
        """
        A Huber loss with threshold ``priority_floor`` (``min_priority`` times the scale of ``threshold_scale``), no
        weights (Fujimoto et al. 2020, eq. 11), summed over the Q-networks, whatever the algorithm's own loss (for DQN,
        already a Huber loss, only its threshold moves).
        """
        delta = self.priority_floor
        total = sum(F.huber_loss(current_q, target_q_values, delta=delta) for current_q in current_q_values)
        stats["linear_sum"] += (td_errors.abs() > delta).float().mean()
        assert isinstance(total, th.Tensor)
        return total

    def _record(self, logger: Logger, stats: dict[str, Any]) -> None:
        """Also the share of TD errors in the Huber loss's linear part, and its threshold."""
        super()._record(logger, stats)
        logger.record("train/huber_linear_frac", float(stats["linear_sum"]) / stats["batches"])
        logger.record("train/huber_threshold", self.priority_floor)


#: The buffer class of each ``prioritized_replay`` kind
PRIORITIZED_BUFFERS: dict[str, type[BasePrioritizedReplayBuffer]] = {"per": PrioritizedReplayBuffer, "lap": LAPReplayBuffer}


def replay_kind(replay_buffer_class: type[ReplayBuffer] | None) -> str:
    """
    :param replay_buffer_class: A replay buffer class, or None.
    :return: the ``prioritized_replay`` kind it is: ``"per"``, ``"lap"``, or ``"none"`` (uniform replay).
    """
    if replay_buffer_class is not None and issubclass(replay_buffer_class, BasePrioritizedReplayBuffer):
        return replay_buffer_class.kind
    return "none"


def resolve_kind(prioritized_replay: str, replay_buffer_class: type[ReplayBuffer] | None) -> str:
    """
    :param prioritized_replay: The algorithm's ``prioritized_replay`` (the short form).
    :param replay_buffer_class: The algorithm's ``replay_buffer_class``, or None.
    :return: the kind of replay they ask for: the one the class names, else ``prioritized_replay``.
    """
    class_kind = replay_kind(replay_buffer_class)
    return class_kind if class_kind != "none" else prioritized_replay


def package_buffer(replay_buffer_class: type[ReplayBuffer]) -> bool:
    """:return: whether a buffer class is one of the package's (n-step, its samples naming their slots)."""
    return issubclass(replay_buffer_class, IndexedReplayBuffer)


def replay_buffer_defaults(replay_buffer_class: type[ReplayBuffer] | None, n_steps: int, gamma: float) -> dict[str, Any]:
    """
    The keywords an algorithm gives the buffer class it builds besides the user's ``replay_buffer_kwargs``:
    ``n_steps`` and ``gamma`` to the package's buffers, and to SB3's ``NStepReplayBuffer`` when ``n_steps > 1``
    (SB3 wires ``n_steps`` only into the buffer it picks itself, when ``replay_buffer_class`` is None: a loaded
    model names the class it saved, and without these its buffer would take ``NStepReplayBuffer``'s own defaults
    whenever the caller gives ``replay_buffer_kwargs`` to ``load``).

    :param replay_buffer_class: The class that will be built (None: SB3 picks its own).
    :param n_steps: The algorithm's ``n_steps``.
    :param gamma: The algorithm's ``gamma``.
    :return: the keywords (for ``replay_buffer_kwargs.setdefault``).
    """
    if replay_buffer_class is None:
        return {}
    if package_buffer(replay_buffer_class) or (n_steps > 1 and issubclass(replay_buffer_class, NStepReplayBuffer)):
        return {"n_steps": n_steps, "gamma": gamma}
    return {}


# Keywords every buffer takes from the algorithm itself, not from replay_buffer_kwargs
_BUILT_BY_THE_ALGORITHM = ("buffer_size", "observation_space", "action_space", "device", "n_envs", "optimize_memory_usage")


def replay_buffer_keywords(replay_buffer_class: type[ReplayBuffer]) -> list[str]:
    """:return: the keywords of ``replay_buffer_kwargs`` that a buffer class takes (those the algorithm does not give)."""
    parameters = inspect.signature(replay_buffer_class.__init__).parameters
    return [name for name in list(parameters)[1:] if name not in _BUILT_BY_THE_ALGORITHM]


def check_buffer_keywords(replay_buffer_class: type[ReplayBuffer], replay_buffer_kwargs: dict[str, Any]) -> None:
    """
    :param replay_buffer_class: The buffer class an algorithm will build.
    :param replay_buffer_kwargs: The user's ``replay_buffer_kwargs``.
    :raises ValueError: for a keyword one of the package's buffers does not take, naming those it takes (and the kind
        of prioritized replay the keyword belongs to, if it is the other kind's). SB3's own buffers check their own.
    """
    if not package_buffer(replay_buffer_class):
        return
    allowed = replay_buffer_keywords(replay_buffer_class)
    for name in replay_buffer_kwargs:
        if name not in allowed:
            hint = ""
            for kind, other in PRIORITIZED_BUFFERS.items():
                if other is not replay_buffer_class and name in replay_buffer_keywords(other):
                    hint = f" ({name} is {other.__name__}'s: prioritized_replay={kind!r})"
            raise ValueError(
                f"replay_buffer_kwargs[{name!r}]: {replay_buffer_class.__name__} takes {', '.join(allowed)}{hint}"
            )


def adopt_earlier_buffer(buffer: ReplayBuffer | None, n_updates: int, max_priority_reset: int | None) -> None:
    """
    A buffer pickled by an earlier version of the package left the count of updates and ``max_priority_reset`` to the
    algorithm: it takes them from the algorithm that loads it (a buffer of this version keeps its own).

    :param buffer: The loaded buffer.
    :param n_updates: The algorithm's gradient steps so far.
    :param max_priority_reset: The algorithm's setting (its ``replay_buffer_kwargs``).
    """
    if isinstance(buffer, IndexedReplayBuffer) and "n_updates" not in buffer.__dict__:
        buffer.n_updates = n_updates
        if isinstance(buffer, BasePrioritizedReplayBuffer):
            buffer.max_priority_reset = max_priority_reset
