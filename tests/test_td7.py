import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.utils import set_random_seed
from torch import nn
from torch.nn import functional as F

from sb3_td3x import TD3X, TD7
from sb3_td3x.common.buffers import LAPReplayBuffer
from sb3_td3x.common.indexed_buffer import IndexedReplayBuffer
from sb3_td3x.common.value_clipping import TargetValueRange
from sb3_td3x.td7.networks import BatchedLinear, JoinedLinear, SALECritic, SALEEncoder, avg_l1_norm
from sb3_td3x.td7.policies import TD7Policy

TINY = dict(net_arch=[16, 16, 16], zs_dim=8, encoder_net_arch=[16])
SMALL = dict(learning_starts=100, batch_size=32, buffer_size=2_000, policy_kwargs=TINY)
# A gradient step after every env step, without checkpoints (TD7 trains after each episode by default)
STEPWISE = dict(train_freq=1, gradient_steps=1, policy_checkpoints=False)


def state(module):
    return {key: value.clone() for key, value in module.state_dict().items()}


def assert_same(state_a, state_b):
    assert state_a.keys() == state_b.keys()
    for key in state_a:
        assert th.equal(state_a[key], state_b[key]), key


def test_avg_l1_norm():
    x = th.tensor([[1.0, -3.0, 2.0, 2.0], [0.0, 0.0, 0.0, 0.0], [10.0, 10.0, -10.0, 10.0]])
    y = avg_l1_norm(x)
    np.testing.assert_allclose(y[0].numpy(), [0.5, -1.5, 1.0, 1.0])
    assert th.equal(y[1], th.zeros(4))  # the divisor is clipped: no NaN for a zero row
    np.testing.assert_allclose(y[2].numpy(), [1.0, 1.0, -1.0, 1.0])
    np.testing.assert_allclose(avg_l1_norm(7.0 * x).numpy(), y.numpy(), rtol=1e-6)
    np.testing.assert_allclose(y[[0, 2]].abs().mean(dim=1).numpy(), [1.0, 1.0], rtol=1e-6)


def test_batched_linear_is_independent_linear_layers():
    th.manual_seed(0)
    layer = BatchedLinear(3, 5, 4, shared_in_features=[2, 6])
    x, shared_a, shared_b = th.randn(3, 7, 5), th.randn(7, 2), th.randn(7, 6)
    out = layer(x, shared_a, shared_b)
    assert out.shape == (3, 7, 4)
    for i in range(3):
        # Member i: nn.Linear on the concatenation of its own input and the shared ones
        weight = th.cat([layer.weight[i], *(w[:, 4 * i : 4 * (i + 1)] for w in layer.shared_weights)], dim=0)
        th.testing.assert_close(out[i], F.linear(th.cat([x[i], shared_a, shared_b], 1), weight.T, layer.bias[i, 0]))
    # A 2-D input is read by every member
    th.testing.assert_close(BatchedLinear(2, 5, 4)(x[0]).shape, (2, 7, 4))
    # nn.Linear's initialization range for the whole fan-in
    assert max(p.abs().max() for p in layer.parameters()) <= 1 / np.sqrt(5 + 2 + 6)


def test_joined_linear_is_a_linear_layer_on_the_concatenation():
    th.manual_seed(0)
    layer = JoinedLinear([3, 2], 4)
    a, b = th.randn(6, 3), th.randn(6, 2, requires_grad=True)
    out = layer(a, b)
    weight = th.cat(list(layer.weights), dim=0)
    th.testing.assert_close(out, F.linear(th.cat([a, b], 1), weight.T, layer.bias))
    # The gradient reaches the input that asks for it
    (grad,) = th.autograd.grad(out.sum(), [b])
    th.testing.assert_close(grad, layer.weights[1].sum(dim=1).expand(6, 2))
    assert max(p.abs().max() for p in layer.parameters()) <= 1 / np.sqrt(5)


