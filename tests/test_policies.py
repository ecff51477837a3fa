import math

import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import TD3
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.common.utils import polyak_update
from stable_baselines3.td3.policies import Actor, TD3Policy
from torch import nn
from torch.nn import functional as F

from sb3_td3x import TD3X
from sb3_td3x.common.noisy import NoisyLinear, create_noisy_mlp, noisy_layers
from sb3_td3x.td3x.networks import LayerNormContinuousCritic, NoisyActor, NoisyContinuousCritic
from sb3_td3x.td3x.policies import (
    NoisyMlpPolicy,
    NoisyTD3Policy,
    TD3XCnnPolicy,
    TD3XMultiInputPolicy,
    TD3XPolicy,
)

OBS_SPACE = spaces.Box(-1.0, 1.0, shape=(3,), dtype=np.float32)
ACTION_SPACE = spaces.Box(-2.0, 2.0, shape=(2,), dtype=np.float32)


def make_policy(**kwargs) -> NoisyTD3Policy:
    kwargs.setdefault("net_arch", [16, 16])
    return NoisyTD3Policy(OBS_SPACE, ACTION_SPACE, lambda _: 1e-3, **kwargs)


def epsilons(module: nn.Module) -> list[th.Tensor]:
    return [buffer.clone() for name, buffer in module.named_buffers() if name.endswith("epsilon")]


def same_tensors(first: list[th.Tensor], second: list[th.Tensor]) -> bool:
    return len(first) == len(second) and all(th.equal(a, b) for a, b in zip(first, second, strict=True))


def differ_everywhere(first: list[th.Tensor], second: list[th.Tensor]) -> bool:
    return all(not th.equal(a, b) for a, b in zip(first, second, strict=True))


# ---------------------------------------------------------------------------------------------------------------
# NoisyLinear
# ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "noise_kind, sigma_init, mu_range, sigma",
    [
        ("factorized", None, 1 / math.sqrt(64), 0.5 / math.sqrt(64)),
        ("factorized", 0.2, 1 / math.sqrt(64), 0.2 / math.sqrt(64)),
        ("independent", None, math.sqrt(3 / 64), 0.017),
        ("independent", 0.1, math.sqrt(3 / 64), 0.1),
    ],
)
def test_noisy_linear_paper_init(noise_kind, sigma_init, mu_range, sigma):
    th.manual_seed(0)
    layer = NoisyLinear(64, 128, noise_kind=noise_kind, sigma_init=sigma_init)
    for mu in (layer.weight_mu, layer.bias_mu):
        assert mu.abs().max().item() <= mu_range
        # U[-r, r] fills its range (would fail for a narrower or a non-uniform init)
        assert mu.abs().max().item() > 0.95 * mu_range
        assert mu.mean().item() == pytest.approx(0.0, abs=0.1 * mu_range)
    assert layer.weight_mu.std().item() == pytest.approx(mu_range / math.sqrt(3), rel=0.05)
    for sigma_param in (layer.weight_sigma, layer.bias_sigma):
        assert th.allclose(sigma_param, th.full_like(sigma_param, sigma))
    assert layer.weight_mu.shape == layer.weight_sigma.shape == layer.weight_epsilon.shape == (128, 64)
    assert layer.bias_mu.shape == layer.bias_sigma.shape == layer.bias_epsilon.shape == (128,)


def test_factorized_noise_is_outer_product_of_scaled_factors():
    layer = NoisyLinear(5, 4, noise_kind="factorized")
    th.manual_seed(3)
    layer.reset_noise()
    th.manual_seed(3)
    eps = th.randn(5 + 4)
    eps_in, eps_out = eps[:5], eps[5:]

    def f(x):
        return x.sign() * x.abs().sqrt()

    assert th.allclose(layer.weight_epsilon, th.outer(f(eps_out), f(eps_in)))
    assert th.allclose(layer.bias_epsilon, f(eps_out))
    assert th.linalg.matrix_rank(layer.weight_epsilon).item() == 1


