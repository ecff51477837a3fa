"""
TD3X policies: SB3's TD3 policies whose critics can be layer-normalized (``critic_layer_norm``), that can keep a
policy checkpoint, CrossQ's batch-renormalized networks without targets (``CrossQPolicy``), and the NoisyNet policy for
TD3 (Noisy Networks for Exploration, Fortunato et al. 2018,
https://arxiv.org/abs/1706.10295). Their networks are in :mod:`sb3_td3x.td3x.networks`.
"""

from typing import Any, ClassVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    CombinedExtractor,
    FlattenExtractor,
    NatureCNN,
)
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.td3.policies import TD3Policy
from torch import nn

from sb3_td3x.common.checkpoints import CheckpointPolicyMixin
from sb3_td3x.common.noisy import (
    check_noise_kwargs,
    noisy_layers,
)
from sb3_td3x.common.policy_args import check_net_arch
from sb3_td3x.common.training_args import check_integer_at_least
from sb3_td3x.td3x.networks import (
    BatchRenormActor,
    BatchRenormContinuousCritic,
    LayerNormContinuousCritic,
    NoisyActor,
    NoisyContinuousCritic,
    check_batch_renorm_kwargs,
    check_layer_norm,
)

# torch >= 2.4 has a fused Adam / AdamW for the CPU (and CUDA)
FUSED_ADAM = tuple(int(part) for part in th.__version__.split("+")[0].split(".")[:2]) >= (2, 4)


class TD3XPolicy(CheckpointPolicyMixin, TD3Policy):
    """
    SB3's :class:`~stable_baselines3.td3.policies.TD3Policy` (``MlpPolicy`` of ``TD3X``) with two options more:
    layer normalization of the critics, and a policy checkpoint to act with when deterministic. With both off it
    builds exactly SB3's networks (same modules, same initialization for the same seed).

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the policy and value networks.
    :param activation_fn: Activation function
    :param features_extractor_class: Features extractor to use.
    :param features_extractor_kwargs: Keyword arguments
        to pass to the features extractor.
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param optimizer_class: The optimizer to use,
        ``th.optim.Adam`` by default
    :param optimizer_kwargs: Additional keyword arguments,
        excluding the learning rate, to pass to the optimizer
    :param n_critics: Number of critic networks to create.
    :param share_features_extractor: Whether to share or not the features extractor
        between the actor and the critic (this saves computation time)
    :param critic_layer_norm: Whether every hidden layer of the critics is followed by ``LayerNorm``
        (before its activation, see :class:`LayerNormContinuousCritic`); False: SB3's critics, unchanged
    :param use_checkpoint: Whether the policy keeps a checkpoint of its actor that deterministic prediction uses
        once one is taken (see :mod:`sb3_td3x.common.checkpoints`; ``TD3X(policy_checkpoints=True)`` sets it)
    """

    # Whether TD3X.train computes the targets with target networks (SB3's TD3) or with the online ones (CrossQ)
    uses_target_networks = True
    # The fewest hidden layers each network of net_arch may have (0: SB3's linear network for net_arch=[])
    min_hidden_layers: ClassVar[int] = 0

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
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
        check_layer_norm("critic_layer_norm", critic_layer_norm)
        check_net_arch(net_arch, min_layers=self.min_hidden_layers)
        check_integer_at_least("n_critics", n_critics, 1)
        # Set before the parent's constructor, which builds the networks through make_actor() / make_critic()
        self.critic_layer_norm = critic_layer_norm
        self.use_checkpoint = bool(use_checkpoint)
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
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        if self.use_checkpoint:
            self.add_checkpoint()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(dict(critic_layer_norm=self.critic_layer_norm))
        if self.use_checkpoint:
            data.update(use_checkpoint=True)
        return data

    def _predict(self, observation: PyTorchObs, deterministic: bool = False) -> th.Tensor:
        # Deterministic prediction acts with the checkpoint once there is one; the actor's own _predict decides what
        # the deterministic flag means for it (the mean weights of a noisy actor)
        actor = self.checkpoint_actor if deterministic and self.has_checkpoint else self.actor
        return actor._predict(observation, deterministic=deterministic)  # type: ignore[operator]

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> ContinuousCritic:
        if not self.critic_layer_norm:
            return super().make_critic(features_extractor)
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return LayerNormContinuousCritic(**critic_kwargs).to(self.device)


