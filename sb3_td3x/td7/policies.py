"""
SALE: learned state and state-action embeddings for TD3, as in TD7: For SALE: State-Action Representation Learning
for Deep Reinforcement Learning, Fujimoto et al. 2023, https://arxiv.org/abs/2306.02451, reference implementation
https://github.com/sfujim/TD7.

An encoder pair learns embeddings of the dynamics: ``zs = AvgL1Norm(f(s))`` and ``zsa = g(zs, a)``, trained so that
``zsa`` predicts the next state's embedding, ``MSE(g(f(s), a), f(s').detach())`` (paper, eq. 1). The actor reads
``(s, zs)``, each critic ``(s, a, zsa, zs)``; their first layer sees only the raw input and is AvgL1Norm-ed before the
embeddings join it. Actor and critics take their embeddings from a *fixed* copy of the encoder (``fixed_encoder``)
and their targets from a fixed target copy (``fixed_encoder_target``); every ``target_update_interval`` gradient steps
``TD3X`` hard-updates the chain ``fixed_encoder_target <- fixed_encoder <- encoder`` together with the actor and critic
targets, so that the inputs of the value function only change when its targets do.

Compared with the reference, the twin critics are one module whose layers hold both critics' weights
(:class:`BatchedLinear`: one batched matrix product per layer instead of one per critic), the fixed encoders never
ask for gradients, and each embedding of a training step is computed once (see ``TD3X.train``).
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any, NamedTuple, TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_action_dim, preprocess_obs
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor, FlattenExtractor
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

from sb3_td3x.td3x.policies import TD3XPolicy

# TD7's widths: embeddings of 256, every hidden layer 256
DEFAULT_ZS_DIM = 256
DEFAULT_NET_ARCH = [256, 256, 256]
DEFAULT_ENCODER_NET_ARCH = [256, 256]


def avg_l1_norm(x: th.Tensor, eps: float = 1e-8) -> th.Tensor:
    """
    AvgL1Norm (paper, section 4.1): divide each row by the mean absolute value of its features, so that the embedding
    keeps a fixed scale whatever the encoder's weights do.

    :param x: Tensor whose last dimension holds the features.
    :param eps: Lower clip of the divisor.
    :return: ``x / max(mean(|x|), eps)`` over the last dimension.
    """
    return x / x.abs().mean(dim=-1, keepdim=True).clamp(min=eps)


class SALEEncoder(nn.Module):
    """
    The state encoder ``f`` and state-action encoder ``g`` of SALE.

    :param obs_dim: Size of the (flattened) observation.
    :param action_dim: Size of the action.
    :param zs_dim: Size of both embeddings.
    :param net_arch: Hidden layers of each encoder.
    :param activation_fn: Activation of the hidden layers (TD7: ELU).
    """

    optimizer: th.optim.Optimizer

    def __init__(
        self,
        obs_dim: int,
        action_dim: int,
        zs_dim: int = DEFAULT_ZS_DIM,
        net_arch: list[int] | None = None,
        activation_fn: type[nn.Module] = nn.ELU,
    ):
        super().__init__()
        net_arch = DEFAULT_ENCODER_NET_ARCH if net_arch is None else net_arch
        self.state_encoder = _mlp([obs_dim, *net_arch, zs_dim], activation_fn)
        # g's first layer reads (zs, a) as two weight blocks: in the actor's loss only the action needs a gradient
        widths = [*net_arch, zs_dim]
        self.state_action_input = JoinedLinear([zs_dim, action_dim], widths[0])
        layers: list[nn.Module] = []
        for in_dim, out_dim in itertools.pairwise(widths):
            layers += [_activation(activation_fn), nn.Linear(in_dim, out_dim)]
        self.state_action_encoder = nn.Sequential(*layers)

    def zs(self, obs: th.Tensor) -> th.Tensor:
        """:return: the state embedding ``AvgL1Norm(f(s))``."""
        return avg_l1_norm(self.state_encoder(obs))

    def zsa(self, zs: th.Tensor, actions: th.Tensor) -> th.Tensor:
        """:return: the state-action embedding ``g(zs, a)``, a prediction of the next state's ``zs``."""
        return self.state_action_encoder(self.state_action_input(zs, actions))

    def loss(self, obs: th.Tensor, actions: th.Tensor, next_obs: th.Tensor) -> th.Tensor:
        """:return: the encoder loss ``MSE(g(f(s), a), f(s'))``, the target without gradient (paper, eq. 1)."""
        with th.no_grad():
            next_zs = self.zs(next_obs)
        return nn.functional.mse_loss(self.zsa(self.zs(obs), actions), next_zs)


