"""
NoisyNet layers, shared by every algorithm of the package: Noisy Networks for Exploration, Fortunato et al. 2018,
https://arxiv.org/abs/1706.10295.

A :class:`NoisyLinear` layer's weights are ``mu + sigma * epsilon`` with learned ``mu`` and ``sigma`` and a fresh noise
sample ``epsilon``, independent (one normal per weight) or factorized (``f(p) f(q)^T`` with ``f(x) = sgn(x) sqrt|x|``).
Whether a forward pass uses the noisy or the mean weights is chosen by the layer's ``use_noise`` (set by the
policies from the ``deterministic`` flag of ``predict``, see :func:`mean_weights`), never by ``.training``: SB3
collects rollouts with the policy in eval mode, so tying the noise to train mode would switch exploration off exactly
when it is needed.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterator
from contextlib import contextmanager

import torch as th
from torch import nn
from torch.nn import functional as F

NOISE_KINDS = ("factorized", "independent")
# Paper, section 3.2: sigma_0 = 0.5 for factorised noise (sigma = sigma_0 / sqrt(p)), 0.017 for independent noise
DEFAULT_SIGMA_INIT = {"factorized": 0.5, "independent": 0.017}


def check_noise_kwargs(noise_kind: str, sigma_init: float | None) -> None:
    if noise_kind not in NOISE_KINDS:
        raise ValueError(f"noise_kind must be one of {NOISE_KINDS}, got {noise_kind!r}")
    is_number = isinstance(sigma_init, numbers.Real) and not isinstance(sigma_init, bool)
    if sigma_init is not None and not (is_number and 0 < sigma_init < math.inf):
        raise ValueError(f"sigma_init must be a finite number > 0 (or None for the paper's default), got {sigma_init!r}")


class NoisyLinear(nn.Module):
    """
    Linear layer with learned parametric noise on its weights and biases (NoisyNet, Fortunato et al. 2018, eq. 9):
    ``y = (mu_w + sigma_w * eps_w) x + mu_b + sigma_b * eps_b``.

    The noise ``eps`` lives in buffers: it moves with ``.to(device)``, is saved in the ``state_dict`` and only
    changes when :meth:`reset_noise` is called (it draws from the torch RNG, so ``set_random_seed`` makes it
    reproducible). ``use_noise`` chooses between the noisy weights and the mean weights ``mu``; it does not depend
    on ``.training``.

    :param in_features: Size of each input sample, >= 1 (``p`` in the paper)
    :param out_features: Size of each output sample, >= 1
    :param bias: If set to False, the layer will not learn an additive bias
    :param noise_kind: ``"factorized"`` Gaussian noise (one noise per input and per output unit,
        ``eps_w = f(eps_out) f(eps_in)^T``, ``eps_b = f(eps_out)``, ``f(x) = sgn(x) sqrt(|x|)``, paper eq. 10-11)
        or ``"independent"`` Gaussian noise (one noise per weight and per bias)
    :param sigma_init: ``sigma_0`` of the paper, > 0. Factorized: ``sigma = sigma_0 / sqrt(p)`` (default 0.5);
        independent: ``sigma = sigma_0`` (default 0.017)
    """

    weight_epsilon: th.Tensor
    bias_epsilon: th.Tensor | None

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        noise_kind: str = "factorized",
        sigma_init: float | None = None,
    ):
        super().__init__()
        for name, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        check_noise_kwargs(noise_kind, sigma_init)

        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.noise_kind = noise_kind
        self.sigma_init = float(DEFAULT_SIGMA_INIT[noise_kind] if sigma_init is None else sigma_init)
        # Noisy (mu + sigma * eps) or mean (mu) weights in forward; chosen by the caller, never by train/eval mode
        self.use_noise = True

        self.weight_mu = nn.Parameter(th.empty(out_features, in_features))
        self.weight_sigma = nn.Parameter(th.empty(out_features, in_features))
        self.register_buffer("weight_epsilon", th.zeros(out_features, in_features))
        if bias:
            self.bias_mu: nn.Parameter | None = nn.Parameter(th.empty(out_features))
            self.bias_sigma: nn.Parameter | None = nn.Parameter(th.empty(out_features))
            self.register_buffer("bias_epsilon", th.zeros(out_features))
        else:
            self.register_parameter("bias_mu", None)
            self.register_parameter("bias_sigma", None)
            self.register_buffer("bias_epsilon", None)

        self.reset_parameters()
        self.reset_noise()

    def reset_parameters(self) -> None:
        """
        Initialise ``mu`` and ``sigma`` as in the paper (section 3.2), with ``p = in_features``:
        factorized: ``mu ~ U[-1/sqrt(p), 1/sqrt(p)]``, ``sigma = sigma_0 / sqrt(p)``;
        independent: ``mu ~ U[-sqrt(3/p), sqrt(3/p)]``, ``sigma = sigma_0``.
        """
        p = self.in_features
        if self.noise_kind == "factorized":
            mu_range = 1.0 / math.sqrt(p)
            sigma = self.sigma_init / math.sqrt(p)
        else:
            mu_range = math.sqrt(3.0 / p)
            sigma = self.sigma_init
        with th.no_grad():
            self.weight_mu.uniform_(-mu_range, mu_range)
            self.weight_sigma.fill_(sigma)
            if self.bias_mu is not None and self.bias_sigma is not None:
                self.bias_mu.uniform_(-mu_range, mu_range)
                self.bias_sigma.fill_(sigma)

    @th.no_grad()
    def reset_noise(self) -> None:
        """
        Draw fresh noise from the torch RNG. Factorized noise draws ``in_features + out_features`` standard
        normals in one call (the first ``in_features`` are the input noise); independent noise draws the weight
        noise then the bias noise.
        """
        if self.noise_kind == "factorized":
            # One draw and in-place work: this runs for every env step and every gradient step
            eps = th.randn(
                self.in_features + self.out_features, dtype=self.weight_epsilon.dtype, device=self.weight_epsilon.device
            )
            eps = eps.sign().mul_(eps.abs().sqrt_())  # f(x) = sgn(x) sqrt(|x|)
            eps_in, eps_out = eps[: self.in_features], eps[self.in_features :]
            th.mul(eps_out.unsqueeze(1), eps_in, out=self.weight_epsilon)  # outer product f(eps_out) f(eps_in)^T
            if self.bias_epsilon is not None:
                self.bias_epsilon.copy_(eps_out)
        else:
            self.weight_epsilon.normal_()
            if self.bias_epsilon is not None:
                self.bias_epsilon.normal_()

    def forward(self, x: th.Tensor) -> th.Tensor:
        if not self.use_noise:
            return F.linear(x, self.weight_mu, self.bias_mu)
        # addcmul: mu + sigma * eps in one operation (one kernel forward and backward instead of two)
        weight = th.addcmul(self.weight_mu, self.weight_sigma, self.weight_epsilon)
        bias = None
        if self.bias_mu is not None and self.bias_sigma is not None and self.bias_epsilon is not None:
            bias = th.addcmul(self.bias_mu, self.bias_sigma, self.bias_epsilon)
        return F.linear(x, weight, bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias_mu is not None}, "
            f"noise_kind={self.noise_kind}, sigma_init={self.sigma_init}"
        )


def create_noisy_mlp(
    input_dim: int,
    output_dim: int,
    net_arch: list[int],
    activation_fn: type[nn.Module] = nn.ReLU,
    squash_output: bool = False,
    with_bias: bool = True,
    pre_linear_modules: list[type[nn.Module]] | None = None,
    post_linear_modules: list[type[nn.Module]] | None = None,
    noise_kind: str = "factorized",
    sigma_init: float | None = None,
) -> list[nn.Module]:
    """
    SB3's :func:`~stable_baselines3.common.torch_layers.create_mlp` with every ``nn.Linear`` replaced by a
    :class:`NoisyLinear` (the paper makes every linear layer of the network noisy).

    :param input_dim: Dimension of the input vector
    :param output_dim: Dimension of the output (last layer, for instance, the number of actions)
    :param net_arch: Architecture of the neural net: the number of units per layer
    :param activation_fn: The activation function to use after each layer.
    :param squash_output: Whether to squash the output using a Tanh activation function
    :param with_bias: If set to False, the layers will not learn an additive bias
    :param pre_linear_modules: List of nn.Module to add before the linear layers (see ``create_mlp``)
    :param post_linear_modules: List of nn.Module to add after the linear layers (see ``create_mlp``)
    :param noise_kind: ``"factorized"`` or ``"independent"`` Gaussian noise (see :class:`NoisyLinear`)
    :param sigma_init: ``sigma_0`` of the paper, > 0; None for the paper's default of the noise kind
    :return: The list of layers of the neural network
    """
    check_noise_kwargs(noise_kind, sigma_init)
    pre_linear_modules = pre_linear_modules or []
    post_linear_modules = post_linear_modules or []

    def linear(in_dim: int, out_dim: int) -> NoisyLinear:
        return NoisyLinear(in_dim, out_dim, bias=with_bias, noise_kind=noise_kind, sigma_init=sigma_init)

    modules: list[nn.Module] = []
    layer_dims = [input_dim, *net_arch]
    for in_dim, out_dim in itertools.pairwise(layer_dims):
        modules.extend(module(in_dim) for module in pre_linear_modules)
        modules.append(linear(in_dim, out_dim))
        modules.extend(module(out_dim) for module in post_linear_modules)
        modules.append(activation_fn())

    if output_dim > 0:
        last_layer_dim = layer_dims[-1]
        modules.extend(module(last_layer_dim) for module in pre_linear_modules)
        modules.append(linear(last_layer_dim, output_dim))
    if squash_output:
        modules.append(nn.Tanh())
    return modules


def noisy_layers(module: nn.Module) -> list[NoisyLinear]:
    """
    :param module: Any network
    :return: The :class:`NoisyLinear` layers inside ``module``
    """
    return [layer for layer in module.modules() if isinstance(layer, NoisyLinear)]


@contextmanager
def mean_weights(module: nn.Module) -> Iterator[None]:
    """
    Context in which every :class:`NoisyLinear` inside ``module`` uses its mean weights ``mu``;
    the noise samples are left untouched and the previous setting is restored on exit.

    :param module: Any network
    """
    layers = noisy_layers(module)
    previous = [layer.use_noise for layer in layers]
    for layer in layers:
        layer.use_noise = False
    try:
        yield
    finally:
        for layer, use_noise in zip(layers, previous, strict=True):
            layer.use_noise = use_noise