def test_independent_noise_is_one_gaussian_per_weight():
    th.manual_seed(0)
    layer = NoisyLinear(100, 200, noise_kind="independent")
    assert th.linalg.matrix_rank(layer.weight_epsilon).item() == 100
    assert layer.weight_epsilon.std().item() == pytest.approx(1.0, rel=0.03)
    assert layer.weight_epsilon.mean().item() == pytest.approx(0.0, abs=0.03)
    assert layer.bias_epsilon.std().item() == pytest.approx(1.0, rel=0.2)


@pytest.mark.parametrize("noise_kind", ["factorized", "independent"])
def test_reset_noise_draws_fresh_noise(noise_kind):
    th.manual_seed(0)
    layer = NoisyLinear(6, 3, noise_kind=noise_kind)
    x = th.randn(8, 6)
    before_eps, before_out = epsilons(layer), layer(x)
    layer.reset_noise()
    assert differ_everywhere(before_eps, epsilons(layer))
    assert not th.allclose(before_out, layer(x))
    # Without reset the noise, hence the output, stays the same
    assert th.equal(layer(x), layer(x))


@pytest.mark.parametrize("noise_kind", ["factorized", "independent"])
def test_forward_noisy_and_mean_weights(noise_kind):
    th.manual_seed(0)
    layer = NoisyLinear(6, 3, noise_kind=noise_kind)
    x = th.randn(8, 6)
    expected_noisy = F.linear(
        x,
        layer.weight_mu + layer.weight_sigma * layer.weight_epsilon,
        layer.bias_mu + layer.bias_sigma * layer.bias_epsilon,
    )
    assert th.allclose(layer(x), expected_noisy)
    layer.use_noise = False
    assert th.equal(layer(x), F.linear(x, layer.weight_mu, layer.bias_mu))
    # Train / eval mode does not switch the noise
    layer.eval()
    layer.use_noise = True
    assert th.allclose(layer(x), expected_noisy)


def test_gradients_reach_mu_and_sigma():
    th.manual_seed(0)
    layer = NoisyLinear(4, 3)
    layer(th.randn(10, 4)).pow(2).sum().backward()
    for name in ("weight_mu", "weight_sigma", "bias_mu", "bias_sigma"):
        grad = getattr(layer, name).grad
        assert grad is not None, name
        assert grad.abs().sum().item() > 0, name
    # eps is noise, not a parameter
    assert {name for name, _ in layer.named_parameters()} == {"weight_mu", "weight_sigma", "bias_mu", "bias_sigma"}


def test_noise_buffers_in_state_dict_and_without_bias():
    layer = NoisyLinear(4, 3, bias=False)
    assert set(layer.state_dict()) == {"weight_mu", "weight_sigma", "weight_epsilon"}
    x = th.randn(2, 4)
    layer.use_noise = False
    assert th.equal(layer(x), F.linear(x, layer.weight_mu))
    assert "noise_kind=factorized" in repr(layer) and "sigma_init=0.5" in repr(layer) and "bias=False" in repr(layer)
    with_bias = NoisyLinear(4, 3)
    assert {"weight_epsilon", "bias_epsilon"} <= set(with_bias.state_dict())
    assert with_bias.to(th.float64).weight_epsilon.dtype == th.float64


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(noise_kind="gaussian"), "noise_kind"),
        (dict(sigma_init=0.0), "sigma_init"),
        (dict(sigma_init=-0.1), "sigma_init"),
        (dict(sigma_init=float("nan")), "sigma_init"),
        (dict(in_features=0), "in_features"),
        (dict(out_features=0), "out_features"),
    ],
)
def test_noisy_linear_bad_arguments(kwargs, match):
    args = dict(in_features=3, out_features=2) | kwargs
    with pytest.raises(ValueError, match=match):
        NoisyLinear(**args)


