"""
TD7's networks: learned state and state-action embeddings (SALE) and the actor and critics that read them. For SALE:
State-Action Representation Learning for Deep Reinforcement Learning, Fujimoto et al. 2023,
https://arxiv.org/abs/2306.02451, reference implementation https://github.com/sfujim/TD7.

An encoder pair learns embeddings of the dynamics: ``zs = AvgL1Norm(f(s))`` and ``zsa = g(zs, a)``, trained so that
``zsa`` predicts the next state's embedding, ``MSE(g(f(s), a), f(s').detach())`` (paper, eq. 1). The actor reads
``(s, zs)``, each critic ``(s, a, zsa, zs)``; their first layer sees only the raw input and is AvgL1Norm-ed before the
embeddings join it. Actor and critics take their embeddings from a *fixed* copy of the encoder (``fixed_encoder``)
and their targets from a fixed target copy (``fixed_encoder_target``); every ``target_update_interval`` gradient steps
``TD7`` hard-updates the chain ``fixed_encoder_target <- fixed_encoder <- encoder`` together with the actor and critic
targets, so that the inputs of the value function only change when its targets do.

Compared with the reference, the twin critics are one module whose layers hold both critics' weights
(:class:`BatchedLinear`: one batched matrix product per layer instead of one per critic), the fixed encoders never
ask for gradients, and each embedding of a training step is computed once (see ``TD7.train``).
"""

from __future__ import annotations

import copy
import itertools
import math
from typing import Any, TypeVar

import torch as th
from gymnasium import spaces
from stable_baselines3.common.preprocessing import get_action_dim
from torch import nn

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
