from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.base_class import maybe_make_env
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise, VectorizedActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.td3 import TD3
from stable_baselines3.td3.policies import TD3Policy

from sb3_td3x.common.batch_renorm import FusedBatchRenorm1d
from sb3_td3x.common.checkpoints import PolicyCheckpoints, check_checkpoint_kwargs
from sb3_td3x.common.noise import DecayingNormalActionNoise
from sb3_td3x.common.prioritized import (
    RENAMED_NOISE_ARGS,
    PrioritizedReplayMixin,
    check_action_space,
    check_replay_support,
    reject_renamed_arguments,
)
from sb3_td3x.common.training_args import check_off_policy_args, check_td3_args, train_freq_pair
from sb3_td3x.td3x.networks import set_batch_renorm_training
from sb3_td3x.td3x.policies import CnnPolicy, CrossQPolicy, MlpPolicy, MultiInputPolicy, NoisyMlpPolicy, TD3XPolicy

SelfTD3X = TypeVar("SelfTD3X", bound="TD3X")


class TD3X(PrioritizedReplayMixin, TD3):
    """
    TD3 with prioritized replay (proportional PER or LAP), n-step returns, NoisyNet policies and decaying
    Gaussian exploration noise. Each extra is switched on and off on its own; with all of them off, TD3X is
    exactly SB3's TD3 (same updates, same random number stream).

    TD3: Addressing Function Approximation Error in Actor-Critic Methods, Fujimoto et al. 2018,
    https://arxiv.org/abs/1802.09477 (the twin critics, delayed policy updates, target policy smoothing and
    Polyak updates are inherited from SB3's TD3, not rewritten).
    PER: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
    LAP: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay, Fujimoto et al. 2020,
    https://arxiv.org/abs/2007.06049, reference implementation https://github.com/sfujim/LAP-PAL
    NoisyNet: Noisy Networks for Exploration, Fortunato et al. 2018, https://arxiv.org/abs/1706.10295
    CrossQ: Batch Normalization in Deep Reinforcement Learning for Greater Sample Efficiency and Simplicity, Bhatt et al.
    2024, https://arxiv.org/abs/1902.05605, reference implementation https://github.com/adityab/CrossQ
    Policy checkpoints: For SALE: State-Action Representation Learning for Deep Reinforcement Learning (TD7),
    Fujimoto et al. 2023, https://arxiv.org/abs/2306.02451, reference implementation https://github.com/sfujim/TD7
    (TD7 itself, with its learned embeddings, is :class:`~sb3_td3x.td7.TD7`)

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy: SB3's TD3 policies with
        ``critic_layer_norm`` added; NoisyMlpPolicy; CrossQPolicy: CrossQ's batch-renormalized networks without
        target networks, see :class:`~sb3_td3x.td3x.policies.CrossQTD3Policy`)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: learning rate for adam optimizer,
        the same learning rate will be used for all networks (Q-Values, Actor and Value function)
        it can be a function of the current progress remaining (from 1 to 0)
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
    :param batch_size: Minibatch size for each gradient update
    :param tau: the soft update coefficient ("Polyak update", between 0 and 1)
    :param gamma: the discount factor
    :param train_freq: Update the model every ``train_freq`` steps. Alternatively pass a tuple of frequency and unit
        like ``(5, "step")`` or ``(2, "episode")``.
    :param gradient_steps: How many gradient steps to do after each rollout (see ``train_freq``)
        Set to ``-1`` means to do as many gradient steps as steps done in the environment
        during the rollout.
    :param action_noise: the action noise type (None by default). A
        :class:`~sb3_td3x.common.noise.DecayingNormalActionNoise` decays its sigma over the run (with
        ``decay_steps=None``, over the whole run of the first ``learn()``), following the model's own step count.
    :param replay_buffer_class: Replay buffer class to use: SB3's way to ask for prioritized replay
        (``PrioritizedReplayBuffer``, ``LAPReplayBuffer``; see ``prioritized_replay``)
    :param replay_buffer_kwargs: Keyword arguments to pass to the replay buffer on creation: the settings of
        prioritized replay (``alpha``, ``beta0``, ``min_priority``, ``threshold_scale``, ``max_priority_reset``, ...),
        documented in :class:`~sb3_td3x.common.buffers.PrioritizedReplayBuffer` and
        :class:`~sb3_td3x.common.buffers.LAPReplayBuffer`
    :param optimize_memory_usage: Enable a memory efficient variant of the replay buffer
        (not supported with n-step returns or prioritized replay)
    :param n_steps: Number of steps of the n-step return (SB3's ``NStepReplayBuffer``), >= 1.
        Also applied to a prioritized buffer.
    :param prioritized_replay: ``"none"`` (uniform replay), ``"per"`` or ``"lap"``: the short form of
        ``replay_buffer_class`` (the same for every algorithm of the package, see
        :class:`~sb3_td3x.common.prioritized.PrioritizedReplayMixin`)
    :param policy_checkpoints: Whether to keep a policy checkpoint, as TD7 does (see :mod:`sb3_td3x.common.checkpoints`):
        training waits at the end of each episode while the current policy is assessed on the episodes it plays,
        and deterministic prediction uses the best assessed policy. Needs ``train_freq=(1, "episode")``, one
        environment and a TD3X policy; ``gradient_steps=-1`` makes as many gradient steps as env steps, as TD7
    :param checkpoint_kwargs: Keyword arguments of :class:`~sb3_td3x.common.checkpoints.PolicyCheckpoints`:
        ``episodes`` (1), ``late_episodes`` (20), ``late_start`` (750,000 gradient steps), ``reset_weight`` (0.9),
        ``healthy_reward`` (0: the score is the minimum return, TD7's rule; e.g. 1 on Hopper scores progress instead)
    :param policy_delay: Policy and target networks will only be updated once every policy_delay steps
        per training steps. The Q values will be updated policy_delay more often (update every training step).
    :param target_policy_noise: Standard deviation of Gaussian noise added to target policy
        (smoothing noise)
    :param target_noise_clip: Limit for absolute value of target policy smoothing noise.
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation
        (``critic_layer_norm``: LayerNorm in the critics, see :class:`~sb3_td3x.td3x.policies.TD3XPolicy`;
        for ``NoisyMlpPolicy`` also ``noise_kind``, ``sigma_init``, ``noisy_critic``)
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": MlpPolicy,
        "CnnPolicy": CnnPolicy,
        "MultiInputPolicy": MultiInputPolicy,
        "NoisyMlpPolicy": NoisyMlpPolicy,
        "CrossQPolicy": CrossQPolicy,
    }

    @reject_renamed_arguments
    def __init__(
        self,
        policy: str | type[TD3Policy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        buffer_size: int = 1_000_000,  # 1e6
        learning_starts: int = 100,
        batch_size: int = 256,
        tau: float = 0.005,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 1,
        gradient_steps: int = 1,
        action_noise: ActionNoise | None = None,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        prioritized_replay: str = "none",
        policy_checkpoints: bool = False,
        checkpoint_kwargs: dict[str, Any] | None = None,
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
        self._init_prioritized_replay(prioritized_replay, replay_buffer_class, replay_buffer_kwargs, n_steps)
        check_off_policy_args(buffer_size, learning_starts, batch_size, tau, gamma, train_freq, gradient_steps)
        check_td3_args(policy_delay, target_policy_noise, target_noise_clip)
        # The policy class, resolved once by SB3's own lookup of policy_aliases
        policy_class = self._get_policy_from_name(policy) if isinstance(policy, str) else policy
        checkpoint_kwargs = self._check_checkpoint_args(policy_checkpoints, checkpoint_kwargs, policy_class, train_freq)
        self._check_policy_class(policy_class)
        if issubclass(policy_class, CrossQPolicy) and batch_size < 2:
            # Batch renormalization in training mode divides by the batch's own variance: one sample has none
            raise ValueError(
                f"batch_size must be >= 2 with {policy_class.__name__} (its batch renormalization needs the variance "
                f"of each batch), got {batch_size!r}"
            )
        if env is not None:
            env = maybe_make_env(env, verbose)
            check_action_space(type(self).__name__, env)
            check_replay_support(env, prioritized_replay, replay_buffer_class, n_steps, optimize_memory_usage)
            n_envs = env.num_envs if hasattr(env, "num_envs") else 1
            if policy_checkpoints and n_envs != 1:
                raise ValueError(
                    f"policy_checkpoints=True assesses the policy episode by episode: it needs one environment, "
                    f"got n_envs={n_envs}"
                )

        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            tau=tau,
            gamma=gamma,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            action_noise=action_noise,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
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
        self.policy_checkpoints = policy_checkpoints
        self.checkpoint_kwargs = checkpoint_kwargs
        # The assessment's bookkeeping, saved with the model; the checkpoint's weights are in the policy
        self.checkpoints = PolicyCheckpoints(**checkpoint_kwargs) if policy_checkpoints else None
        self._episode_return = 0.0
        self._episode_length = 0
        self._last_episode_return: float | None = None
        self._last_episode_length = 0

        if _init_setup_model:
            self._setup_model()

    def _check_policy_class(self, policy_class: type[BasePolicy]) -> None:
        """
        :raises ValueError: for a policy whose networks only one algorithm trains (its ``trained_by`` names it, e.g.
            TD7's networks) when this algorithm is not that one nor a subclass of it.
        """
        owner = getattr(policy_class, "trained_by", None)
        if owner is not None and owner not in {cls.__name__ for cls in type(self).__mro__}:
            raise ValueError(
                f"policy={policy_class.__name__}: these networks are trained by the {owner} algorithm: "
                f"{owner}('MlpPolicy', env)"
            )

    def _check_checkpoint_args(
        self,
        policy_checkpoints: bool,
        checkpoint_kwargs: dict[str, Any] | None,
        policy_class: type[BasePolicy],
        train_freq: int | tuple[int, str],
    ) -> dict[str, Any]:
        if not isinstance(policy_checkpoints, bool):
            raise ValueError(f"policy_checkpoints must be True or False, got {policy_checkpoints!r}")
        if not policy_checkpoints:
            if checkpoint_kwargs:
                raise ValueError("checkpoint_kwargs needs policy_checkpoints=True")
            return {}
        kwargs = check_checkpoint_kwargs(checkpoint_kwargs)
        if not issubclass(policy_class, TD3XPolicy):
            raise ValueError(
                f"policy_checkpoints=True needs a TD3X policy (MlpPolicy, CnnPolicy, MultiInputPolicy, NoisyMlpPolicy, "
                f"or a subclass of TD3XPolicy), got {policy_class.__name__}"
            )
        if train_freq_pair(train_freq) != (1, "episode"):
            raise ValueError(
                f"policy_checkpoints=True trains after each episode, once the policy that played it is assessed: "
                f"train_freq must be (1, 'episode'), got {train_freq!r}"
            )
        return kwargs

    def _setup_model(self) -> None:
        self._upgrade_saved_noise()
        if self.policy_checkpoints:
            # As SB3 gives use_sde to the policies that have it: the policy builds the checkpoint's networks.
            # A new dict: the caller's policy_kwargs stay as they were
            self.policy_kwargs = {**self.policy_kwargs, "use_checkpoint": True}
        # The replay buffer (PER / LAP, with SB3's n_steps under it) is chosen by PrioritizedReplayMixin
        super()._setup_model()

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ):
        if reset_num_timesteps or self._last_obs is None:
            # SB3 resets the env: a new episode starts
            self._episode_return, self._episode_length = 0.0, 0
        total_timesteps, callback = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        # A decaying noise without its length decays over this run (SB3's total: counted from step 0), in each
        # env's copy (SB3 has just made them)
        for noise in _noise_processes(self.action_noise):
            if isinstance(noise, DecayingNormalActionNoise) and noise.decay_steps is None:
                noise.decay_steps = total_timesteps
        return total_timesteps, callback

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """SB3's, plus the return (in the env's own reward units) and length of the current episode for the policy
        checkpoints."""
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)
        if self.checkpoints is not None:
            original = self._vec_normalize_env.get_original_reward() if self._vec_normalize_env is not None else reward
            self._episode_return += float(original[0])
            self._episode_length += 1
            if dones[0]:
                self._last_episode_return, self._episode_return = self._episode_return, 0.0
                self._last_episode_length, self._episode_length = self._episode_length, 0

    def _upgrade_saved_noise(self) -> None:
        """
        A model saved by an earlier version kept its noise schedule as attributes (``noise_schedule``,
        ``noise_final_std``, ``noise_decay_steps``) beside a ``NormalActionNoise`` until its first ``learn()``: the
        noise becomes the :class:`~sb3_td3x.common.noise.DecayingNormalActionNoise` it stood for; the attributes go.
        """
        saved = {name: self.__dict__.pop(name) for name in RENAMED_NOISE_ARGS if name in self.__dict__}
        schedule = saved.get("noise_schedule", "constant")
        noise = self.action_noise
        if schedule != "constant" and isinstance(noise, NormalActionNoise):
            self.action_noise = DecayingNormalActionNoise.from_normal(
                noise, saved["noise_final_std"], saved.get("noise_decay_steps"), schedule
            )

    def _on_step(self) -> None:
        """
        Called after every env step: PER's ``beta`` anneals and the replay logs (:class:`PrioritizedReplayMixin`),
        and the exploration-noise schedule follows the algorithm's own step count, so both continue where they were
        after ``save``/``load`` or a resumed run.
        """
        super()._on_step()
        for noise in _noise_processes(self.action_noise):
            if isinstance(noise, DecayingNormalActionNoise):
                noise.set_step(self.num_timesteps)

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """
        SB3's ``TD3.train()`` with the changes marked ``[TD3X]``: fresh NoisyNet noise before every gradient step,
        the critic loss weighted by the importance-sampling weights (PER) or made a Huber loss (LAP), and the new
        priorities written back after each critic update, the share of the actor's actions at the bounds logged
        (``train/actor_saturation``); with policy checkpoints, the steps wait for the end of the assessment. With
        ``CrossQPolicy`` (CrossQ, Bhatt et al. 2024), the targets come from the online networks: the next action from
        the actor with its running batch statistics, the next values from the same pass of the critics as the current
        ones (the current and next pairs in one batch), no Polyak update; the critic judges the actor with its running
        statistics.

        The priority of a transition uses ``max(|delta_1|, |delta_2|)``, the larger TD error of the two critics
        against the shared clipped double-Q target (as the LAP reference code does): both critics are trained on
        every sample, so a transition stays a priority while either critic still fits it badly, and for LAP this
        is the error whose Huber loss the sampling stands in for.
        """
        # [TD3X] Policy checkpoints: the gradient steps wait until the assessment of the current policy ends
        if self.checkpoints is not None:
            gradient_steps = self._assess_policy(gradient_steps)
            if gradient_steps == 0:
                return

        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)

        # Update learning rate according to lr schedule
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer])

        # [TD3X] the replay's loss and priority update (uniform, PER or LAP: the buffer knows which)
        replay = self._replay
        reset_noise = getattr(self.policy, "reset_noise", None)
        # [TD3X] CrossQ's networks (CrossQPolicy): targets from the online networks, in a joint pass
        joint_pass = not getattr(self.policy, "uses_target_networks", True)

        actor_losses, critic_losses, saturations, q_means = [], [], [], []
        for _ in range(gradient_steps):
            self._n_updates += 1
            # [TD3X] NoisyNet: new noise for the actor, the critics and their targets at every gradient step
            if reset_noise is not None:
                reset_noise()
            # Sample replay buffer
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            # For n-step replay, discount factor is gamma**n_steps (when no early termination)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            with th.no_grad():
                # Select action according to policy and add clipped noise
                noise = replay_data.actions.clone().data.normal_(0, self.target_policy_noise)
                noise = noise.clamp(-self.target_noise_clip, self.target_noise_clip)
                if joint_pass:
                    # [TD3X] CrossQ: the online actor, with its running batch statistics
                    set_batch_renorm_training(self.actor, False)
                next_actions = (self.actor_target(replay_data.next_observations) + noise).clamp(-1, 1)

            if joint_pass:
                # [TD3X] CrossQ: no target critics; (s, a) and (s', a') go through the critics in one batch, so
                # that both are normalized with the statistics of their mixture
                set_batch_renorm_training(self.actor, True)
                all_q_values = self.critic(
                    th.cat([replay_data.observations, replay_data.next_observations]),
                    th.cat([replay_data.actions, next_actions]),
                )
                current_q_values = [q_values[:batch_size] for q_values in all_q_values]
                q_means.append(current_q_values[0].mean().item())
                next_q_values = th.cat([q_values[batch_size:] for q_values in all_q_values], dim=1).detach()
            else:
                with th.no_grad():
                    next_q_values = th.cat(self.critic_target(replay_data.next_observations, next_actions), dim=1)
                # Get current Q-values estimates for each critic network
                current_q_values = self.critic(replay_data.observations, replay_data.actions)

            with th.no_grad():
                # Compute the next Q-values: min over all critics targets
                next_q_values, _ = th.min(next_q_values, dim=1, keepdim=True)
                target_q_values = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q_values

            # Compute critic loss ([TD3X] PER: importance-weighted, LAP: Huber), and the per-sample TD errors
            critic_loss, td_errors = replay.batch_loss(current_q_values, target_q_values, replay_data)
            critic_losses.append(critic_loss.item())

            # Optimize the critics
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()

            # [TD3X] priorities go back right after the critic update
            replay.after_update(replay_data, td_errors)

            # Delayed policy updates
            if self._n_updates % self.policy_delay == 0:
                if joint_pass:
                    # [TD3X] CrossQ: the critic judges the actor with its running batch statistics
                    set_batch_renorm_training(self.critic, False)
                # Compute actor loss
                actions = self.actor(replay_data.observations)
                actor_loss = -self.critic.q1_forward(replay_data.observations, actions).mean()
                actor_losses.append(actor_loss.item())
                # [TD3X] how much of the actor sits at the action bounds, where tanh passes no gradient back
                saturations.append(action_saturation(actions))

                # Optimize the actor
                self.actor.optimizer.zero_grad()
                actor_loss.backward()
                self.actor.optimizer.step()

                if joint_pass:
                    # [TD3X] CrossQ: no target networks to update
                    set_batch_renorm_training(self.critic, True)
                else:
                    polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                    polyak_update(self.actor.parameters(), self.actor_target.parameters(), self.tau)
                    # Copy running stats, see GH issue #996
                    polyak_update(self.critic_batch_norm_stats, self.critic_batch_norm_stats_target, 1.0)
                    polyak_update(self.actor_batch_norm_stats, self.actor_batch_norm_stats_target, 1.0)

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if len(actor_losses) > 0:
            self.logger.record("train/actor_loss", np.mean(actor_losses))
            # [TD3X]
            self.logger.record("train/actor_saturation", np.mean(saturations))
        self.logger.record("train/critic_loss", np.mean(critic_losses))
        # [TD3X]
        self._record_extras()
        if joint_pass:
            # [TD3X] CrossQ: without target networks a diverging critic shows in its values first; the batch
            # renormalization switches from batch to renormalized statistics once its warm-up is over
            self.logger.record("train/q_mean", np.mean(q_means))
            first = next(module for module in self.critic.modules() if isinstance(module, FusedBatchRenorm1d))
            self.logger.record("train/renorm_warmup_left", max(first.warmup_steps - int(first.steps), 0))

    def _assess_policy(self, gradient_steps: int) -> int:
        """
        The episode that just ended counts in the assessment of the current policy (TD7's checkpoints): it becomes
        the checkpoint if the assessment completes at or above the best score, before it is trained further.

        :param gradient_steps: The gradient steps the episode earns.
        :return: the gradient steps to make now (those of the whole assessment once it ends, else 0).
        """
        assert self.checkpoints is not None and self._last_episode_return is not None
        take, steps = self.checkpoints.end_of_episode(
            self._last_episode_return, gradient_steps, self._n_updates, self._last_episode_length
        )
        if take:
            self.policy.take_checkpoint()  # type: ignore[operator]
        self.logger.record("train/checkpoint_score", self.checkpoints.best_score)
        self.logger.record("train/n_checkpoints", self.checkpoints.n_checkpoints)
        return steps

    def _record_extras(self) -> None:
        """Log what the other extras are doing: the exploration sigma and the NoisyNet sigma (the replay logs its own
        keys, see :class:`PrioritizedReplayMixin`)."""
        sigmas = [_current_sigma(noise) for noise in _noise_processes(self.action_noise)]
        known = [sigma for sigma in sigmas if sigma is not None]
        if known and len(known) == len(sigmas):
            self.logger.record("train/exploration_sigma", float(np.mean(known)))
        noisy_sigma_mean = getattr(self.policy, "noisy_sigma_mean", None)
        if noisy_sigma_mean is not None:
            self.logger.record("train/noisy_sigma_mean", float(noisy_sigma_mean()))

    def learn(
        self: SelfTD3X,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "TD3X",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfTD3X:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )


def action_saturation(actions: th.Tensor, margin: float = 0.01) -> float:
    """
    Share of the components of a batch of squashed actions (in [-1, 1]) that lie within ``margin`` of a bound. There
    tanh's slope is close to 0, so the actor's gradient can hardly move them back: an actor near 1 stays where it is
    (an actor that sits at a bound in every state keeps acting the same way, however badly that goes).

    :param actions: The actor's actions for a batch of observations, before any exploration noise.
    :param margin: How close to -1 or 1 counts as at the bound.
    :return: the share, between 0 and 1.
    """
    return float((actions.detach().abs() >= 1.0 - margin).float().mean())


def _noise_processes(action_noise: ActionNoise | None) -> list[ActionNoise]:
    """The per-env noise processes behind ``action_noise`` (SB3 vectorizes one copy per env)."""
    if action_noise is None:
        return []
    if isinstance(action_noise, VectorizedActionNoise):
        return list(action_noise.noises)
    return [action_noise]


def _current_sigma(noise: ActionNoise) -> float | None:
    """Mean sigma of a Gaussian exploration noise right now, or None for other kinds of noise."""
    if isinstance(noise, DecayingNormalActionNoise):
        return float(np.mean(noise.current_sigma))
    if isinstance(noise, NormalActionNoise):
        return float(np.mean(noise._sigma))
    return None