@pytest.mark.parametrize("net_arch", [[], [8], [8, 4]])
@pytest.mark.parametrize("squash_output", [False, True])
def test_create_noisy_mlp_mirrors_create_mlp(net_arch, squash_output):
    plain = create_mlp(5, 2, net_arch, nn.Tanh, squash_output=squash_output, post_linear_modules=[nn.LayerNorm])
    noisy = create_noisy_mlp(5, 2, net_arch, nn.Tanh, squash_output=squash_output, post_linear_modules=[nn.LayerNorm])
    assert len(plain) == len(noisy)
    for plain_module, noisy_module in zip(plain, noisy, strict=True):
        if isinstance(plain_module, nn.Linear):
            assert isinstance(noisy_module, NoisyLinear)
            assert noisy_module.weight_mu.shape == plain_module.weight.shape
        else:
            assert type(noisy_module) is type(plain_module)


# ---------------------------------------------------------------------------------------------------------------
# Policy
# ---------------------------------------------------------------------------------------------------------------


def test_policy_networks_and_optimizers():
    policy = make_policy(noisy_critic=True)
    assert isinstance(policy.actor, NoisyActor) and isinstance(policy.actor_target, NoisyActor)
    assert isinstance(policy.critic, NoisyContinuousCritic) and isinstance(policy.critic_target, NoisyContinuousCritic)
    # 3 noisy layers per actor, 3 per Q-network
    assert len(noisy_layers(policy.actor)) == 3 and len(noisy_layers(policy.critic)) == 6
    assert not any(isinstance(m, nn.Linear) for m in policy.modules())
    for network in (policy.actor, policy.critic):
        optimized = {id(p) for group in network.optimizer.param_groups for p in group["params"]}
        for layer in noisy_layers(network):
            assert {id(layer.weight_sigma), id(layer.bias_sigma), id(layer.weight_mu), id(layer.bias_mu)} <= optimized
    # Targets start from the same mean weights but with their own noise
    for online, target in ((policy.actor, policy.actor_target), (policy.critic, policy.critic_target)):
        for p, p_target in zip(online.parameters(), target.parameters(), strict=True):
            assert th.equal(p, p_target)
        assert differ_everywhere(epsilons(online), epsilons(target))

    plain_critic = make_policy()
    assert type(plain_critic.critic) is ContinuousCritic and not noisy_layers(plain_critic.critic)


def test_polyak_update_acts_on_parameters_only():
    policy = make_policy()
    with th.no_grad():
        for p in policy.actor.parameters():
            p.add_(1.0)
    target_eps = epsilons(policy.actor_target)
    polyak_update(policy.actor.parameters(), policy.actor_target.parameters(), 1.0)
    for p, p_target in zip(policy.actor.parameters(), policy.actor_target.parameters(), strict=True):
        assert th.equal(p, p_target)
    assert same_tensors(target_eps, epsilons(policy.actor_target))


@pytest.mark.parametrize("noisy_critic", [False, True])
def test_reset_noise_covers_all_noisy_networks(noisy_critic):
    policy = make_policy(noisy_critic=noisy_critic)
    networks = [policy.actor, policy.actor_target] + ([policy.critic, policy.critic_target] if noisy_critic else [])
    before = [epsilons(network) for network in networks]
    policy.reset_noise()
    for network, eps in zip(networks, before, strict=True):
        assert differ_everywhere(eps, epsilons(network))
    # Actor and target noise stay independent
    assert differ_everywhere(epsilons(policy.actor), epsilons(policy.actor_target))


@pytest.mark.parametrize("training", [True, False])
def test_predict_deterministic_uses_mean_weights(training):
    th.manual_seed(0)
    policy = make_policy()
    policy.set_training_mode(training)
    obs = th.randn(5, 3)
    eps = epsilons(policy)
    with th.no_grad():
        first, second = policy._predict(obs, deterministic=True), policy._predict(obs, deterministic=True)
    assert th.equal(first, second)
    assert same_tensors(eps, epsilons(policy))
    # Oracle: SB3's own Actor carrying the mean weights
    reference = Actor(OBS_SPACE, ACTION_SPACE, [16, 16], nn.Flatten(), 3)
    with th.no_grad():
        linears = [m for m in reference.mu if isinstance(m, nn.Linear)]
        for linear, noisy in zip(linears, noisy_layers(policy.actor), strict=True):
            linear.weight.copy_(noisy.weight_mu)
            linear.bias.copy_(noisy.bias_mu)
        assert th.allclose(first, reference(obs), atol=1e-6)
    # Noisy weights are still used afterwards
    assert all(layer.use_noise for layer in noisy_layers(policy))