class CrossQTD3Policy(TD3XPolicy):
    """
    TD3 policy with CrossQ's networks (``CrossQPolicy`` of ``TD3X``): a batch renormalization layer before every
    ``Linear`` of the actor and of the critics, and no target networks. ``actor_target`` and ``critic_target`` are
    the online networks themselves, and ``TD3X.train`` takes the next state-action pairs through the critics in one
    batch with the current ones, makes no Polyak update, and keeps the batch renormalization in evaluation mode
    wherever a network is used without being trained (the next action, the critic inside the actor's loss).

    CrossQ: Batch Normalization in Deep Reinforcement Learning for Greater Sample Efficiency and Simplicity,
    Bhatt et al. 2024, https://arxiv.org/abs/1902.05605 (its TD3 variant: TD3's update with these networks).
    sb3-contrib's ``CrossQ`` is the SAC-based one, with the same defaults for the networks and the optimizer.

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the policy and value networks;
        None: ``dict(pi=[256, 256], qf=[1024, 1024])``, as sb3-contrib's CrossQ
    :param activation_fn: Activation function
    :param batch_norm_momentum: Rate at which the running statistics follow the batch statistics
        (PyTorch's convention: 0.01 is a running average with decay 0.99), in (0, 1]
    :param batch_norm_eps: Added to the variance before its square root, > 0
    :param renorm_warmup_steps: Training-mode calls of each layer that normalize with the batch statistics alone,
        before the renormalization towards the running statistics starts, >= 0. The critics' layers count one call
        per gradient step, the actor's one per actor update (every ``policy_delay`` gradient steps)
    :param features_extractor_class: Features extractor to use.
    :param features_extractor_kwargs: Keyword arguments
        to pass to the features extractor.
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param optimizer_class: The optimizer to use,
        ``th.optim.Adam`` by default
    :param optimizer_kwargs: Additional keyword arguments,
        excluding the learning rate, to pass to the optimizer; None: ``betas=(0.5, 0.999)`` for Adam and AdamW, as
        CrossQ, and their fused implementation (torch >= 2.4)
    :param n_critics: Number of critic networks to create.
    :param share_features_extractor: Whether to share or not the features extractor
        between the actor and the critic (this saves computation time)
    :param use_checkpoint: Whether the policy keeps a checkpoint of its actor (see :class:`TD3XPolicy`)
    """

    actor: BatchRenormActor
    critic: BatchRenormContinuousCritic
    uses_target_networks = False

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        batch_norm_momentum: float = 0.01,
        batch_norm_eps: float = 0.001,
        renorm_warmup_steps: int = 100_000,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        n_critics: int = 2,
        share_features_extractor: bool = False,
        use_checkpoint: bool = False,
    ):
        check_batch_renorm_kwargs(batch_norm_momentum, batch_norm_eps, renorm_warmup_steps)
        if net_arch is None:
            net_arch = {"pi": [256, 256], "qf": [1024, 1024]}
        if optimizer_kwargs is None:
            optimizer_kwargs = {}
            if optimizer_class in (th.optim.Adam, th.optim.AdamW):
                # CrossQ's betas; the fused implementation (one kernel per step instead of about ten operations per
                # parameter tensor, which batch renormalization multiplies) where torch has it for the CPU
                optimizer_kwargs = {"betas": (0.5, 0.999), **({"fused": True} if FUSED_ADAM else {})}
        # Set before the parent's constructor, which builds the networks through make_actor() / make_critic()
        self.batch_renorm_kwargs: dict[str, Any] = {
            "batch_norm_momentum": batch_norm_momentum,
            "batch_norm_eps": batch_norm_eps,
            "renorm_warmup_steps": renorm_warmup_steps,
        }
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
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
            use_checkpoint=use_checkpoint,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        # SB3's TD3Policy._build without the target networks
        self.actor = self.make_actor(features_extractor=None)
        self.actor.optimizer = self.optimizer_class(
            self.actor.parameters(),
            lr=lr_schedule(1),  # type: ignore[call-arg]
            **self.optimizer_kwargs,
        )
        if self.share_features_extractor:
            self.critic = self.make_critic(features_extractor=self.actor.features_extractor)
            # The shared features extractor is trained by the actor's loss only
            critic_parameters = [param for name, param in self.critic.named_parameters() if "features_extractor" not in name]
        else:
            self.critic = self.make_critic(features_extractor=None)
            critic_parameters = list(self.critic.parameters())
        self.critic.optimizer = self.optimizer_class(
            critic_parameters,
            lr=lr_schedule(1),  # type: ignore[call-arg]
            **self.optimizer_kwargs,
        )
        if self.use_checkpoint:
            self.add_checkpoint()

    # No target networks: the targets are computed with the online networks (properties, so that the state dict holds
    # each network once and SB3's TD3 finds the attributes it reads)
    @property  # type: ignore[override]
    def actor_target(self) -> BatchRenormActor:  # type: ignore[override]
        return self.actor

    @property  # type: ignore[override]
    def critic_target(self) -> BatchRenormContinuousCritic:  # type: ignore[override]
        return self.critic

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        del data["critic_layer_norm"]
        data.update(self.batch_renorm_kwargs)
        return data

    def make_actor(self, features_extractor: BaseFeaturesExtractor | None = None) -> BatchRenormActor:
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return BatchRenormActor(**actor_kwargs, **self.batch_renorm_kwargs).to(self.device)

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> BatchRenormContinuousCritic:
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return BatchRenormContinuousCritic(**critic_kwargs, **self.batch_renorm_kwargs).to(self.device)