def test_critics_match_a_per_critic_computation():
    th.manual_seed(0)
    space = gym.spaces.Box(-1, 1, (5,))
    actions = gym.spaces.Box(-1, 1, (2,))
    critic = SALECritic(space, actions, [6, 7, 3], features_dim=5, activation_fn=nn.ELU, n_critics=2, zs_dim=4)
    obs, act, zsa, zs = th.randn(9, 5), th.rand(9, 2), th.randn(9, 4), th.randn(9, 4)
    first, joined, *rest = [module for module in critic.modules() if isinstance(module, BatchedLinear)]
    for i in range(2):
        x = avg_l1_norm(F.linear(th.cat([obs, act], 1), first.weight[i].T, first.bias[i, 0]))
        # The embeddings join after the first (normalized) layer: (x, zsa, zs) -> 7
        weight = th.cat([joined.weight[i], *(w[:, 7 * i : 7 * (i + 1)] for w in joined.shared_weights)], dim=0)
        x = F.linear(th.cat([x, zsa, zs], 1), weight.T, joined.bias[i, 0])
        for layer in rest:
            x = F.linear(F.elu(x), layer.weight[i].T, layer.bias[i, 0])
        th.testing.assert_close(critic(obs, act, zsa, zs)[:, i : i + 1], x)


def test_actor_and_encoder_layers():
    th.manual_seed(0)
    from sb3_td3x.td7.networks import SALEActor

    space, actions = gym.spaces.Box(-1, 1, (5,)), gym.spaces.Box(-1, 1, (2,))
    actor = SALEActor(space, actions, [6, 7, 3], features_dim=5, activation_fn=nn.ReLU, zs_dim=4)
    obs, zs = th.randn(9, 5), th.randn(9, 4)
    x = th.cat([avg_l1_norm(actor.state_layer(obs)), zs], 1)
    x = F.linear(x, th.cat(list(actor.joined_layer.weights), 0).T, actor.joined_layer.bias)
    x = th.tanh(actor.mu[3](F.relu(actor.mu[1](F.relu(x)))))
    th.testing.assert_close(actor(obs, zs), x)
    encoder = SALEEncoder(5, 2, zs_dim=4, net_arch=[8])
    a = th.rand(9, 2)
    g = encoder.state_action_input
    expected = encoder.state_action_encoder[1](F.elu(F.linear(th.cat([zs, a], 1), th.cat(list(g.weights), 0).T, g.bias)))
    th.testing.assert_close(encoder.zsa(zs, a), expected)


def test_encoder_loss_and_its_gradient():
    th.manual_seed(0)
    encoder = SALEEncoder(5, 2, zs_dim=4, net_arch=[8])
    obs, act, next_obs = th.randn(6, 5), th.rand(6, 2), th.randn(6, 5)
    loss = encoder.loss(obs, act, next_obs)
    # Reference: separate passes, the next state's embedding as a constant target
    target = encoder.zs(next_obs).detach()
    expected = F.mse_loss(encoder.zsa(encoder.zs(obs), act), target)
    th.testing.assert_close(loss, expected)
    grads = th.autograd.grad(loss, list(encoder.parameters()))
    expected_grads = th.autograd.grad(expected, list(encoder.parameters()))
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        th.testing.assert_close(grad, expected_grad)
    # zs is AvgL1Norm-ed, zsa is not
    th.testing.assert_close(encoder.zs(obs).abs().mean(dim=1), th.ones(6))


def test_value_range():
    value_range = TargetValueRange()
    assert value_range.clip(th.tensor([5.0, -3.0])).tolist() == [0.0, 0.0]  # the reference starts at [0, 0]
    value_range.observe(th.tensor([1.0, 4.0]))
    value_range.observe(th.tensor([-2.0, 3.0]))
    assert value_range.clip(th.tensor([5.0])).tolist() == [0.0]  # fixed until the next hard update
    value_range.refresh()
    assert (value_range.low, value_range.high) == (-2.0, 4.0)
    assert value_range.clip(th.tensor([5.0, -3.0, 1.0])).tolist() == [4.0, -2.0, 1.0]
    value_range.observe(th.tensor([0.5]))
    value_range.refresh()  # extremes since the start, not of the last period (as the reference)
    assert (value_range.low, value_range.high) == (-2.0, 4.0)


def test_hard_updates_move_every_copy_on_their_period():
    model = TD7("MlpPolicy", "Pendulum-v1", target_update_interval=7, seed=0, **SMALL, **STEPWISE)
    policy = model.policy
    calls = []
    hard_update = policy.hard_update

    def spy():
        before = {name: state(getattr(policy, name)) for name in ("encoder", "fixed_encoder", "actor", "critic")}
        if calls:  # the fixed copies did not move since the last update
            assert_same(state(policy.fixed_encoder), calls[-1]["encoder"])
        hard_update()
        assert_same(state(policy.fixed_encoder_target), before["fixed_encoder"])
        assert_same(state(policy.fixed_encoder), before["encoder"])
        assert_same(state(policy.actor_target), before["actor"])
        assert_same(state(policy.critic_target), before["critic"])
        calls.append({**before, "n_updates": model._n_updates})

    policy.hard_update = spy
    model.learn(150)
    assert model._n_updates == 50
    assert [call["n_updates"] for call in calls] == [7, 14, 21, 28, 35, 42, 49]
    # The encoder itself learns at every step
    assert not all(th.equal(a, b) for a, b in zip(state(policy.encoder).values(), calls[-1]["encoder"].values(), strict=True))
    # No Polyak averaging in between: the targets are still the copies of step 49
    assert_same(state(policy.actor_target), calls[-1]["actor"])