def test_predict_stochastic_resamples_noise_in_eval_mode():
    th.manual_seed(0)
    policy = make_policy()
    # What SB3's collect_rollouts does before predict(deterministic=False)
    policy.set_training_mode(False)
    obs = OBS_SPACE.sample()
    actions, eps = [], []
    for _ in range(3):
        action, _ = policy.predict(obs, deterministic=False)
        actions.append(action)
        eps.append(epsilons(policy.actor))
        # The action is the one of the noisy weights with the noise just drawn
        with th.no_grad():
            expected = policy.unscale_action(policy.actor(th.as_tensor(obs)[None]).numpy())[0]
        assert np.allclose(action, expected, atol=1e-5)
    assert not np.allclose(actions[0], actions[1]) and not np.allclose(actions[1], actions[2])
    assert differ_everywhere(eps[0], eps[1])
    deterministic, _ = policy.predict(obs, deterministic=True)
    assert not np.allclose(deterministic, actions[2])
    assert same_tensors(eps[2], epsilons(policy.actor))


def test_noisy_sigma_mean():
    policy = make_policy(noise_kind="factorized", sigma_init=0.4, net_arch=[8, 4])
    # actor 3 -> 8 -> 4 -> 2: per layer (out * in + out) sigmas equal to 0.4 / sqrt(in)
    sizes = [(3, 8), (8, 4), (4, 2)]
    total = sum(o * i + o for i, o in sizes)
    expected = sum((o * i + o) * 0.4 / math.sqrt(i) for i, o in sizes) / total
    assert policy.noisy_sigma_mean() == pytest.approx(expected, rel=1e-6)
    with th.no_grad():
        for layer in noisy_layers(policy.actor):
            layer.weight_sigma.neg_()
            layer.bias_sigma.neg_()
    assert policy.noisy_sigma_mean() == pytest.approx(expected, rel=1e-6)
    noisy_critic = make_policy(noise_kind="independent", noisy_critic=True)
    assert noisy_critic.noisy_sigma_mean() == pytest.approx(0.017)


def test_bad_policy_arguments():
    with pytest.raises(ValueError, match=r"action_space.*Box"):
        NoisyTD3Policy(OBS_SPACE, spaces.Discrete(3), lambda _: 1e-3)
    with pytest.raises(ValueError, match="noise_kind"):
        make_policy(noise_kind="parameter")
    with pytest.raises(ValueError, match="sigma_init"):
        make_policy(sigma_init=-1.0)


def test_save_load_keeps_noise_settings_and_weights(tmp_path):
    policy_kwargs = dict(net_arch=[16, 16], noise_kind="independent", sigma_init=0.05, noisy_critic=True)
    model = TD3(NoisyMlpPolicy, "Pendulum-v1", policy_kwargs=policy_kwargs, learning_starts=30, batch_size=16, seed=0)
    model.learn(40)
    obs = np.stack([model.observation_space.sample() for _ in range(4)])
    action, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "noisy_td3")

    loaded = TD3.load(tmp_path / "noisy_td3")
    assert type(loaded.policy) is NoisyTD3Policy
    assert (loaded.policy.noise_kind, loaded.policy.sigma_init, loaded.policy.noisy_critic) == ("independent", 0.05, True)
    assert isinstance(loaded.critic, NoisyContinuousCritic)
    assert all(layer.noise_kind == "independent" and layer.sigma_init == 0.05 for layer in noisy_layers(loaded.policy))
    for (name, value), (loaded_name, loaded_value) in zip(
        model.policy.state_dict().items(), loaded.policy.state_dict().items(), strict=True
    ):
        assert name == loaded_name and th.equal(value, loaded_value), name
    loaded_action, _ = loaded.predict(obs, deterministic=True)
    assert np.allclose(action, loaded_action)

    # The policy alone too
    model.policy.save(tmp_path / "policy.pth")
    policy = NoisyTD3Policy.load(tmp_path / "policy.pth")
    assert (policy.noise_kind, policy.sigma_init, policy.noisy_critic) == ("independent", 0.05, True)
    assert np.allclose(policy.predict(obs, deterministic=True)[0], action)