class TD3XCnnPolicy(TD3XPolicy):
    """
    :class:`TD3XPolicy` with SB3's CNN features extractor by default (``CnnPolicy`` of ``TD3X``, as SB3's TD3
    ``CnnPolicy``).

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param features_extractor_class: Features extractor to use (``NatureCNN`` by default)
    :param kwargs: The other arguments of :class:`TD3XPolicy` (by keyword), ``critic_layer_norm`` included
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        *,
        features_extractor_class: type[BaseFeaturesExtractor] = NatureCNN,
        **kwargs: Any,
    ):
        super().__init__(
            observation_space, action_space, lr_schedule, features_extractor_class=features_extractor_class, **kwargs
        )


class TD3XMultiInputPolicy(TD3XPolicy):
    """
    :class:`TD3XPolicy` for dict observations (``MultiInputPolicy`` of ``TD3X``, as SB3's TD3 ``MultiInputPolicy``).

    :param observation_space: Observation space
    :param action_space: Action space
    :param lr_schedule: Learning rate schedule (could be constant)
    :param features_extractor_class: Features extractor to use (``CombinedExtractor`` by default)
    :param kwargs: The other arguments of :class:`TD3XPolicy` (by keyword), ``critic_layer_norm`` included
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        *,
        features_extractor_class: type[BaseFeaturesExtractor] = CombinedExtractor,
        **kwargs: Any,
    ):
        super().__init__(
            observation_space, action_space, lr_schedule, features_extractor_class=features_extractor_class, **kwargs
        )