def test_value_clipping_in_the_targets():
    model = TD7("MlpPolicy", "Pendulum-v1", target_update_interval=5, seed=0, **SMALL, **STEPWISE)
    seen = []
    observe = model.value_range.observe

    def spy(target_q_values):
        seen.append((model._n_updates, model.value_range.low, model.value_range.high, target_q_values.clone()))
        observe(target_q_values)

    model.value_range.observe = spy
    model.learn(112)
    assert len(seen) == 12
    # Before the first hard update the next values are clipped to [0, 0]: every target is the reward alone, which
    # Pendulum keeps within [-16.3, 0]
    for n_updates, low, high, targets in seen[:5]:
        assert (low, high) == (0.0, 0.0) and n_updates <= 5
        assert targets.max() <= 0.0 and targets.min() >= -16.3
    # Afterwards the range is the extremes of every target seen up to the last hard update
    first_five = th.cat([targets for *_, targets in seen[:5]])
    assert seen[5][1:3] == (first_five.min().item(), first_five.max().item())


def test_deterministic_prediction_uses_the_checkpoint_and_its_encoder():
    # TD7's defaults: checkpoints, training after each episode
    model = TD7("MlpPolicy", "Pendulum-v1", seed=0, **{**SMALL, "learning_starts": 200})
    model.learn(800)
    policy = model.policy
    assert policy.has_checkpoint
    obs = model.env.reset()
    with th.no_grad():
        tensor = th.as_tensor(obs).float()
        checkpoint = policy.checkpoint_actor(tensor, policy.checkpoint_encoder.zs(tensor)).numpy()
        current = policy.actor(tensor, policy.fixed_encoder.zs(tensor)).numpy()
        policy.fixed_encoder.state_encoder[0].weight.mul_(2.0)  # the checkpoint keeps its own encoder
    assert not np.allclose(checkpoint, current)
    np.testing.assert_allclose(model.predict(obs, deterministic=True)[0], policy.unscale_action(checkpoint), rtol=1e-6)


def continue_exactly(model, steps):
    set_random_seed(11)
    model.env.seed(11)
    model._last_obs = None
    return model.learn(steps, reset_num_timesteps=False)


def test_save_load_keeps_encoders_copies_checkpoint_and_value_range(tmp_path):
    model = TD7("MlpPolicy", "Pendulum-v1", seed=2, **{**SMALL, "learning_starts": 200})
    model.learn(800)
    model.save(tmp_path / "model.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")
    loaded = TD7.load(tmp_path / "model.zip", env=gym.make("Pendulum-v1"))
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    assert type(loaded) is TD7 and type(loaded.replay_buffer) is LAPReplayBuffer
    np.testing.assert_array_equal(loaded.replay_buffer.sum_tree.tree, model.replay_buffer.sum_tree.tree)
    assert loaded.replay_buffer.max_priority == model.replay_buffer.max_priority
    assert isinstance(loaded.policy, TD7Policy) and loaded.policy.zs_dim == 8
    assert loaded.target_update_interval == 250 and loaded.value_range.__dict__ == model.value_range.__dict__
    assert model.value_range.high > model.value_range.low  # a hard update happened (600 gradient steps)
    assert loaded.checkpoints.__dict__ == model.checkpoints.__dict__
    assert_same(state(loaded.policy), state(model.policy))  # encoders, fixed copies, checkpoint included
    assert {"checkpoint_encoder.state_encoder.0.weight", "fixed_encoder_target.state_encoder.0.weight"} <= set(
        loaded.policy.state_dict()
    )
    assert loaded.encoder.optimizer.state_dict()["state"].keys() == model.encoder.optimizer.state_dict()["state"].keys()

    continue_exactly(model, 400)
    continue_exactly(loaded, 400)
    assert_same(state(loaded.policy), state(model.policy))
    assert loaded.value_range.__dict__ == model.value_range.__dict__


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(policy_kwargs=dict(zs_dim=-4)), "zs_dim"),
        (dict(policy_kwargs=dict(zs_dim=0)), "zs_dim"),
        (dict(policy_kwargs=dict(net_arch=[64, 0])), "net_arch"),
        (dict(policy_kwargs=dict(net_arch=dict(pi=[64], qf=[-1]))), "qf"),
        (dict(policy_kwargs=dict(encoder_net_arch=[32, "a"])), "encoder_net_arch"),
        (dict(policy_kwargs=dict(critic_layer_norm=True)), "critic_layer_norm"),
        (dict(replay_buffer_class=NStepReplayBuffer, n_steps=3), "replay_buffer_class"),
        (dict(target_update_interval=0), "target_update_interval"),
        (dict(target_update_interval=None), "target_update_interval"),
        (dict(value_clipping="yes"), "value_clipping"),
        (dict(policy="NoisyMlpPolicy"), "NoisyMlpPolicy"),
        (dict(train_freq=1), "train_freq"),
        (dict(prioritized_replay="bogus"), "prioritized_replay"),
    ],
)
def test_bad_td7_input_is_rejected(kwargs, match):
    kwargs = {"policy": "MlpPolicy", **kwargs}
    with pytest.raises(ValueError, match=match):
        TD7(env="Pendulum-v1", **kwargs)