def test_learn_with_stock_td3():
    model = TD3(
        NoisyTD3Policy,
        "Pendulum-v1",
        learning_starts=50,
        batch_size=32,
        policy_kwargs=dict(net_arch=[32, 32]),
        seed=1,
    )
    initial_sigma = model.actor.mu[0].weight_sigma.detach().clone()
    initial_eps = epsilons(model.actor)
    model.learn(200)
    assert model.num_timesteps == 200
    # Collection (in eval mode) drew fresh noise, and training moved sigma
    assert differ_everywhere(initial_eps, epsilons(model.actor))
    assert not th.allclose(initial_sigma, model.actor.mu[0].weight_sigma)
    assert np.isfinite(model.policy.noisy_sigma_mean())


# ---------------------------------------------------------------------------------------------------------------
# Layer-normalized critics
# ---------------------------------------------------------------------------------------------------------------


def layer_kinds(q_net: nn.Module) -> list[str]:
    return [type(module).__name__ for module in q_net]


def test_critic_layer_norm_placement_and_optimizer():
    policy = TD3XPolicy(OBS_SPACE, ACTION_SPACE, lambda _: 1e-3, net_arch=[16, 8], critic_layer_norm=True)
    for critic in (policy.critic, policy.critic_target):
        assert isinstance(critic, LayerNormContinuousCritic) and len(critic.q_networks) == 2
        for q_net in critic.q_networks:
            assert layer_kinds(q_net) == ["Linear", "LayerNorm", "ReLU", "Linear", "LayerNorm", "ReLU", "Linear"]
            assert [m.normalized_shape for m in q_net if isinstance(m, nn.LayerNorm)] == [(16,), (8,)]
    # the LayerNorm gains and biases are learned by the critic optimizer and copied to the target
    optimized = {id(p) for group in policy.critic.optimizer.param_groups for p in group["params"]}
    norms = [m for m in policy.critic.modules() if isinstance(m, nn.LayerNorm)]
    assert len(norms) == 4 and all({id(m.weight), id(m.bias)} <= optimized for m in norms)
    for p, p_target in zip(policy.critic.parameters(), policy.critic_target.parameters(), strict=True):
        assert th.equal(p, p_target)
    # the actor is unchanged
    assert not any(isinstance(m, nn.LayerNorm) for m in policy.actor.modules())


def test_critic_layer_norm_normalizes_hidden_units():
    th.manual_seed(0)
    policy = TD3XPolicy(OBS_SPACE, ACTION_SPACE, lambda _: 1e-3, net_arch=[32, 32], critic_layer_norm=True)
    obs = th.randn(64, 3) * 50.0 + 10.0  # far from unit scale
    actions = th.rand(64, 2) * 4 - 2
    q_net = policy.critic.q_networks[0]
    hidden = q_net[:2](th.cat([obs, actions], dim=1))  # Linear -> LayerNorm
    th.testing.assert_close(hidden.mean(dim=1), th.zeros(64), atol=1e-5, rtol=0)
    th.testing.assert_close(hidden.std(dim=1, unbiased=False), th.ones(64), atol=1e-3, rtol=0)
    q1, q2 = policy.critic(obs, actions)
    assert q1.shape == q2.shape == (64, 1)


def test_critic_layer_norm_off_builds_sb3_networks():
    """TD3X's MlpPolicy with the option off: SB3's TD3Policy, same modules and same initial weights."""
    th.manual_seed(3)
    ours = TD3XPolicy(OBS_SPACE, ACTION_SPACE, lambda _: 1e-3, net_arch=[16, 16])
    th.manual_seed(3)
    stock = TD3Policy(OBS_SPACE, ACTION_SPACE, lambda _: 1e-3, net_arch=[16, 16])
    assert type(ours.critic) is ContinuousCritic
    assert list(ours.state_dict()) == list(stock.state_dict())
    for name, value in ours.state_dict().items():
        assert th.equal(value, stock.state_dict()[name]), name


