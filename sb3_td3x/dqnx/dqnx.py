from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from stable_baselines3.common.base_class import maybe_make_env
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.dqn import DQN
from stable_baselines3.dqn.policies import CnnPolicy, DQNPolicy, MlpPolicy, MultiInputPolicy

from sb3_td3x.common.prioritized import PrioritizedReplayMixin, check_replay_support, reject_renamed_arguments
from sb3_td3x.common.training_args import check_off_policy_args
from sb3_td3x.dqnx.policies import NoisyDQNPolicy, NoisyMlpPolicy

SelfDQNX = TypeVar("SelfDQNX", bound="DQNX")


class DQNX(PrioritizedReplayMixin, DQN):
    """
    SB3's DQN with prioritized replay (proportional PER or LAP), composable with SB3's own n-step returns, and a
    NoisyNet Q-network that replaces epsilon-greedy. With every extra off, DQNX is exactly SB3's DQN (same updates,
    same random number stream).

    Human-level control through deep reinforcement learning (DQN), Mnih et al. 2015 (inherited from SB3's DQN).
    PER: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
    LAP: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay, Fujimoto et al. 2020,
    https://arxiv.org/abs/2007.06049, reference implementation https://github.com/sfujim/LAP-PAL
    NoisyNet: Noisy Networks for Exploration, Fortunato et al. 2018, https://arxiv.org/abs/1706.10295

    SB3's DQN loss is already a Huber loss (``smooth_l1_loss``, threshold 1). With PER, each sample's Huber loss is
    weighted by its importance-sampling weight. With LAP, nothing is weighted: the priority is
    ``max(|delta|, min_priority)^alpha`` and the Huber threshold moves to ``min_priority`` (the default 1 keeps SB3's
    loss exactly), so LAP changes the sampling only; the pairing of that sampling with that loss is what LAP's
    equivalence result is about (Fujimoto et al. 2020, section 4).

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy: SB3's DQN policies;
        NoisyMlpPolicy: the NoisyNet Q-network, with which epsilon-greedy is off)
    :param env: The environment to learn from (if registered in Gym, can be str)
    :param learning_rate: The learning rate, it can be a function
        of the current progress remaining (from 1 to 0)
    :param buffer_size: size of the replay buffer
    :param learning_starts: how many steps of the model to collect transitions for before learning starts
    :param batch_size: Minibatch size for each gradient update
    :param tau: the soft update coefficient ("Polyak update", between 0 and 1) default 1 for hard update
    :param gamma: the discount factor
    :param train_freq: Update the model every ``train_freq`` steps. Alternatively pass a tuple of frequency and unit
        like ``(5, "step")`` or ``(2, "episode")``.
    :param gradient_steps: How many gradient steps to do after each rollout (see ``train_freq``)
        Set to ``-1`` means to do as many gradient steps as steps done in the environment
        during the rollout.
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
    :param target_update_interval: update the target network every ``target_update_interval``
        environment steps.
    :param exploration_fraction: fraction of entire training period over which the exploration rate is reduced
    :param exploration_initial_eps: initial value of random action probability (0 with NoisyMlpPolicy)
    :param exploration_final_eps: final value of random action probability (0 with NoisyMlpPolicy)
    :param max_grad_norm: The maximum value for the gradient clipping
    :param stats_window_size: Window size for the rollout logging, specifying the number of episodes to average
        the reported success rate, mean episode length, and mean reward over
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation (NoisyMlpPolicy:
        ``noise_kind``, ``sigma_init``)
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
    }

    @reject_renamed_arguments
    def __init__(
        self,
        policy: str | type[DQNPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-4,
        buffer_size: int = 1_000_000,  # 1e6
        learning_starts: int = 100,
        batch_size: int = 32,
        tau: float = 1.0,
        gamma: float = 0.99,
        train_freq: int | tuple[int, str] = 4,
        gradient_steps: int = 1,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        n_steps: int = 1,
        prioritized_replay: str = "none",
        target_update_interval: int = 10000,
        exploration_fraction: float = 0.1,
        exploration_initial_eps: float = 1.0,
        exploration_final_eps: float = 0.05,
        max_grad_norm: float = 10,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        # All checks run before any network or buffer is built
        self._init_prioritized_replay(prioritized_replay, replay_buffer_class, replay_buffer_kwargs, n_steps)
        check_off_policy_args(buffer_size, learning_starts, batch_size, tau, gamma, train_freq, gradient_steps)
        if env is not None:
            env = maybe_make_env(env, verbose)
            check_replay_support(env, prioritized_replay, replay_buffer_class, n_steps, optimize_memory_usage)
        policy_class = self._get_policy_from_name(policy) if isinstance(policy, str) else policy
        noisy = issubclass(policy_class, NoisyDQNPolicy)
        if noisy:
            # The parameter noise replaces epsilon-greedy (Fortunato et al. 2018, section 3.1)
            exploration_initial_eps = exploration_final_eps = 0.0
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
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            n_steps=n_steps,
            target_update_interval=target_update_interval,
            exploration_fraction=exploration_fraction,
            exploration_initial_eps=exploration_initial_eps,
            exploration_final_eps=exploration_final_eps,
            max_grad_norm=max_grad_norm,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
        )
        if _init_setup_model:
            self._setup_model()

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """
        SB3's ``DQN.train()`` with the changes marked ``[DQNX]``: fresh NoisyNet noise before every gradient step,
        the loss of the batch from :class:`~sb3_td3x.common.prioritized.PrioritizedReplayMixin` (SB3's Huber loss,
        importance-weighted with PER, its threshold at ``min_priority`` with LAP) and the new priorities written back
        after each update.
        """
        # Switch to train mode (this affects batch norm / dropout)
        self.policy.set_training_mode(True)
        # Update learning rate according to schedule
        self._update_learning_rate(self.policy.optimizer)

        # [DQNX] prioritized replay: LAP's threshold for this call, the diagnostics' accumulators
        replay = self._replay
        reset_noise = getattr(self.policy, "reset_noise", None)

        losses = []
        for _ in range(gradient_steps):
            # [DQNX] counted here, not after the loop, so that the priority reset sees each step
            self._n_updates += 1
            # [DQNX] NoisyNet: new noise for the Q-network and its target at every gradient step
            if reset_noise is not None:
                reset_noise()
            # Sample replay buffer
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            # For n-step replay, discount factor is gamma**n_steps (when no early termination)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma

            with th.no_grad():
                # Compute the next Q-values using the target network
                next_q_values = self.q_net_target(replay_data.next_observations)
                # Follow greedy policy: use the one with the highest value
                next_q_values, _ = next_q_values.max(dim=1)
                # Avoid potential broadcast issue
                next_q_values = next_q_values.reshape(-1, 1)
                # 1-step TD target
                target_q_values = replay_data.rewards + (1 - replay_data.dones) * discounts * next_q_values

            # Get current Q-values estimates
            current_q_values = self.q_net(replay_data.observations)

            # Retrieve the q-values for the actions from the replay buffer
            current_q_values = th.gather(current_q_values, dim=1, index=replay_data.actions.long())

            # [DQNX] Huber loss (PER: importance-weighted; LAP: threshold min_priority), and the TD errors
            loss, td_errors = replay.batch_loss((current_q_values,), target_q_values, replay_data, loss="huber")
            losses.append(loss.item())

            # Optimize the policy
            self.policy.optimizer.zero_grad()
            loss.backward()
            # Clip gradient norm
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()

            # [DQNX] priorities go back right after the update
            replay.after_update(replay_data, td_errors)

        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))

    def learn(
        self: SelfDQNX,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "DQNX",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfDQNX:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
