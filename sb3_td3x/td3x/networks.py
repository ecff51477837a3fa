"""
The networks of TD3X's policies: critics whose hidden layers can be layer-normalized, and the NoisyNet actor and
critics (Noisy Networks for Exploration, Fortunato et al. 2018, https://arxiv.org/abs/1706.10295).

Layer normalization of the critics (``critic_layer_norm=True``): every hidden ``Linear`` of each Q-network is
followed by ``LayerNorm`` before its activation, as in the critics of DroQ (Hiraoka et al. 2022,
https://arxiv.org/abs/2110.02034) and RLPD (Ball et al. 2023, https://arxiv.org/abs/2302.02948).

The NoisyNet networks are built from :class:`~sb3_td3x.common.noisy.NoisyLinear` layers whose weights are
``mu + sigma * epsilon`` with learned ``mu`` and ``sigma`` and a fresh noise sample ``epsilon``. Whether a forward
pass uses the noisy or the mean weights is chosen by the ``deterministic`` flag of ``predict`` and never by
``.training``: SB3 collects rollouts with the policy in eval mode, so tying the noise to train mode would switch
exploration off exactly when it is needed.

The batch-renormalized actor and critics of ``CrossQPolicy`` (CrossQ: Batch Normalization in Deep Reinforcement
Learning for Greater Sample Efficiency and Simplicity, Bhatt et al. 2024, https://arxiv.org/abs/1902.05605) put a
batch renormalization layer before every ``Linear``, the first and the output layer included, as sb3-contrib's CrossQ
networks do; their layers are :class:`~sb3_td3x.common.batch_renorm.FusedBatchRenorm1d`, contrib's layer computed
with fewer operations.
"""

from functools import partial
from typing import Any

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    create_mlp,
)
from stable_baselines3.common.type_aliases import PyTorchObs
from stable_baselines3.td3.policies import Actor
from torch import nn

from sb3_td3x.common.batch_renorm import FusedBatchRenorm1d
from sb3_td3x.common.noisy import (
    check_noise_kwargs,
    create_noisy_mlp,
    mean_weights,
    noisy_layers,
)


def check_layer_norm(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def _post_linear_modules(layer_norm: bool) -> list[type[nn.Module]] | None:
    # create_mlp puts post-linear modules after each hidden Linear, before its activation (not after the output)
    return [nn.LayerNorm] if layer_norm else None


class NoisyActor(Actor):
    """
    TD3 actor whose deterministic policy network ``mu`` is made of :class:`NoisyLinear` layers.

    ``forward`` uses the current noise sample (training: the paper's ``mu(s; zeta + Sigma * eps)``);
    ``_predict(deterministic=False)`` first draws fresh noise, so that SB3, which calls
    ``predict(deterministic=False)`` once per env step while collecting, acts with new noise at every step;
    ``_predict(deterministic=True)`` uses the mean weights and leaves the noise as it is.

    :param observation_space: Observation space
    :param action_space: Action space
    :param net_arch: Network architecture
    :param features_extractor: Network to extract features
        (a CNN when using images, a nn.Flatten() layer otherwise)
    :param features_dim: Number of features
    :param activation_fn: Activation function
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param noise_kind: ``"factorized"`` or ``"independent"`` Gaussian noise (see :class:`NoisyLinear`)
    :param sigma_init: ``sigma_0`` of the paper, > 0; None for the paper's default of the noise kind
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: nn.Module,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        noise_kind: str = "factorized",
        sigma_init: float | None = None,
    ):
        check_noise_kwargs(noise_kind, sigma_init)
        super().__init__(
            observation_space,
            action_space,
            net_arch=net_arch,
            features_extractor=features_extractor,
            features_dim=features_dim,
            activation_fn=activation_fn,
            normalize_images=normalize_images,
        )
        self.noise_kind = noise_kind
        self.sigma_init = sigma_init
        # Replace the plain MLP built by the parent
        action_dim = get_action_dim(self.action_space)
        actor_net = create_noisy_mlp(
            features_dim, action_dim, net_arch, activation_fn, squash_output=True, noise_kind=noise_kind, sigma_init=sigma_init
        )
        self.mu = nn.Sequential(*actor_net)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(dict(noise_kind=self.noise_kind, sigma_init=self.sigma_init, layer_norm=self.layer_norm))
        return data

    def reset_noise(self) -> None:
        """Draw fresh noise for every noisy layer."""
        for layer in noisy_layers(self):
            layer.reset_noise()

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        if deterministic:
            with mean_weights(self):
                return self(observation)
        self.reset_noise()
        return self(observation)


class LayerNormContinuousCritic(ContinuousCritic):
    """
    SB3's :class:`~stable_baselines3.common.policies.ContinuousCritic` with ``LayerNorm`` after every hidden
    ``Linear`` of each Q-network, before its activation (``Linear -> LayerNorm -> ReLU``, as in DroQ and RLPD);
    the output layer is left as it is.

    :param observation_space: Observation space
    :param action_space: Action space
    :param net_arch: Network architecture
    :param features_extractor: Network to extract features
        (a CNN when using images, a nn.Flatten() layer otherwise)
    :param features_dim: Number of features
    :param activation_fn: Activation function
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param n_critics: Number of critic networks to create.
    :param share_features_extractor: Whether the features extractor is shared or not
        between the actor and the critic (this saves computation time)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        n_critics: int = 2,
        share_features_extractor: bool = True,
    ):
        super().__init__(
            observation_space,
            action_space,
            net_arch=net_arch,
            features_extractor=features_extractor,
            features_dim=features_dim,
            activation_fn=activation_fn,
            normalize_images=normalize_images,
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
        )
        # Replace the plain Q-networks built by the parent (same module names qf0, qf1, ...)
        action_dim = get_action_dim(self.action_space)
        self.q_networks = []
        for idx in range(n_critics):
            q_net = nn.Sequential(
                *create_mlp(features_dim + action_dim, 1, net_arch, activation_fn, post_linear_modules=[nn.LayerNorm])
            )
            self.add_module(f"qf{idx}", q_net)
            self.q_networks.append(q_net)


