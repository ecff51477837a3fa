"""
The uniform replay every buffer of the package builds on, and what an algorithm's ``train()`` asks of its replay.

- :class:`ReplayHooks`: the two calls an algorithm's ``train()`` makes on its replay for each gradient step (the loss
  of a sampled batch with its TD errors; what the TD errors change once the Q-networks have stepped), and what the
  replay logs (called by the algorithm after each env step). Its methods are those of uniform replay (SB3's loss, bit
  for bit); each prioritized buffer overrides what it changes: the buffer owns its loss, its priorities and its logs.
- :class:`IndexedReplayBuffer`: SB3's uniform n-step replay whose samples also name the slots they came from.
- :func:`replay_hooks`: the hooks of any buffer: the package's buffers are their own hooks, SB3's own buffers get
  uniform replay's.
"""

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.logger import Logger
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize
from torch.nn import functional as F

from sb3_td3x.common.replay_args import check_n_steps

Loss = Literal["mse", "huber"]


def td_errors_of(current_q_values: Sequence[th.Tensor], target_q_values: th.Tensor) -> th.Tensor:
    """
    :param current_q_values: One ``(batch, 1)`` tensor per Q-network.
    :param target_q_values: The targets, ``(batch, 1)``.
    :return: the TD errors, ``(batch, number of Q-networks)``, detached.
    """
    return th.cat([current_q - target_q_values for current_q in current_q_values], dim=1).detach()


class ReplayHooks:
    """
    What an algorithm's ``train()`` asks of its replay, for each sampled batch:

    1. :meth:`batch_loss`: the loss the Q-networks minimize, and the TD errors;
    2. :meth:`after_update`, once the Q-networks have stepped: prioritized replay writes the new priorities (and,
       every ``max_priority_reset`` updates, resets the priority of new transitions).

    The algorithm also calls :meth:`record` after each env step (logging what the replay did in the updates since the
    last call) and :meth:`set_progress` (PER anneals its ``beta``). Everything else is the replay's own: a buffer of
    the package starts a round of updates at the first sample after new transitions arrived (LAP sets its Huber
    threshold for the round there).

    These are uniform replay's (SB3's own loss, nothing written back); a prioritized buffer overrides what it changes.
    The state lives on the instance (the buffer itself for the package's buffers): class-level defaults let a buffer
    pickled by an earlier version load.
    """

    #: Updates made so far (:meth:`after_update` calls)
    n_updates: int = 0
    #: Accumulators of the updates since the last :meth:`record`; None: none yet
    _log_stats: dict[str, Any] | None = None

    def _new_log_stats(self) -> dict[str, Any]:
        """:return: the accumulators of what :meth:`record` logs (a subclass adds its own)."""
        return {"batches": 0, "td_abs_sum": 0.0}

    def batch_loss(
        self,
        current_q_values: Sequence[th.Tensor],
        target_q_values: th.Tensor,
        samples: Any,
        loss: Loss = "mse",
    ) -> tuple[th.Tensor, th.Tensor]:
        """
        The loss of a batch, summed over the Q-networks, and the TD errors. Uniform replay: SB3's own loss
        (``F.mse_loss`` or ``F.smooth_l1_loss`` per Q-network), bit for bit.

        :param current_q_values: One ``(batch, 1)`` tensor per Q-network.
        :param target_q_values: The targets, ``(batch, 1)``.
        :param samples: The sampled batch.
        :param loss: The algorithm's own loss: squared error (TD3, SAC) or Huber (DQN).
        :return: the loss, and the TD errors, ``(batch, number of Q-networks)``, detached.
        """
        if self._log_stats is None:
            self._log_stats = self._new_log_stats()
        stats = self._log_stats
        td_errors = td_errors_of(current_q_values, target_q_values)
        td_abs = td_errors.abs().mean()
        stats["batches"] += 1
        stats["td_abs_sum"] += td_abs
        self._observe_td_errors(td_abs)
        return self._loss(current_q_values, target_q_values, td_errors, samples, stats, loss), td_errors

    def _observe_td_errors(self, td_abs_mean: th.Tensor) -> None:
        """
        :param td_abs_mean: The mean ``|TD error|`` of a batch (LAP's ``"td_error"`` threshold follows it); nothing here.
        """

    def _loss(
        self,
        current_q_values: Sequence[th.Tensor],
        target_q_values: th.Tensor,
        td_errors: th.Tensor,
        samples: Any,
        stats: dict[str, Any],
        loss: Loss,
    ) -> th.Tensor:
        """The loss of :meth:`batch_loss`, what a kind of replay changes: here SB3's own."""
        sb3_loss = F.mse_loss if loss == "mse" else F.smooth_l1_loss
        total = sum(sb3_loss(current_q, target_q_values) for current_q in current_q_values)
        assert isinstance(total, th.Tensor)
        return total

    def after_update(self, samples: Any, td_errors: th.Tensor) -> None:
        """
        Called once the Q-networks have stepped on the batch: counts the update (a prioritized buffer also writes the
        new priorities).

        :param samples: The sampled batch.
        :param td_errors: The TD errors of :meth:`batch_loss`.
        """
        self.n_updates += 1

    def set_progress(self, progress: float) -> None:
        """
        :param progress: How far the training run is, from 0 to 1 (PER anneals its ``beta`` with it).
        """

    def priority_stats(self) -> dict[str, float]:
        """:return: statistics of the sampling distribution (prioritized replay; none for uniform replay)."""
        return {}

    def record(self, logger: Logger) -> None:
        """
        Log what the replay did in the updates since the last call (nothing when there were none): the mean
        ``|TD error|`` of the batches.

        :param logger: The algorithm's logger.
        """
        stats = self._log_stats
        if stats is None or stats["batches"] == 0:
            return
        self._log_stats = None
        self._record(logger, stats)

    def _record(self, logger: Logger, stats: dict[str, Any]) -> None:
        """
        :param logger: The algorithm's logger.
        :param stats: The accumulators of the updates since the last :meth:`record` (at least one batch).
        """
        logger.record("train/td_error_abs_mean", float(stats["td_abs_sum"]) / stats["batches"])