class NoisyTD3Policy(TD3XPolicy):
    """
    TD3 policy with a NoisyNet actor (and optionally NoisyNet critics), from
    Noisy Networks for Exploration, Fortunato et al. 2018, https://arxiv.org/abs/1706.10295

    The actor target (and critic target) have their own, independent noise. ``predict(deterministic=False)``
    acts with freshly drawn noise, ``predict(deterministic=True)`` with the mean weights, in train and eval mode
    alike. During training, :meth:`reset_noise` should be called before every gradient step (``TD3X`` does);
    with stock SB3 ``TD3`` the noise used for the gradient steps is the one last drawn.

    :param observation_space: Observation space
    :param action_space: Action space, must be a ``gymnasium.spaces.Box``
    :param lr_schedule: Learning rate schedule (could be constant)
    :param net_arch: The specification of the policy and value networks.
    :param activation_fn: Activation function
    :param features_extractor_class: Features extractor to use.
    :param features_extractor_kwargs: Keyword arguments
        to pass to the features extractor.
    :param normalize_images: Whether to normalize images or not,
         dividing by 255.0 (True by default)
    :param optimizer_class: The optimizer to use,
        ``th.optim.Adam`` by default
    :param optimizer_kwargs: Additional keyword arguments,
        excluding the learning rate, to pass to the optimizer
    :param n_critics: Number of critic networks to create.
    :param share_features_extractor: Whether to share or not the features extractor
        between the actor and the critic (this saves computation time)
    :param noise_kind: ``"factorized"`` or ``"independent"`` Gaussian noise (see :class:`NoisyLinear`)
    :param sigma_init: ``sigma_0`` of the paper, > 0; None for the paper's default
        (0.5 factorized, 0.017 independent)
    :param noisy_critic: Whether the critics are made of noisy layers too
    :param critic_layer_norm: Whether every hidden layer of the critics (noisy or not) is followed by ``LayerNorm``
    :param use_checkpoint: Whether the policy keeps a checkpoint of its actor (see :class:`TD3XPolicy`)
    """

    actor: NoisyActor
    actor_target: NoisyActor

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Schedule,
        net_arch: list[int] | dict[str, list[int]] | None = None,
        activation_fn: type[nn.Module] = nn.ReLU,
        features_extractor_class: type[BaseFeaturesExtractor] = FlattenExtractor,
        features_extractor_kwargs: dict[str, Any] | None = None,
        normalize_images: bool = True,
        optimizer_class: type[th.optim.Optimizer] = th.optim.Adam,
        optimizer_kwargs: dict[str, Any] | None = None,
        n_critics: int = 2,
        share_features_extractor: bool = False,
        noise_kind: str = "factorized",
        sigma_init: float | None = None,
        noisy_critic: bool = False,
        critic_layer_norm: bool = False,
        use_checkpoint: bool = False,
    ):
        if not isinstance(action_space, spaces.Box):
            raise ValueError(f"action_space must be a gymnasium.spaces.Box for NoisyTD3Policy, got {action_space}")
        check_noise_kwargs(noise_kind, sigma_init)
        # Set before the parent's constructor, which builds the networks through make_actor() / make_critic()
        self.noise_kind = noise_kind
        self.sigma_init = sigma_init
        self.noisy_critic = bool(noisy_critic)
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
            n_critics=n_critics,
            share_features_extractor=share_features_extractor,
            critic_layer_norm=critic_layer_norm,
            use_checkpoint=use_checkpoint,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        # The targets were loaded from the online networks' state_dict, noise included: give them their own noise
        self.actor_target.reset_noise()
        if isinstance(self.critic_target, NoisyContinuousCritic):
            self.critic_target.reset_noise()

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data.update(dict(noise_kind=self.noise_kind, sigma_init=self.sigma_init, noisy_critic=self.noisy_critic))
        return data

    def make_actor(self, features_extractor: BaseFeaturesExtractor | None = None) -> NoisyActor:
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return NoisyActor(**actor_kwargs, noise_kind=self.noise_kind, sigma_init=self.sigma_init).to(self.device)

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> ContinuousCritic:
        if not self.noisy_critic:
            return super().make_critic(features_extractor)
        critic_kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        return NoisyContinuousCritic(
            **critic_kwargs, noise_kind=self.noise_kind, sigma_init=self.sigma_init, layer_norm=self.critic_layer_norm
        ).to(self.device)

    def reset_noise(self) -> None:
        """
        Draw fresh, independent noise for the actor, the actor target and, with ``noisy_critic``,
        the critics and their targets.
        """
        networks: list[nn.Module] = [self.actor, self.actor_target]
        if self.noisy_critic:
            networks += [self.critic, self.critic_target]
        for network in networks:
            for layer in noisy_layers(network):
                layer.reset_noise()

    def noisy_sigma_mean(self) -> float:
        """
        :return: Mean ``|sigma|`` over all the weights and biases of the noisy layers of the actor
            and (with ``noisy_critic``) of the critics; the targets, being Polyak copies, are left out.
        """
        networks: list[nn.Module] = [self.actor, self.critic] if self.noisy_critic else [self.actor]
        sigmas = [
            sigma.detach().abs().flatten()
            for network in networks
            for layer in noisy_layers(network)
            for sigma in (layer.weight_sigma, layer.bias_sigma)
            if sigma is not None
        ]
        return th.cat(sigmas).mean().item()


MlpPolicy = TD3XPolicy
CnnPolicy = TD3XCnnPolicy
MultiInputPolicy = TD3XMultiInputPolicy
NoisyMlpPolicy = NoisyTD3Policy
CrossQPolicy = CrossQTD3Policy
