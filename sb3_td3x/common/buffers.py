"""
Replay buffers for TD3X, built on SB3's ``NStepReplayBuffer`` (so ``n_steps=1`` is the one-step case).

- :class:`IndexedReplayBuffer`: SB3's uniform n-step replay whose samples also name the slots they came from, so
  that an algorithm can read more of each sampled transition (TD3X's SALE encoder reads its one-step next observation).
- :class:`PrioritizedReplayBuffer`: proportional prioritized experience replay (Schaul et al. 2016),
  priority ``p = (|delta| + eps)^alpha``, importance-sampling weights ``(N * P(i))^-beta / max_j (N * P(j))^-beta``.
- :class:`LAPReplayBuffer`: Loss-Adjusted Prioritized replay (Fujimoto et al. 2020),
  priority ``p = max(|delta|, min_priority)^alpha``, sampled without importance-sampling weights
  (the algorithm pairs it with a Huber loss of threshold ``min_priority``).

Both index one sum tree and one min tree over the ``buffer_size * n_envs`` flat slots ``row * n_envs + env``,
so a sampled slot is exactly one (row, env) pair of SB3's storage.
"""

import warnings
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from sb3_td3x.common.segment_tree import MinSegmentTree, SumSegmentTree, update_trees


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


class IndexedReplayBufferSamples(NamedTuple):
    """``ReplayBufferSamples`` plus the flat slot ``indices`` (``row * n_envs + env``) the transitions were drawn from."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor
    indices: np.ndarray


class IndexedReplayBuffer(NStepReplayBuffer):
    """
    SB3's ``NStepReplayBuffer`` (uniform sampling, n-step returns) whose samples also carry the flat slots
    ``row * n_envs + env`` they were drawn from, as the prioritized buffers' samples do. With the slots, an algorithm
    can read more of a sampled transition than the n-step sample holds: TD3X's SALE encoder learns from the one-step
    next observation of each slot (:meth:`one_step_next_observations`) while the critics learn from n-step returns.

    Sampling draws the rows and the envs as SB3's ``NStepReplayBuffer`` does, in the same order from numpy's global
    generator: given the same stored transitions and random state, both return the same batch.

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
    """

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
    ):
        check_n_steps(n_steps)
        if isinstance(observation_space, spaces.Dict):
            raise ValueError(f"observation_space: {type(self).__name__} does not support Dict observation spaces")
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

    def _n_stored_slots(self) -> int:
        return (self.buffer_size if self.full else self.pos) * self.n_envs

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> IndexedReplayBufferSamples:  # type: ignore[override]
        """
        Sample transitions uniformly (a row, then an env for each), with their n-step returns and their slots.

        :param batch_size: Number of element to sample
        :param env: associated VecEnv to normalize the observations/rewards when sampling
        :return: The samples and their flat slot ``indices``
        """
        upper_bound = self.buffer_size if self.full else self.pos
        if upper_bound == 0:
            raise RuntimeError("Cannot sample from an empty replay buffer")
        batch_inds = np.random.randint(0, upper_bound, size=batch_size)
        env_indices = np.random.randint(0, self.n_envs, size=batch_inds.shape)
        samples = self._get_samples(batch_inds, env=env, env_indices=env_indices)
        indices = np.ravel_multi_index((batch_inds, env_indices), (self.buffer_size, self.n_envs))
        return IndexedReplayBufferSamples(*samples, indices=indices)  # type: ignore[arg-type]

    def one_step_next_observations(self, indices: np.ndarray, env: VecNormalize | None = None) -> th.Tensor:
        """
        :param indices: Flat slots, as returned in ``samples.indices``
        :param env: associated VecEnv to normalize the observations when sampling
        :return: the observation that followed each slot's own transition (one step, whatever ``n_steps`` is;
            for the last step of an episode, its final observation)
        """
        batch_inds, env_indices = np.unravel_index(np.asarray(indices).reshape(-1), (self.buffer_size, self.n_envs))
        return self.to_torch(self._normalize_obs(self.next_observations[batch_inds, env_indices], env))  # type: ignore[arg-type]

    def _get_samples(  # type: ignore[override]
        self,
        batch_inds: np.ndarray,
        env: VecNormalize | None = None,
        env_indices: np.ndarray | None = None,
    ) -> ReplayBufferSamples:
        """
        SB3's ``NStepReplayBuffer._get_samples`` with the env indices given instead of drawn inside (the caller chose
        exact (row, env) slots: uniformly, or from the sum tree). Everything else is kept as in SB3: the ``pos - 1``
        timeout trick, the done/truncation mask and the per-sample ``discounts``.

        :param batch_inds: Row indices of the samples
        :param env: Optional VecNormalize to normalize observations/rewards
        :param env_indices: Env index of each sample; drawn uniformly when None (plain uniform sampling)
        :return: ``ReplayBufferSamples`` with n-step returns
        """
        if env_indices is None:
            return super()._get_samples(batch_inds, env=env)
        if self.n_steps == 1:
            # A one-step window always ends on its own transition: the return is the reward, the discount is gamma,
            # and the pos - 1 trick of _n_step_targets cannot change dones * (1 - timeouts): same values, no window arithmetic
            next_obs = self._normalize_obs(self.next_observations[batch_inds, env_indices], env)
            dones = self.dones[batch_inds, env_indices] * (1.0 - self.timeouts[batch_inds, env_indices])
            final_dones = dones.reshape(-1, 1).astype(np.float32)
            n_step_returns = self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env)
            target_q_discounts = np.full((len(batch_inds), 1), self.gamma, dtype=np.float32)
        else:
            next_obs, final_dones, n_step_returns, target_q_discounts = self._n_step_targets(batch_inds, env_indices, env)
        obs = self._normalize_obs(self.observations[batch_inds, env_indices], env)
        actions = self.actions[batch_inds, env_indices]
        return ReplayBufferSamples(
            observations=self.to_torch(obs),  # type: ignore[arg-type]
            actions=self.to_torch(actions),
            next_observations=self.to_torch(next_obs),  # type: ignore[arg-type]
            dones=self.to_torch(final_dones),
            rewards=self.to_torch(n_step_returns),
            discounts=self.to_torch(target_q_discounts),
        )

    def _n_step_targets(
        self, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None
    ) -> tuple[np.ndarray | dict[str, np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
        """
        The window part of SB3's ``NStepReplayBuffer._get_samples`` for the given slots.

        :param batch_inds: Row indices of the samples
        :param env_indices: Env index of each sample
        :param env: Optional VecNormalize to normalize observations/rewards
        :return: next observations at the end of each window, done flags (timeouts excluded), n-step returns,
            discounts ``gamma ** window length``
        """
        env_col = env_indices[:, None]
        # self.pos is where the next transition goes: its predecessor must end every n-step window
        last_valid_index = self.pos - 1
        original_timeout_values = self.timeouts[last_valid_index].copy()
        self.timeouts[last_valid_index] = np.logical_or(original_timeout_values, np.logical_not(self.dones[last_valid_index]))
        try:
            steps = np.arange(self.n_steps).reshape(1, -1)
            indices = (batch_inds[:, None] + steps) % self.buffer_size
            rewards_seq = self._normalize_reward(self.rewards[indices, env_col], env)
            done_or_truncated = np.logical_or(self.dones[indices, env_col], self.timeouts[indices, env_col])
            has_end = done_or_truncated.any(axis=1)
            done_idx = np.where(has_end, done_or_truncated.argmax(axis=1), self.n_steps - 1)
            mask = steps <= done_idx[:, None]
            target_q_discounts = self.gamma ** mask.sum(axis=1, keepdims=True).astype(np.float32)
            discounts = self.gamma ** np.arange(self.n_steps, dtype=np.float32).reshape(1, -1)
            n_step_returns = (rewards_seq * discounts * mask).sum(axis=1, keepdims=True)
            last_indices = (batch_inds + done_idx) % self.buffer_size
            next_obs = self._normalize_obs(self.next_observations[last_indices, env_indices], env)
            next_dones = self.dones[last_indices, env_indices][:, None].astype(np.float32)
            next_timeouts = self.timeouts[last_indices, env_indices][:, None].astype(np.float32)
            final_dones = next_dones * (1.0 - next_timeouts)
        finally:
            self.timeouts[last_valid_index] = original_timeout_values
        return next_obs, final_dones, n_step_returns, target_q_discounts


class PrioritizedReplayBuffer(IndexedReplayBuffer):
    """
    Proportional prioritized experience replay with n-step returns.

    Paper: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
    (sampling: section 3.3; importance sampling: section 3.4, Algorithm 1).

    New transitions enter with the largest priority seen so far, so each is replayed at least once with
    high probability. Sampling is stratified: the total priority mass is cut into ``batch_size`` equal
    segments and one value is drawn uniformly in each. ``beta`` is a plain attribute: ``TD3X`` anneals it
    from ``beta0`` to 1 over the training run.

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
    :param alpha: Priority exponent (0: uniform sampling, 1: fully proportional), in [0, inf)
    :param beta0: Initial importance-sampling exponent, in [0, 1]
    :param priority_eps: Constant added to ``|delta|`` so no transition gets zero probability, > 0
    :param is_weight_normalization: What the importance-sampling weights are divided by so that they are <= 1:
        ``"buffer"``, the largest weight any stored transition could get (Schaul et al. 2016), or ``"batch"``, the
        largest weight in the sampled batch (so the largest weight of every batch is 1 and the step size does not
        shrink as the priorities spread)
    """

    uses_is_weights = True

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
    ):
        check_priority_args(alpha=alpha, beta0=beta0, priority_eps=priority_eps)
        check_is_weight_normalization(is_weight_normalization)
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
        self.beta0 = beta0
        self.beta = beta0
        self.priority_eps = priority_eps
        self.is_weight_normalization = is_weight_normalization
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
        )

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


class LAPReplayBuffer(PrioritizedReplayBuffer):
    """
    Loss-Adjusted Prioritized (LAP) experience replay with n-step returns.

    Paper: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay,
    Fujimoto, Meger and Precup 2020, https://arxiv.org/abs/2007.06049 (section 5, equation 11).
    Reference implementation: https://github.com/sfujim/LAP-PAL (continuous/LAP_TD3.py)

    Priority ``p_i = max(|delta_i|, min_priority)^alpha``; no importance-sampling correction (``weights`` are
    all ones). The equivalence holds when the critic is trained with a Huber loss of threshold ``min_priority``,
    which ``TD3X`` does whenever this buffer is used.

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
    :param alpha: Priority exponent, in [0, inf) (0.4 in the paper)
    :param min_priority: Lower clip of ``|delta|`` and threshold of the Huber loss, > 0 (1 in the paper)
    :param threshold_scale: What ``min_priority`` (the clip and the Huber threshold) is a multiple of:
        ``"fixed"``, nothing (the paper's fixed threshold); ``"reward"``, the mean absolute reward of the stored
        transitions, as MR.Q keeps its values in units of that scale (Fujimoto et al. 2025,
        https://github.com/facebookresearch/MRQ), so that the threshold means the same on tasks whose rewards differ
        in size; ``"td_error"``, a running mean of the ``|delta|`` of the sampled batches (:meth:`record_td_errors`),
        so that the threshold follows the TD errors as they grow with the values. See :meth:`update_priority_floor`.
    """

    uses_is_weights = False

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
            beta0=0.0,
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
        Update the running mean of the sampled ``|delta|`` (an exponential moving average over training calls,
        weight ``TD_ERROR_SCALE_RATE`` for the newest) that ``threshold_scale="td_error"`` follows.

        :param mean_abs_td_error: Mean ``|delta|`` of the batches of the last training call
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


def check_n_steps(n_steps: int) -> None:
    """
    :param n_steps: Number of steps of the n-step return
    :raises ValueError: unless ``n_steps`` is an integer >= 1
    """
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}")


IS_WEIGHT_NORMALIZATIONS = ("buffer", "batch")
THRESHOLD_SCALES = ("fixed", "reward", "td_error")
# Weight of the newest training call in LAP's running mean of |delta| (threshold_scale="td_error")
TD_ERROR_SCALE_RATE = 0.01


def check_threshold_scale(threshold_scale: str) -> None:
    """
    :param threshold_scale: What LAP's ``min_priority`` is a multiple of
    :raises ValueError: unless it is one of ``THRESHOLD_SCALES``
    """
    if threshold_scale not in THRESHOLD_SCALES:
        raise ValueError(f"threshold_scale (TD3X's lap_threshold) must be one of {THRESHOLD_SCALES}, got {threshold_scale!r}")


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
) -> None:
    """
    Check the prioritized-replay arguments that are given (None: not given).

    :param alpha: Priority exponent, a finite number >= 0
    :param beta0: Initial importance-sampling exponent, in [0, 1]
    :param priority_eps: PER constant added to ``|delta|``, > 0
    :param min_priority: LAP lower clip of ``|delta|``, > 0
    :raises ValueError: naming the first argument out of its range
    """
    if alpha is not None and not (np.isfinite(alpha) and alpha >= 0.0):
        raise ValueError(f"alpha must be a finite number >= 0, got {alpha}")
    if beta0 is not None and not 0.0 <= beta0 <= 1.0:
        raise ValueError(f"beta0 must be in [0, 1], got {beta0}")
    if priority_eps is not None and not priority_eps > 0.0:
        raise ValueError(f"priority_eps must be > 0, got {priority_eps}")
    if min_priority is not None and not min_priority > 0.0:
        raise ValueError(f"min_priority must be > 0, got {min_priority}")