def replay_hooks(buffer: Any, uniform: ReplayHooks) -> ReplayHooks:
    """
    :param buffer: An algorithm's replay buffer.
    :param uniform: The hooks to use for SB3's own buffers (one instance per algorithm: the hooks keep state).
    :return: the buffer itself when it is one of the package's (each knows its loss), else ``uniform``.
    """
    return buffer if isinstance(buffer, ReplayHooks) else uniform


class IndexedReplayBufferSamples(NamedTuple):
    """
    ``ReplayBufferSamples`` plus the flat slot ``indices`` (``row * n_envs + env``) the transitions were drawn from and
    the observation that followed each one's own transition (one step on, whatever ``n_steps`` is).
    """

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor
    indices: np.ndarray
    one_step_next_observations: th.Tensor


class IndexedReplayBuffer(ReplayHooks, NStepReplayBuffer):
    """
    SB3's ``NStepReplayBuffer`` (uniform sampling, n-step returns) whose samples also carry the flat slots
    ``row * n_envs + env`` they were drawn from, as the prioritized buffers' samples do. With the slots, an algorithm
    can read more of a sampled transition than the n-step sample holds: TD7's encoder learns from the one-step
    next observation of each slot (the samples' ``one_step_next_observations``) while the critics learn from n-step returns.

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
        self.n_updates = 0

    #: Whether a round of updates is under way (the samples since the last new transition); False: the next sample
    #: starts one
    _round_open: bool = False

    def _n_stored_slots(self) -> int:
        return (self.buffer_size if self.full else self.pos) * self.n_envs

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """SB3's ``add``; the next sample starts a new round of updates (see :meth:`_start_round`)."""
        super().add(obs, next_obs, action, reward, done, infos)
        self._round_open = False

    def _begin_sampling(self, env: VecNormalize | None) -> None:
        """Called by every ``sample``: the first one after new transitions starts a round of updates."""
        if not self._round_open:
            self._round_open = True
            self._start_round(env)

    def _start_round(self, env: VecNormalize | None) -> None:
        """
        A round of updates starts: the algorithm trains on what is stored now (for SB3's ``learn``, one ``train()``
        call). Nothing to do for uniform replay; LAP sets its Huber threshold for the round.

        :param env: The VecNormalize the samples are normalized with, if any
        """

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> IndexedReplayBufferSamples:  # type: ignore[override]
        """
        Sample transitions uniformly (a row, then an env for each), with their n-step returns and their slots.

        :param batch_size: Number of element to sample
        :param env: associated VecEnv to normalize the observations/rewards when sampling
        :return: The samples, their flat slot ``indices`` and their one-step next observations
        """
        upper_bound = self.buffer_size if self.full else self.pos
        if upper_bound == 0:
            raise RuntimeError("Cannot sample from an empty replay buffer")
        self._begin_sampling(env)
        batch_inds = np.random.randint(0, upper_bound, size=batch_size)
        env_indices = np.random.randint(0, self.n_envs, size=batch_inds.shape)
        samples = self._get_samples(batch_inds, env=env, env_indices=env_indices)
        indices = np.ravel_multi_index((batch_inds, env_indices), (self.buffer_size, self.n_envs))
        one_step = self._one_step_next_observations(samples.next_observations, batch_inds, env_indices, env)
        return IndexedReplayBufferSamples(*samples, indices=indices, one_step_next_observations=one_step)  # type: ignore[arg-type]

    def _one_step_next_observations(
        self, next_observations: th.Tensor, batch_inds: np.ndarray, env_indices: np.ndarray, env: VecNormalize | None
    ) -> th.Tensor:
        """
        :param next_observations: The samples' next observations (at the end of each n-step window)
        :param batch_inds: Row indices of the samples
        :param env_indices: Env index of each sample
        :param env: associated VecEnv to normalize the observations when sampling
        :return: the observation that followed each slot's own transition (one step, whatever ``n_steps`` is;
            for the last step of an episode, its final observation): with ``n_steps=1``, ``next_observations`` itself
        """
        if self.n_steps == 1:
            return next_observations
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


def check_one_step_readable(replay_buffer_class: type[ReplayBuffer] | None) -> None:
    """
    For an algorithm that learns from one-step transitions beside n-step returns (TD7's encoder).

    :param replay_buffer_class: The user's ``replay_buffer_class``.
    :raises ValueError: for an n-step buffer whose samples do not say which slots they come from.
    """
    if (
        replay_buffer_class is not None
        and issubclass(replay_buffer_class, NStepReplayBuffer)
        and not issubclass(replay_buffer_class, IndexedReplayBuffer)
    ):
        raise ValueError(
            f"replay_buffer_class={replay_buffer_class.__name__}: TD7's encoder learns from one-step transitions (it "
            "predicts the next state's embedding), and an n-step buffer's samples end n steps later; use one of the "
            "package's buffers (IndexedReplayBuffer, PrioritizedReplayBuffer, LAPReplayBuffer), whose samples name "
            "their slots, or leave replay_buffer_class to n_steps / prioritized_replay"
        )