class NoisyContinuousCritic(ContinuousCritic):
    """
    SB3's :class:`~stable_baselines3.common.policies.ContinuousCritic` whose Q-networks are made of
    :class:`NoisyLinear` layers (they always use the current noise sample).

    :param observation_space: Observation space
    :param action_space: Action space
    :param net_arch: Network architecture
    :param features_extractor: Network to extract features
        (a CNN when using images, a nn.Flatten() layer otherwise)
    :param features_dim: Number of features
    :param activation_fn: Activation function
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param n_critics: Number of critic networks to create.
    :param share_features_extractor: Whether the features extractor is shared or not
        between the actor and the critic (this saves computation time)
    :param noise_kind: ``"factorized"`` or ``"independent"`` Gaussian noise (see :class:`NoisyLinear`)
    :param sigma_init: ``sigma_0`` of the paper, > 0; None for the paper's default of the noise kind
    :param layer_norm: Whether every hidden noisy layer is followed by ``LayerNorm`` (before its activation)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        n_critics: int = 2,
        share_features_extractor: bool = True,
        noise_kind: str = "factorized",
        sigma_init: float | None = None,
        layer_norm: bool = False,
    ):
        check_noise_kwargs(noise_kind, sigma_init)
        check_layer_norm("layer_norm", layer_norm)
        super().__init__(
            observation_space,
            action_space,
            net_arch=net_arch,
            features_extractor=features_extractor,
            features_dim=features_dim,
            activation_fn=activation_fn,
            normalize_images=normalize_images,
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
        )
        self.noise_kind = noise_kind
        self.sigma_init = sigma_init
        self.layer_norm = layer_norm
        # Replace the plain Q-networks built by the parent (same module names qf0, qf1, ...)
        action_dim = get_action_dim(self.action_space)
        self.q_networks = []
        for idx in range(n_critics):
            q_net = nn.Sequential(
                *create_noisy_mlp(
                    features_dim + action_dim,
                    1,
                    net_arch,
                    activation_fn,
                    post_linear_modules=_post_linear_modules(layer_norm),
                    noise_kind=noise_kind,
                    sigma_init=sigma_init,
                )
            )
            self.add_module(f"qf{idx}", q_net)
            self.q_networks.append(q_net)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(dict(noise_kind=self.noise_kind, sigma_init=self.sigma_init, layer_norm=self.layer_norm))
        return data

    def reset_noise(self) -> None:
        """Draw fresh noise for every noisy layer."""
        for layer in noisy_layers(self):
            layer.reset_noise()


def check_batch_renorm_kwargs(batch_norm_momentum: float, batch_norm_eps: float, renorm_warmup_steps: int) -> None:
    """:raises ValueError: naming the first batch renormalization setting out of its range."""
    if not 0.0 < batch_norm_momentum <= 1.0:
        raise ValueError(f"batch_norm_momentum must be in (0, 1], got {batch_norm_momentum!r}")
    if not batch_norm_eps > 0.0:
        raise ValueError(f"batch_norm_eps must be > 0, got {batch_norm_eps!r}")
    if isinstance(renorm_warmup_steps, bool) or not isinstance(renorm_warmup_steps, int) or renorm_warmup_steps < 0:
        raise ValueError(f"renorm_warmup_steps must be an integer >= 0, got {renorm_warmup_steps!r}")


def _batch_renorm_layer(batch_norm_momentum: float, batch_norm_eps: float, renorm_warmup_steps: int) -> Any:
    # create_mlp gives each pre-linear module the number of features of the Linear that follows
    return partial(FusedBatchRenorm1d, momentum=batch_norm_momentum, eps=batch_norm_eps, warmup_steps=renorm_warmup_steps)


def set_batch_renorm_training(network: nn.Module, mode: bool) -> None:
    """
    Put the batch renormalization layers of a network in training mode (normalize with the batch statistics and update
    the running ones) or in evaluation mode (normalize with the running statistics), leaving its other modules as
    they are.

    :param network: The network.
    :param mode: True for training mode.
    """
    for module in network.modules():
        if isinstance(module, FusedBatchRenorm1d):
            module.train(mode)


class BatchRenormActor(Actor):
    """
    SB3's TD3 :class:`~stable_baselines3.td3.policies.Actor` with a batch renormalization layer before every
    ``Linear`` (CrossQ's actor, deterministic as TD3's).

    :param observation_space: Observation space
    :param action_space: Action space
    :param net_arch: Network architecture
    :param features_extractor: Network to extract features
        (a CNN when using images, a nn.Flatten() layer otherwise)
    :param features_dim: Number of features
    :param activation_fn: Activation function
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param batch_norm_momentum: Rate at which the running statistics follow the batch statistics
    :param batch_norm_eps: Added to the variance before its square root
    :param renorm_warmup_steps: Training-mode calls that normalize with the batch statistics alone
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: nn.Module,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        batch_norm_momentum: float = 0.01,
        batch_norm_eps: float = 0.001,
        renorm_warmup_steps: int = 100_000,
    ):
        check_batch_renorm_kwargs(batch_norm_momentum, batch_norm_eps, renorm_warmup_steps)
        super().__init__(
            observation_space,
            action_space,
            net_arch=net_arch,
            features_extractor=features_extractor,
            features_dim=features_dim,
            activation_fn=activation_fn,
            normalize_images=normalize_images,
        )
        self.batch_norm_momentum = batch_norm_momentum
        self.batch_norm_eps = batch_norm_eps
        self.renorm_warmup_steps = renorm_warmup_steps
        # Replace the plain MLP built by the parent
        layer = _batch_renorm_layer(batch_norm_momentum, batch_norm_eps, renorm_warmup_steps)
        action_dim = get_action_dim(self.action_space)
        self.mu = nn.Sequential(
            *create_mlp(features_dim, action_dim, net_arch, activation_fn, squash_output=True, pre_linear_modules=[layer])
        )

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(
            dict(
                batch_norm_momentum=self.batch_norm_momentum,
                batch_norm_eps=self.batch_norm_eps,
                renorm_warmup_steps=self.renorm_warmup_steps,
            )
        )
        return data