def test_td3x_does_not_take_td7s_networks():
    with pytest.raises(ValueError, match="trained by the TD7 algorithm"):
        TD3X(TD7Policy, "Pendulum-v1")

    # A user's subclass of TD7 is TD7
    class MyTD7(TD7):
        pass

    assert isinstance(MyTD7("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[8], zs_dim=4)).policy, TD7Policy)


def test_sale_needs_flat_box_observations():
    from stable_baselines3.common.envs import SimpleMultiObsEnv

    with pytest.raises(ValueError, match="observation_space"):
        TD7Policy(SimpleMultiObsEnv().observation_space, gym.spaces.Box(-1, 1, (2,)), lambda _: 1e-3)


@pytest.mark.parametrize("prioritized_replay, buffer_class", [("none", IndexedReplayBuffer), ("lap", LAPReplayBuffer)])
def test_sale_with_n_step_returns_trains_the_encoder_on_one_step_transitions(tmp_path, prioritized_replay, buffer_class):
    model = TD7("MlpPolicy", "Pendulum-v1", n_steps=3, prioritized_replay=prioritized_replay, seed=0, **SMALL, **STEPWISE)
    buffer = model.replay_buffer
    assert type(buffer) is buffer_class and buffer.n_steps == 3
    policy = model.policy
    seen = []
    sample, loss = buffer.sample, policy.encoder.loss

    def sample_spy(*args, **kwargs):
        seen.append({"samples": sample(*args, **kwargs)})
        return seen[-1]["samples"]

    def loss_spy(obs, actions, next_obs):
        seen[-1]["encoder_next_obs"] = next_obs.clone()
        return loss(obs, actions, next_obs)

    buffer.sample, policy.encoder.loss = sample_spy, loss_spy
    model.learn(150)
    assert len(seen) == 50
    n_step_apart = 0
    for step in seen:
        samples = step["samples"]
        rows, envs = np.unravel_index(samples.indices, (buffer.buffer_size, buffer.n_envs))
        one_step = th.as_tensor(buffer.next_observations[rows, envs])
        th.testing.assert_close(step["encoder_next_obs"], one_step, rtol=0, atol=0)
        n_step_apart += int(not th.equal(samples.next_observations, one_step))
    assert n_step_apart == len(seen)  # the critics' next observations are 3 steps on
    # Saved and loaded with its buffer class and n_steps, it trains on
    model.save(tmp_path / "model")
    loaded = TD7.load(tmp_path / "model", env=gym.make("Pendulum-v1"))
    assert loaded.replay_buffer_class is buffer_class and loaded.n_steps == 3 and loaded.replay_buffer.n_steps == 3
    loaded.learn(120, reset_num_timesteps=False)
    assert loaded._n_updates > 50


def test_actor_saturation_is_logged():
    model = TD7("MlpPolicy", "Pendulum-v1", seed=0, **SMALL, **STEPWISE)
    model.learn(200)
    assert 0.0 <= model.logger.name_to_value["train/actor_saturation"] < 0.5
    with th.no_grad():  # the last layer's pre-activation far past tanh's slope: every action at +1
        model.policy.actor.mu[3].bias.fill_(50.0)
    model.train(gradient_steps=2, batch_size=32)  # policy_delay 2: one actor update
    assert model.logger.name_to_value["train/actor_saturation"] == 1.0