class SALEBatch(NamedTuple):
    """A training batch as SALE's networks read it: preprocessed observations and the fixed encoder's embeddings."""

    obs: th.Tensor
    next_obs: th.Tensor
    zs: th.Tensor
    zsa: th.Tensor


ModuleT = TypeVar("ModuleT", bound=nn.Module)


def frozen_copy(module: ModuleT) -> ModuleT:
    """:return: a deep copy of ``module`` in eval mode whose parameters never ask for gradients."""
    clone = copy.deepcopy(module)
    clone.requires_grad_(False)
    clone.train(False)
    return clone


def _mlp(widths: list[int], activation_fn: type[nn.Module]) -> nn.Sequential:
    """:return: Linear layers of the given widths with the activation between them (as SB3's ``create_mlp``)."""
    layers: list[nn.Module] = [nn.Linear(widths[0], widths[1])]
    for in_dim, out_dim in itertools.pairwise(widths[1:]):
        layers += [_activation(activation_fn), nn.Linear(in_dim, out_dim)]
    return nn.Sequential(*layers)


def _activation(activation_fn: type[nn.Module]) -> nn.Module:
    """:return: the activation, in place where it can be (its input is a fresh layer output nobody else reads)."""
    if activation_fn in (nn.ELU, nn.ReLU):
        return activation_fn(inplace=True)
    return activation_fn()


class JoinedLinear(nn.Module):
    """
    A linear layer on the concatenation of several inputs, ``x_1 W_1 + ... + x_k W_k + b``, with one weight block
    per input instead of a concatenated copy of the inputs, so that backpropagation computes the gradient of an input
    only where it is needed (an embedding without gradient costs nothing on the way back). Initialized as
    ``nn.Linear`` on the concatenation would be.

    :param in_features: Size of each input.
    :param out_features: Output size.
    """

    def __init__(self, in_features: list[int], out_features: int):
        super().__init__()
        self.in_features, self.out_features = list(in_features), out_features
        self.weights = nn.ParameterList([nn.Parameter(th.empty(size, out_features)) for size in in_features])
        self.bias = nn.Parameter(th.empty(out_features))
        bound = 1.0 / math.sqrt(sum(in_features))  # nn.Linear's default for the whole fan-in
        for parameter in (*self.weights, self.bias):
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, *inputs: th.Tensor) -> th.Tensor:
        out = th.addmm(self.bias, inputs[0], self.weights[0])
        for x, weight in zip(inputs[1:], self.weights[1:], strict=True):
            out = th.addmm(out, x, weight)
        return out

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


