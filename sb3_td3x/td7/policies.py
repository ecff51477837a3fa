"""
TD7's policy: SB3's TD3 policy layout (actor, critics, their targets, optimizers) with TD7's networks
(:mod:`sb3_td3x.td7.networks`) and the encoder's fixed copies.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_action_dim, preprocess_obs
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_td3x.common.policy_args import check_layer_widths
from sb3_td3x.common.training_args import check_integer_at_least
from sb3_td3x.td3x.policies import TD3XPolicy
from sb3_td3x.td7.networks import (
    DEFAULT_ENCODER_NET_ARCH,
    DEFAULT_NET_ARCH,
    DEFAULT_ZS_DIM,
    SALEActor,
    SALECritic,
    SALEEncoder,
    frozen_copy,
)


class TD7Policy(TD3XPolicy):
    """
    TD3 policy with SALE embeddings (TD7's networks): :class:`SALEActor`, :class:`SALECritic` and a
    :class:`SALEEncoder` with its fixed copies ``fixed_encoder`` and ``fixed_encoder_target``.

    ``TD7`` trains the encoder first at every gradient step and hard-updates the fixed copies with the targets
    (``target_update_interval``, 250 by default). Deterministic prediction with a policy checkpoint uses
    the checkpoint's actor with the fixed encoder it was trained against.
    Observations must be a flat ``Box``.

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (the same for actor, critics and encoder, as in TD7)
    :param net_arch: Widths of the actor's and critics' layers: the first reads the raw input (and is AvgL1Norm-ed),
        the others follow the embeddings; a list for both or ``dict(pi=[...], qf=[...])`` (TD7: 256, 256, 256)
    :param activation_fn: Activation of the actor (TD7: ReLU)
    :param critic_activation_fn: Activation of the critics (TD7: ELU)
    :param zs_dim: Size of the state and state-action embeddings (TD7: 256)
    :param encoder_net_arch: Hidden layers of each encoder (TD7: 256, 256)
    :param encoder_activation_fn: Activation of the encoders (TD7: ELU)
    :param features_extractor_class: Must be ``FlattenExtractor``
    :param features_extractor_kwargs: Keyword arguments of the features extractor
    :param normalize_images: Whether to normalize images (unused: observations are flat)
    :param optimizer_class: The optimizer of every network, ``th.optim.Adam`` by default
    :param optimizer_kwargs: Additional keyword arguments, excluding the learning rate, to pass to the optimizer
        (with Adam and without a ``fused`` key, the fused Adam kernel is used where torch has it for the device)
    :param n_critics: Number of critics
    :param share_features_extractor: Must be False
    :param critic_layer_norm: Must be False (the critics are AvgL1Norm-ed)
    :param use_checkpoint: Whether the policy keeps a checkpoint (actor and fixed encoder) to act with when
        deterministic
    """

    # Only TD7's update trains the embeddings: TD3X refuses these networks
    trained_by: ClassVar[str] = "TD7"
    # The first layer of actor and critics reads the raw input before the embeddings join: it must be there
    min_hidden_layers: ClassVar[int] = 1
    encoder: SALEEncoder
    fixed_encoder: SALEEncoder
    fixed_encoder_target: SALEEncoder
    checkpoint_encoder: SALEEncoder
    actor: SALEActor  # type: ignore[assignment]
    actor_target: SALEActor  # type: ignore[assignment]
    critic: SALECritic  # type: ignore[assignment]
    critic_target: SALECritic  # type: ignore[assignment]

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        critic_activation_fn: type[nn.Module] = nn.ELU,
        zs_dim: int = DEFAULT_ZS_DIM,
        encoder_net_arch: list[int] | None = None,
        encoder_activation_fn: type[nn.Module] = nn.ELU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        n_critics: int = 2,
        share_features_extractor: bool = False,
        critic_layer_norm: bool = False,
        use_checkpoint: bool = False,
    ):
        check_sale_kwargs(observation_space, zs_dim, encoder_net_arch, features_extractor_class, share_features_extractor)
        if critic_layer_norm:
            raise ValueError("critic_layer_norm: TD7Policy's critics are normalized by AvgL1Norm, it must be False")
        # Set before the parent's constructor, which builds the networks
        self.zs_dim = zs_dim
        self.encoder_net_arch = list(DEFAULT_ENCODER_NET_ARCH if encoder_net_arch is None else encoder_net_arch)
        self.critic_activation_fn = critic_activation_fn
        self.encoder_activation_fn = encoder_activation_fn
        super().__init__(
            observation_space,
            action_space,
            lr_schedule,
            net_arch=list(DEFAULT_NET_ARCH) if net_arch is None else net_arch,
            activation_fn=activation_fn,
            features_extractor_class=features_extractor_class,
            features_extractor_kwargs=features_extractor_kwargs,
            normalize_images=normalize_images,
            optimizer_class=optimizer_class,
            optimizer_kwargs=optimizer_kwargs,
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
            use_checkpoint=use_checkpoint,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        # Adam's fused kernel (one call per optimizer step instead of a loop over the parameters) where this torch
        # and device have it, unless the caller chose; the constructor parameters keep the caller's choice
        user_optimizer_kwargs = self.optimizer_kwargs
        if self.optimizer_class is th.optim.Adam and "fused" not in user_optimizer_kwargs and _has_fused_adam(self.device):
            self.optimizer_kwargs = {**user_optimizer_kwargs, "fused": True}
        try:
            self._build_networks(lr_schedule)
        finally:
            self.optimizer_kwargs = user_optimizer_kwargs

    def _build_networks(self, lr_schedule: Schedule) -> None:
        obs_dim = spaces.flatdim(self.observation_space)
        self.encoder = SALEEncoder(
            obs_dim, get_action_dim(self.action_space), self.zs_dim, self.encoder_net_arch, self.encoder_activation_fn
        ).to(self.device)
        self.fixed_encoder = frozen_copy(self.encoder)
        self.fixed_encoder_target = frozen_copy(self.encoder)
        self.encoder.optimizer = self.optimizer_class(
            self.encoder.parameters(),
            lr=lr_schedule(1),  # type: ignore[call-arg]
            **self.optimizer_kwargs,
        )
        super()._build(lr_schedule)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.pop("critic_layer_norm", None)
        data.update(
            dict(
                critic_activation_fn=self.critic_activation_fn,
                zs_dim=self.zs_dim,
                encoder_net_arch=self.encoder_net_arch,
                encoder_activation_fn=self.encoder_activation_fn,
            )
        )
        return data

    def make_actor(self, features_extractor: BaseFeaturesExtractor | None = None) -> SALEActor:  # type: ignore[override]
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return SALEActor(**actor_kwargs, zs_dim=self.zs_dim).to(self.device)

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> SALECritic:  # type: ignore[override]
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        critic_kwargs["activation_fn"] = self.critic_activation_fn
        return SALECritic(**critic_kwargs, zs_dim=self.zs_dim).to(self.device)

    def preprocess(self, obs: PyTorchObs) -> th.Tensor:
        """:return: observations as the networks read them: float, flattened (computed once per batch)."""
        return preprocess_obs(obs, self.observation_space, self.normalize_images).flatten(1)  # type: ignore[union-attr]

    def add_checkpoint(self) -> None:
        super().add_checkpoint()
        self.checkpoint_encoder = frozen_copy(self.fixed_encoder)

    def take_checkpoint(self) -> None:
        """The current actor, with the fixed encoder it reads, becomes the checkpoint."""
        super().take_checkpoint()
        self.checkpoint_encoder.load_state_dict(self.fixed_encoder.state_dict())

    def hard_update(self) -> None:
        """TD7's periodic update: targets <- online networks, ``fixed_encoder_target <- fixed_encoder <- encoder``."""
        self.actor_target.load_state_dict(self.actor.state_dict())
        self.critic_target.load_state_dict(self.critic.state_dict())
        self.fixed_encoder_target.load_state_dict(self.fixed_encoder.state_dict())
        self.fixed_encoder.load_state_dict(self.encoder.state_dict())

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        # Exploration (and deterministic prediction before the first checkpoint) acts with the current actor and
        # the fixed encoder it is trained against
        if deterministic and self.has_checkpoint:
            actor, encoder = self.checkpoint_actor, self.checkpoint_encoder
        else:
            actor, encoder = self.actor, self.fixed_encoder
        obs = self.preprocess(observation)
        return actor(obs, encoder.zs(obs))  # type: ignore[operator]

    def set_training_mode(self, mode: bool) -> None:
        super().set_training_mode(mode)
        self.encoder.train(mode)


def _has_fused_adam(device: th.device) -> bool:
    """:return: whether ``th.optim.Adam(..., fused=True)`` works on ``device`` with this torch (CPU: torch >= 2.4)."""
    try:
        parameter = th.zeros(1, device=device, requires_grad=True)
        parameter.grad = th.zeros_like(parameter)
        th.optim.Adam([parameter], fused=True).step()
    except (RuntimeError, TypeError, ValueError):
        return False
    return True


def check_sale_kwargs(
    observation_space: spaces.Space,
    zs_dim: int,
    encoder_net_arch: list[int] | None,
    features_extractor_class: type[BaseFeaturesExtractor],
    share_features_extractor: bool,
) -> None:
    """
    :raises ValueError: naming the argument, for what :class:`TD7Policy` cannot build.
    """
    if not isinstance(observation_space, spaces.Box) or len(observation_space.shape) != 1:
        raise ValueError(f"observation_space: TD7Policy needs a flat gymnasium.spaces.Box, got {observation_space}")
    check_integer_at_least("zs_dim", zs_dim, 1, "an integer >= 1 (the embedding size)")
    if encoder_net_arch is not None:
        check_layer_widths("encoder_net_arch", encoder_net_arch)
    if features_extractor_class is not FlattenExtractor:
        raise ValueError(f"features_extractor_class: TD7Policy reads flat observations, got {features_extractor_class}")
    if share_features_extractor:
        raise ValueError("share_features_extractor: TD7Policy has no features extractor to share, it must be False")


MlpPolicy = TD7Policy
