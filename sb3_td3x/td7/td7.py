from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule

from sb3_td3x.common.buffers import resolve_kind
from sb3_td3x.common.indexed_buffer import IndexedReplayBuffer, check_one_step_readable
from sb3_td3x.common.prioritized import reject_renamed_arguments
from sb3_td3x.common.training_args import check_integer_at_least
from sb3_td3x.common.value_clipping import TargetValueRange
from sb3_td3x.td3x.td3x import TD3X, action_saturation
from sb3_td3x.td7.networks import SALEEncoder
from sb3_td3x.td7.policies import TD7Policy

SelfTD7 = TypeVar("SelfTD7", bound="TD7")

# Gradient steps between two resets of the largest priority of new transitions (TD7: with every hard update)
MAX_PRIORITY_RESET = 250


class SALEBatch(NamedTuple):
    """A training batch as TD7's networks read it: preprocessed observations and the fixed encoder's embeddings."""

    obs: th.Tensor
    next_obs: th.Tensor
    zs: th.Tensor
    zsa: th.Tensor


class TD7(TD3X):
    """
    TD7: TD3 with learned state and state-action embeddings (SALE), loss-adjusted prioritized replay (LAP), policy
    checkpoints, hard target updates and value clipping.

    For SALE: State-Action Representation Learning for Deep Reinforcement Learning, Fujimoto et al. 2023,
    https://arxiv.org/abs/2306.02451, reference implementation https://github.com/sfujim/TD7.
    The defaults are TD7's hyperparameters (paper, Table 2), except ``learning_starts`` (TD7: 25,000 random steps,
    RL Zoo's ``hyperparams/td7.yml`` sets it) and the budget. A TD7 is a :class:`~sb3_td3x.TD3X`: its replay options
    (``prioritized_replay``, ``replay_buffer_kwargs``, ``n_steps``) and its policy checkpoints are TD3X's, with TD7's
    values.

    Each gradient step, in the reference's order: the encoder learns to predict the next state's embedding
    (paper, eq. 1); the critics learn from the fixed target encoder's embeddings with the LAP Huber loss, their
    next-state values clipped to the range of the targets seen up to the last hard update; the new priorities go back
    to the buffer; every ``policy_delay`` steps the actor maximizes the mean of both critics; every
    ``target_update_interval`` steps the targets and the fixed encoders are hard-updated, the value range refreshed
    and the largest priority of new transitions reset.

    :param policy: The policy model to use (``MlpPolicy``, i.e. :class:`~sb3_td3x.td7.policies.TD7Policy`)
    :param env: The environment to learn from (if registered in Gym, can be str); observations must be a flat ``Box``
    :param learning_rate: learning rate for adam optimizer, the same for actor, critics and encoder (TD7: 3e-4);
        it can be a function of the current progress remaining (from 1 to 0)
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
        (TD7: 25,000)
    :param batch_size: Minibatch size for each gradient update (TD7: 256)
    :param gamma: the discount factor
    :param train_freq: Update the model every ``train_freq`` steps, or a tuple of frequency and unit like
        ``(1, "episode")`` (TD7: after every episode, which policy checkpoints need)
    :param gradient_steps: How many gradient steps to do after each rollout; ``-1``: as many as env steps (TD7)
    :param action_noise: the action noise type. ``None``: Gaussian noise of std 0.1 (TD7's exploration)
    :param replay_buffer_class: Replay buffer class to use; ``None``: chosen from ``prioritized_replay`` and
        ``n_steps``. An n-step buffer must name its samples' slots (one of the package's buffers): the encoder reads
        each sample's one-step next observation
    :param replay_buffer_kwargs: Keyword arguments to pass to the replay buffer on creation (the settings of
        prioritized replay, documented in its buffer class). With prioritized replay, ``max_priority_reset`` is TD7's
        250 unless given (the largest priority of new transitions reset with every hard update); ``LAPReplayBuffer``'s
        defaults ``alpha`` 0.4 and ``min_priority`` 1 are TD7's
    :param n_steps: Number of steps of the critics' returns, >= 1 (TD7: 1); the encoder always learns from one step
    :param prioritized_replay: ``"lap"`` (TD7), ``"per"`` or ``"none"``: the short form of ``replay_buffer_class``
    :param policy_checkpoints: Whether to keep a policy checkpoint (TD7: True; see
        :mod:`sb3_td3x.common.checkpoints`): deterministic prediction uses the best assessed policy with its encoder
    :param checkpoint_kwargs: Keyword arguments of :class:`~sb3_td3x.common.checkpoints.PolicyCheckpoints`
        (TD7's: 1 assessment episode, 20 after 750,000 gradient steps, the best score then lowered by 10%)
    :param target_update_interval: Every this many gradient steps, hard-copy the actor and critics into their targets
        and the encoder into its fixed copies (TD7: 250)
    :param value_clipping: Clip the next-state values of the critic targets to the range of the targets seen up to the
        last hard update (TD7: True; see :mod:`sb3_td3x.common.value_clipping`)
    :param policy_delay: The actor learns once every ``policy_delay`` gradient steps (TD7: 2)
    :param target_policy_noise: Standard deviation of Gaussian noise added to target policy (TD7: 0.2)
    :param target_noise_clip: Limit for absolute value of target policy smoothing noise (TD7: 0.5)
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation (``net_arch``, ``zs_dim``,
        ``encoder_net_arch``, ...: see :class:`~sb3_td3x.td7.policies.TD7Policy`)
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": TD7Policy}  # type: ignore[assignment]
    policy: TD7Policy  # type: ignore[assignment]
    encoder: SALEEncoder

    @reject_renamed_arguments
    def __init__(
        self,
        policy: str | type[TD7Policy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        buffer_size: int = 1_000_000,  # 1e6
        learning_starts: int = 25_000,
        batch_size: int = 256,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = (1, "episode"),
        gradient_steps: int = -1,
        action_noise: ActionNoise | None = None,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        n_steps: int = 1,
        prioritized_replay: str = "lap",
        policy_checkpoints: bool = True,
        checkpoint_kwargs: dict[str, Any] | None = None,
        target_update_interval: int = 250,
        value_clipping: bool = True,
        policy_delay: int = 2,
        target_policy_noise: float = 0.2,
        target_noise_clip: float = 0.5,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        # All checks run before the environment or any network is built
        _check_target_args(target_update_interval, value_clipping)
        policy_class = self._get_policy_from_name(policy) if isinstance(policy, str) else policy
        if not (isinstance(policy_class, type) and issubclass(policy_class, TD7Policy)):
            raise ValueError(f"policy: TD7 needs TD7's networks (MlpPolicy or a subclass of TD7Policy), got {policy!r}")
        check_one_step_readable(replay_buffer_class)
        if resolve_kind(prioritized_replay, replay_buffer_class) != "none":
            # TD7 resets the largest priority of new transitions with every hard update (a new dict: the caller's
            # replay_buffer_kwargs stay as they were)
            replay_buffer_kwargs = {"max_priority_reset": MAX_PRIORITY_RESET, **(replay_buffer_kwargs or {})}
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            action_noise=action_noise,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            n_steps=n_steps,
            prioritized_replay=prioritized_replay,
            policy_checkpoints=policy_checkpoints,
            checkpoint_kwargs=checkpoint_kwargs,
            policy_delay=policy_delay,
            target_policy_noise=target_policy_noise,
            target_noise_clip=target_noise_clip,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
        )
        self.target_update_interval = target_update_interval
        self.value_clipping = value_clipping
        self.value_range = TargetValueRange() if value_clipping else None
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        # With n-step returns the encoder still learns from one-step transitions: a buffer whose samples name their
        # slots, to read each one's next observation (the PER and LAP buffers do already)
        if self.n_steps > 1 and self.replay_buffer_class is None and self.prioritized_replay == "none":
            self.replay_buffer_class = IndexedReplayBuffer
        super()._setup_model()
        if self.action_noise is None:
            # TD7's exploration: Gaussian noise of std 0.1 on the actions in [-1, 1]
            n_actions = self.action_space.shape[-1]  # type: ignore[index]
            self.action_noise = NormalActionNoise(np.zeros(n_actions), 0.1 * np.ones(n_actions))

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """TD7's update (the reference's ``TD7.train``), ``gradient_steps`` times; see the class docstring."""
        # Policy checkpoints: the gradient steps wait until the assessment of the current policy ends
        if self.checkpoints is not None:
            gradient_steps = self._assess_policy(gradient_steps)
            if gradient_steps == 0:
                return
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer, self.encoder.optimizer])
        replay = self._replay
        encoder_losses: list[float] = []
        critic_losses: list[float] = []
        actor_losses: list[float] = []
        saturations: list[float] = []
        for _ in range(gradient_steps):
            self._n_updates += 1
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            # Encoder: predict the next state's embedding; actor and critics then read its fixed copies
            batch = self._train_encoder(replay_data, encoder_losses)

            # Critics: targets from the fixed target encoder, next-state values clipped to the range seen so far
            with th.no_grad():
                noise = replay_data.actions.clone().normal_(0, self.target_policy_noise)
                noise = noise.clamp(-self.target_noise_clip, self.target_noise_clip)
                target_encoder = self.policy.fixed_encoder_target
                next_zs = target_encoder.zs(batch.next_obs)
                next_actions = (self.policy.actor_target(batch.next_obs, next_zs) + noise).clamp(-1, 1)
                next_zsa = target_encoder.zsa(next_zs, next_actions)
                next_q_values = self.policy.critic_target(batch.next_obs, next_actions, next_zsa, next_zs)
                next_q_values, _ = th.min(next_q_values, dim=1, keepdim=True)
                if self.value_range is not None:
                    next_q_values = self.value_range.clip(next_q_values)
                target_q_values = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q_values
                if self.value_range is not None:
                    self.value_range.observe(target_q_values)
            # Both critics in one batched pass, split into SB3's tuple of columns
            current_q_values = self.policy.critic(batch.obs, replay_data.actions, batch.zsa, batch.zs).split(1, dim=1)
            critic_loss, td_errors = replay.batch_loss(current_q_values, target_q_values, replay_data)
            critic_losses.append(critic_loss.item())
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()

            # Priorities (and, every max_priority_reset steps, the largest priority of new transitions)
            replay.after_update(replay_data, td_errors)

            # Actor: maximize the mean of both critics (the critics' weights need no gradient from this loss)
            if self._n_updates % self.policy_delay == 0:
                actions = self.policy.actor(batch.obs, batch.zs)
                zsa = self.policy.fixed_encoder.zsa(batch.zs, actions)
                self.policy.critic.requires_grad_(False)
                actor_loss = -self.policy.critic(batch.obs, actions, zsa, batch.zs).mean()
                self.policy.critic.requires_grad_(True)
                actor_losses.append(actor_loss.item())
                saturations.append(action_saturation(actions))
                self.actor.optimizer.zero_grad()
                actor_loss.backward()
                self.actor.optimizer.step()

            # Hard update: targets, fixed encoders and the value range
            if self._n_updates % self.target_update_interval == 0:
                self.policy.hard_update()
                if self.value_range is not None:
                    self.value_range.refresh()

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if actor_losses:
            self.logger.record("train/actor_loss", np.mean(actor_losses))
            self.logger.record("train/actor_saturation", np.mean(saturations))
        self.logger.record("train/critic_loss", np.mean(critic_losses))
        self.logger.record("train/encoder_loss", np.mean(encoder_losses))
        if self.value_range is not None:
            self.logger.record("train/value_clip_low", self.value_range.low)
            self.logger.record("train/value_clip_high", self.value_range.high)
        self._record_extras()

    def _train_encoder(self, replay_data: Any, encoder_losses: list[float]) -> SALEBatch:
        """
        One gradient step of the encoder on the batch; then the embeddings that actor and critics read from the fixed
        encoder, computed once for the whole training step.

        :return: the batch's preprocessed observations and their fixed embeddings.
        """
        obs = self.policy.preprocess(replay_data.observations)
        next_obs = self.policy.preprocess(replay_data.next_observations)
        # With n-step returns the sample's next observation is n steps on: the encoder reads the one-step one (SB3's
        # one-step buffers: the sample's own)
        one_step = getattr(replay_data, "one_step_next_observations", replay_data.next_observations)
        one_step_next_obs = next_obs if one_step is replay_data.next_observations else self.policy.preprocess(one_step)
        encoder_loss = self.encoder.loss(obs, replay_data.actions, one_step_next_obs)
        encoder_losses.append(encoder_loss.item())
        self.encoder.optimizer.zero_grad()
        encoder_loss.backward()
        self.encoder.optimizer.step()
        with th.no_grad():
            zs = self.policy.fixed_encoder.zs(obs)
            zsa = self.policy.fixed_encoder.zsa(zs, replay_data.actions)
        return SALEBatch(obs, next_obs, zs, zsa)

    def _create_aliases(self) -> None:
        super()._create_aliases()
        self.encoder = self.policy.encoder

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "encoder"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, variables = super()._get_torch_save_params()
        return [*state_dicts, "encoder.optimizer"], variables

    def learn(
        self: SelfTD7,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "TD7",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfTD7:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )


def _check_target_args(target_update_interval: int, value_clipping: bool) -> None:
    """:raises ValueError: naming the argument and its allowed values."""
    check_integer_at_least("target_update_interval", target_update_interval, 1)
    if not isinstance(value_clipping, bool):
        raise ValueError(f"value_clipping must be True or False, got {value_clipping!r}")