class BatchedLinear(nn.Module):
    """
    ``n`` independent linear layers (the critics) applied in one batched matrix product: an input ``(n, batch, in)``
    with a different value per member, and optionally inputs ``(batch, in_k)`` that every member reads (the
    embeddings): those go through one matrix product for all members together, with no copy per member.
    Output ``(n, batch, out)``. Each member is initialized as ``nn.Linear`` on its whole input would be.

    :param n: Number of members.
    :param in_features: Size of the per-member input.
    :param out_features: Output size.
    :param shared_in_features: Sizes of the inputs shared by all members.
    """

    def __init__(self, n: int, in_features: int, out_features: int, shared_in_features: list[int] | None = None):
        super().__init__()
        self.n, self.in_features, self.out_features = n, in_features, out_features
        self.shared_in_features = list(shared_in_features or [])
        self.weight = nn.Parameter(th.empty(n, in_features, out_features))
        # Shared inputs' blocks, (in_k, n * out): member i's block is columns i * out to (i + 1) * out
        self.shared_weights = nn.ParameterList(
            [nn.Parameter(th.empty(size, n * out_features)) for size in self.shared_in_features]
        )
        self.bias = nn.Parameter(th.empty(n, 1, out_features))
        bound = 1.0 / math.sqrt(in_features + sum(self.shared_in_features))
        for parameter in (self.weight, *self.shared_weights, self.bias):
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, x: th.Tensor, *shared: th.Tensor) -> th.Tensor:
        """
        :param x: The per-member input, ``(n, batch, in)``, or ``(batch, in)`` when it is the same for every member.
        :param shared: The inputs every member reads, ``(batch, in_k)`` each.
        :return: ``(n, batch, out)``
        """
        out = th.matmul(x, self.weight) + self.bias if x.dim() == 2 else th.baddbmm(self.bias, x, self.weight)
        if shared:
            joint = shared[0] @ self.shared_weights[0]
            for inputs, weight in zip(shared[1:], self.shared_weights[1:], strict=True):
                joint = th.addmm(joint, inputs, weight)
            out = out + joint.view(-1, self.n, self.out_features).transpose(0, 1)
        return out

    def extra_repr(self) -> str:
        return (
            f"n={self.n}, in_features={self.in_features}, out_features={self.out_features}, "
            f"shared_in_features={self.shared_in_features}"
        )


class SALEActor(nn.Module):
    """
    The TD7 actor: ``AvgL1Norm(Linear(s))`` joined by ``zs``, then the hidden layers and a tanh output.

    :param observation_space: Observation space (a flat ``Box``).
    :param action_space: Action space.
    :param net_arch: Widths of the first (state) layer and of the hidden layers after it.
    :param features_dim: Size of the flattened observation.
    :param activation_fn: Activation of the hidden layers (TD7: ReLU).
    :param zs_dim: Size of the state embedding.
    :param kwargs: The other keywords SB3's ``TD3Policy`` gives its actor (features extractor, image
        normalization), unused: the policy preprocesses observations once for every network.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        zs_dim: int = DEFAULT_ZS_DIM,
        **kwargs: Any,
    ):
        super().__init__()
        action_dim = get_action_dim(action_space)
        self.state_layer = nn.Linear(features_dim, net_arch[0])
        widths = [*net_arch[1:], action_dim]
        # The layer after the state layer reads (state features, zs) as two weight blocks (zs needs no gradient)
        self.joined_layer = JoinedLinear([net_arch[0], zs_dim], widths[0])
        layers: list[nn.Module] = []
        for in_dim, out_dim in itertools.pairwise(widths):
            layers += [_activation(activation_fn), nn.Linear(in_dim, out_dim)]
        self.mu = nn.Sequential(*layers, nn.Tanh())

    def forward(self, obs: th.Tensor, zs: th.Tensor) -> th.Tensor:
        """:return: the action in [-1, 1] for preprocessed observations ``obs`` and their embedding ``zs``."""
        return self.mu(self.joined_layer(avg_l1_norm(self.state_layer(obs)), zs))

    def set_training_mode(self, mode: bool) -> None:
        """As SB3's networks: train or eval mode."""
        self.train(mode)


