"""
NoisyNet policy for DQNX: Noisy Networks for Exploration, Fortunato et al. 2018, https://arxiv.org/abs/1706.10295
(NoisyNet-DQN, the paper's own setting). Every linear layer of the Q-network is a :class:`NoisyLinear`; the
parameter noise replaces epsilon-greedy exploration.
"""

from __future__ import annotations

from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.dqn.policies import DQNPolicy, QNetwork
from torch import nn

from sb3_td3x.common.noisy import check_noise_kwargs, create_noisy_mlp, mean_weights, noisy_layers
from sb3_td3x.common.policy_args import check_net_arch


class NoisyQNetwork(QNetwork):
    """
    SB3's ``QNetwork`` with :class:`~sb3_td3x.common.noisy.NoisyLinear` layers: acting greedily on noisy Q-values
    (``deterministic=False``, with fresh noise) explores; ``deterministic=True`` uses the mean weights.

    :param noise_kind: ``"factorized"`` (the paper's choice for DQN) or ``"independent"`` Gaussian noise
    :param sigma_init: ``sigma_0`` of the paper, > 0; None for the paper's default of the noise kind
    :param kwargs: The arguments of SB3's ``QNetwork``
    """

    def __init__(self, *args: Any, noise_kind: str = "factorized", sigma_init: float | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.noise_kind, self.sigma_init = noise_kind, sigma_init
        action_dim = int(self.action_space.n)
        self.q_net = nn.Sequential(
            *create_noisy_mlp(
                self.features_dim, action_dim, self.net_arch, self.activation_fn, noise_kind=noise_kind, sigma_init=sigma_init
            )
        )

    def reset_noise(self) -> None:
        """Draw fresh noise for every noisy layer."""
        for layer in noisy_layers(self):
            layer.reset_noise()

    def _predict(self, observation: PyTorchObs, deterministic: bool = True) -> th.Tensor:
        if deterministic:
            with mean_weights(self):
                return super()._predict(observation, deterministic=True)
        self.reset_noise()
        return super()._predict(observation, deterministic=False)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(noise_kind=self.noise_kind, sigma_init=self.sigma_init)
        return data


class NoisyDQNPolicy(DQNPolicy):
    """
    DQN policy whose Q-network and target are :class:`NoisyQNetwork` s with independent noise. ``DQNX`` draws fresh
    noise for both before every gradient step and switches epsilon-greedy off with this policy.

    :param observation_space: Observation space
    :param action_space: Action space (``Discrete``)
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the Q-network
    :param activation_fn: Activation function
    :param features_extractor_class: Features extractor to use
    :param features_extractor_kwargs: Keyword arguments to pass to the features extractor
    :param normalize_images: Whether to normalize images or not, dividing by 255.0 (True by default)
    :param optimizer_class: The optimizer to use, ``th.optim.Adam`` by default
    :param optimizer_kwargs: Additional keyword arguments, excluding the learning rate, to pass to the optimizer
    :param noise_kind: ``"factorized"`` or ``"independent"`` Gaussian noise
    :param sigma_init: ``sigma_0`` of the paper, > 0; None for the paper's default (0.5 factorized, 0.017 independent)
    """

    q_net: NoisyQNetwork
    q_net_target: NoisyQNetwork

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Discrete,
        lr_schedule: Schedule,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        noise_kind: str = "factorized",
        sigma_init: float | None = None,
    ):
        check_noise_kwargs(noise_kind, sigma_init)
        check_net_arch(net_arch, keys=())
        # Set before the parent's constructor, which builds the networks through make_q_net()
        self.noise_kind, self.sigma_init = noise_kind, sigma_init
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=net_arch,
            activation_fn=activation_fn,
            features_extractor_class=features_extractor_class,
            features_extractor_kwargs=features_extractor_kwargs,
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        # The target was loaded from the online network's state_dict, noise included: give it its own noise
        self.q_net_target.reset_noise()

    def make_q_net(self) -> NoisyQNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return NoisyQNetwork(**net_args, noise_kind=self.noise_kind, sigma_init=self.sigma_init).to(self.device)

    def reset_noise(self) -> None:
        """Draw fresh, independent noise for the Q-network and its target."""
        self.q_net.reset_noise()
        self.q_net_target.reset_noise()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(noise_kind=self.noise_kind, sigma_init=self.sigma_init)
        return data


NoisyMlpPolicy = NoisyDQNPolicy
