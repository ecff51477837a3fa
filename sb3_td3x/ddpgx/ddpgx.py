from typing import Any, TypeVar

import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.td3.policies import TD3Policy

from sb3_td3x.common.prioritized import reject_renamed_arguments
from sb3_td3x.td3x.td3x import TD3X

SelfDDPGX = TypeVar("SelfDDPGX", bound="DDPGX")


class DDPGX(TD3X):
    """
    SB3's DDPG with TD3X's extras: prioritized replay (PER or LAP), n-step returns, NoisyNet actor, decaying noise.
    As SB3's ``DDPG`` is ``TD3`` without its tricks, ``DDPGX`` is ``TD3X`` without them (one critic, no policy delay,
    no target policy smoothing), with the same ``train()``; with every extra off it is exactly SB3's DDPG.

    Continuous control with deep reinforcement learning (DDPG), Lillicrap et al. 2016,
    https://arxiv.org/abs/1509.02971. For the extras, see :class:`~sb3_td3x.td3x.td3x.TD3X`.

    :param policy: The policy model to use (MlpPolicy, CnnPolicy, MultiInputPolicy, NoisyMlpPolicy)
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
    :param action_noise: the action noise type (None by default; a ``DecayingNormalActionNoise`` decays over the run)
    :param replay_buffer_class: Replay buffer class to use. ``PrioritizedReplayBuffer`` or ``LAPReplayBuffer``
        switch prioritized replay on exactly as ``prioritized_replay`` does.
    :param replay_buffer_kwargs: Keyword arguments to pass to the replay buffer on creation (the settings of
        prioritized replay, documented in its buffer class)
    :param optimize_memory_usage: Enable a memory efficient variant of the replay buffer
        (not supported with n-step returns or prioritized replay)
    :param n_steps: Number of steps of the n-step return (SB3's ``NStepReplayBuffer``), >= 1
    :param prioritized_replay: ``"none"``, ``"per"`` or ``"lap"``: the short form of ``replay_buffer_class``
    :param policy_checkpoints: Whether to keep a policy checkpoint (see :class:`~sb3_td3x.td3x.td3x.TD3X`)
    :param checkpoint_kwargs: Keyword arguments of the policy checkpoints (see :class:`~sb3_td3x.td3x.td3x.TD3X`)
    :param tensorboard_log: the log location for tensorboard (if None, no logging)
    :param policy_kwargs: additional arguments to be passed to the policy on creation (one critic unless
        ``n_critics`` is given)
    :param verbose: Verbosity level: 0 for no output, 1 for info messages (such as device or wrappers used), 2 for
        debug messages
    :param seed: Seed for the pseudo random generators
    :param device: Device (cpu, cuda, ...) on which the code should be run.
        Setting it to auto, the code will be run on the GPU if possible.
    :param _init_setup_model: Whether or not to build the network at the creation of the instance
    """

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
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ):
        super().__init__(
            policy=policy,
            env=env,
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
            prioritized_replay=prioritized_replay,
            policy_checkpoints=policy_checkpoints,
            checkpoint_kwargs=checkpoint_kwargs,
            policy_kwargs=policy_kwargs,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            # SB3's DDPG: TD3 without its tricks (target_policy_noise > 0 only to pass TD3's checks; clipped to 0)
            policy_delay=1,
            target_noise_clip=0.0,
            target_policy_noise=0.1,
            _init_setup_model=False,
        )
        # Use only one critic (in a new dict: the caller's policy_kwargs stay as they were)
        if "n_critics" not in self.policy_kwargs:
            self.policy_kwargs = {**self.policy_kwargs, "n_critics": 1}
        if _init_setup_model:
            self._setup_model()

    def learn(
        self: SelfDDPGX,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "DDPGX",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfDDPGX:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