class SALECritic(nn.Module):
    """
    TD7's twin critics in one module: each is ``AvgL1Norm(Linear(s, a))`` joined by ``(zsa, zs)``, then the hidden
    layers and a scalar output; all critics go through each layer in one batched matrix product.

    :param observation_space: Observation space (a flat ``Box``).
    :param action_space: Action space.
    :param net_arch: Widths of the first (state-action) layer and of the hidden layers after it.
    :param features_dim: Size of the flattened observation.
    :param activation_fn: Activation of the hidden layers (TD7: ELU).
    :param n_critics: Number of critics.
    :param zs_dim: Size of the embeddings.
    :param kwargs: The other keywords SB3's ``TD3Policy`` gives its critics, unused.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ELU,
        n_critics: int = 2,
        zs_dim: int = DEFAULT_ZS_DIM,
        **kwargs: Any,
    ):
        super().__init__()
        action_dim = get_action_dim(action_space)
        self.n_critics = n_critics
        self.state_action_layer = BatchedLinear(n_critics, features_dim + action_dim, net_arch[0])
        widths = [*net_arch[1:], 1]
        # The layer after the state-action layer reads (its output, zsa, zs): the embeddings are shared by the critics
        self.joined_layer = BatchedLinear(n_critics, net_arch[0], widths[0], shared_in_features=[zs_dim, zs_dim])
        layers: list[nn.Module] = []
        for in_dim, out_dim in itertools.pairwise(widths):
            layers += [_activation(activation_fn), BatchedLinear(n_critics, in_dim, out_dim)]
        self.q_net = nn.Sequential(*layers)

    def forward(self, obs: th.Tensor, actions: th.Tensor, zsa: th.Tensor, zs: th.Tensor) -> th.Tensor:
        """:return: the Q-values of every critic, shape ``(batch, n_critics)``."""
        first = avg_l1_norm(self.state_action_layer(th.cat([obs, actions], dim=1)))
        return self.q_net(self.joined_layer(first, zsa, zs)).squeeze(2).T

    def set_training_mode(self, mode: bool) -> None:
        """As SB3's networks: train or eval mode."""
        self.train(mode)


class TD7Policy(TD3XPolicy):
    """
    TD3 policy with SALE embeddings (TD7's networks): :class:`SALEActor`, :class:`SALECritic` and a
    :class:`SALEEncoder` with its fixed copies ``fixed_encoder`` and ``fixed_encoder_target``.

    ``TD3X`` trains the encoder first at every gradient step and hard-updates the fixed copies with the targets
    (``target_update_interval``, 250 by default with this policy). Deterministic prediction with a policy checkpoint
    (``TD3X(policy_checkpoints=True)``) uses the checkpoint's actor with the fixed encoder it was trained against.
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
        check_sale_kwargs(
            observation_space, net_arch, zs_dim, encoder_net_arch, features_extractor_class, share_features_extractor
        )
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
    net_arch: list[int] | dict[str, list[int]] | None,
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
    if isinstance(zs_dim, bool) or not isinstance(zs_dim, int) or zs_dim < 1:
        raise ValueError(f"zs_dim (embedding size) must be an integer >= 1, got {zs_dim!r}")
    archs: dict[str, list[int] | None] = dict(net_arch) if isinstance(net_arch, dict) else {"net_arch": net_arch}
    archs["encoder_net_arch"] = encoder_net_arch
    for name, arch in archs.items():
        if arch is None:
            continue
        if not isinstance(arch, (list, tuple)) or not all(
            isinstance(width, int) and not isinstance(width, bool) and width >= 1 for width in arch
        ):
            raise ValueError(f"{name}: TD7Policy needs a list of layer widths >= 1, got {arch!r}")
        if name != "encoder_net_arch" and len(arch) < 1:
            raise ValueError(f"{name}: TD7Policy needs at least the first layer's width, got {arch!r}")
    if features_extractor_class is not FlattenExtractor:
        raise ValueError(f"features_extractor_class: TD7Policy reads flat observations, got {features_extractor_class}")
    if share_features_extractor:
        raise ValueError("share_features_extractor: TD7Policy has no features extractor to share, it must be False")


MlpPolicy = TD7Policy