@pytest.mark.parametrize("noisy_critic", [False, True])
def test_noisy_policy_with_critic_layer_norm(noisy_critic):
    policy = make_policy(noisy_critic=noisy_critic, critic_layer_norm=True)
    expected = NoisyContinuousCritic if noisy_critic else LayerNormContinuousCritic
    assert isinstance(policy.critic, expected) and isinstance(policy.critic_target, expected)
    linear = "NoisyLinear" if noisy_critic else "Linear"
    for q_net in policy.critic.q_networks:
        assert layer_kinds(q_net) == [linear, "LayerNorm", "ReLU", linear, "LayerNorm", "ReLU", linear]
    # the NoisyNet actor is unchanged
    assert not any(isinstance(m, nn.LayerNorm) for m in policy.actor.modules())
    assert len(noisy_layers(policy.actor)) == 3


def test_td3x_policy_aliases_accept_critic_layer_norm():
    model = TD3X("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[8], critic_layer_norm=True))
    assert type(model.policy) is TD3XPolicy and isinstance(model.critic, LayerNormContinuousCritic)
    assert TD3X.policy_aliases["CnnPolicy"] is TD3XCnnPolicy
    image_space = spaces.Box(0, 255, shape=(1, 40, 40), dtype=np.uint8)
    cnn = TD3XCnnPolicy(image_space, ACTION_SPACE, lambda _: 1e-3, net_arch=[8], critic_layer_norm=True)
    assert type(cnn.critic.features_extractor).__name__ == "NatureCNN"
    assert layer_kinds(cnn.critic.q_networks[0]) == ["Linear", "LayerNorm", "ReLU", "Linear"]
    dict_space = spaces.Dict({"a": OBS_SPACE, "b": spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)})
    multi = TD3X.policy_aliases["MultiInputPolicy"](dict_space, ACTION_SPACE, lambda _: 1e-3, critic_layer_norm=True)
    assert type(multi) is TD3XMultiInputPolicy and isinstance(multi.critic, LayerNormContinuousCritic)
    obs = {key: th.as_tensor(np.stack([space.sample() for _ in range(5)])) for key, space in dict_space.items()}
    assert multi.critic.q1_forward(obs, th.zeros(5, 2)).shape == (5, 1)


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_bad_critic_layer_norm(value):
    with pytest.raises(ValueError, match=r"critic_layer_norm must be True or False"):
        TD3X("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(critic_layer_norm=value))
    with pytest.raises(ValueError, match=r"critic_layer_norm must be True or False"):
        make_policy(critic_layer_norm=value)


def test_save_load_keeps_critic_layer_norm(tmp_path):
    model = TD3X(
        "MlpPolicy",
        "Pendulum-v1",
        policy_kwargs=dict(net_arch=[16, 16], critic_layer_norm=True),
        learning_starts=30,
        batch_size=16,
        seed=0,
    )
    model.learn(60)
    model.save(tmp_path / "ln")
    loaded = TD3X.load(tmp_path / "ln")
    assert loaded.policy.critic_layer_norm is True and isinstance(loaded.critic, LayerNormContinuousCritic)
    for (name, value), (loaded_name, loaded_value) in zip(
        model.policy.state_dict().items(), loaded.policy.state_dict().items(), strict=True
    ):
        assert name == loaded_name and th.equal(value, loaded_value), name
    # training moved the LayerNorm gains away from their initial ones, and the loaded model has them
    gains = [m.weight for m in loaded.critic.modules() if isinstance(m, nn.LayerNorm)]
    assert gains and not all(th.equal(gain, th.ones_like(gain)) for gain in gains)
    obs = th.as_tensor(np.stack([model.observation_space.sample() for _ in range(4)]))
    actions = th.zeros(4, 1)
    assert th.equal(model.critic(obs, actions)[0], loaded.critic(obs, actions)[0])