class BatchRenormContinuousCritic(ContinuousCritic):
    """
    SB3's :class:`~stable_baselines3.common.policies.ContinuousCritic` with a batch renormalization layer before every
    ``Linear`` of each Q-network (CrossQ's critics). Trained without target networks: the current and the next
    state-action pairs go through it in one batch (``TD3X.train``), so that both are normalized with the statistics of
    their mixture.

    :param observation_space: Observation space
    :param action_space: Action space
    :param net_arch: Network architecture
    :param features_extractor: Network to extract features
        (a CNN when using images, a nn.Flatten() layer otherwise)
    :param features_dim: Number of features
    :param activation_fn: Activation function
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param n_critics: Number of critic networks to create.
    :param share_features_extractor: Whether the features extractor is shared or not
        between the actor and the critic (this saves computation time)
    :param batch_norm_momentum: Rate at which the running statistics follow the batch statistics
    :param batch_norm_eps: Added to the variance before its square root
    :param renorm_warmup_steps: Training-mode calls that normalize with the batch statistics alone
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        n_critics: int = 2,
        share_features_extractor: bool = True,
        batch_norm_momentum: float = 0.01,
        batch_norm_eps: float = 0.001,
        renorm_warmup_steps: int = 100_000,
    ):
        check_batch_renorm_kwargs(batch_norm_momentum, batch_norm_eps, renorm_warmup_steps)
        super().__init__(
            observation_space,
            action_space,
            net_arch=net_arch,
            features_extractor=features_extractor,
            features_dim=features_dim,
            activation_fn=activation_fn,
            normalize_images=normalize_images,
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
        )
        # Replace the plain Q-networks built by the parent (same module names qf0, qf1, ...)
        layer = _batch_renorm_layer(batch_norm_momentum, batch_norm_eps, renorm_warmup_steps)
        action_dim = get_action_dim(self.action_space)
        self.q_networks = []
        for idx in range(n_critics):
            q_net = nn.Sequential(
                *create_mlp(features_dim + action_dim, 1, net_arch, activation_fn, pre_linear_modules=[layer])
            )
            self.add_module(f"qf{idx}", q_net)
            self.q_networks.append(q_net)
