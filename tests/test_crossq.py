"""TD3X with CrossQ's networks (CrossQPolicy): batch-renormalized actor and critics, no target networks, joint pass."""

import copy

import numpy as np
import pytest
import torch as th
import torch.nn.functional as F
from sb3_contrib.common.torch_layers import BatchRenorm1d
from stable_baselines3.common.utils import set_random_seed

from sb3_td3x import TD3X, CrossQTD3Policy
from sb3_td3x.common.batch_renorm import FusedBatchRenorm1d
from sb3_td3x.common.buffers import LAPReplayBuffer
from sb3_td3x.td3x.networks import set_batch_renorm_training
from sb3_td3x.td3x.policies import FUSED_ADAM

SMALL = dict(
    learning_starts=100,
    batch_size=32,
    buffer_size=2_000,
    policy_delay=3,
    policy_kwargs=dict(net_arch=dict(pi=[32, 32], qf=[64, 64]), renorm_warmup_steps=20),
)


def renorm_layers(network):
    return [module for module in network.modules() if isinstance(module, FusedBatchRenorm1d)]


# --- the layer: sb3-contrib's BatchRenorm1d, computed with fewer operations ------------------------------------------


def assert_same_as_contribs(ours, theirs, x, tol):
    """
    One call of both layers on the same input: same output, same gradients, same running statistics after it, each
    within its tolerance (tol: rtol / atol of "output", "x_grad", "param_grad", "state").
    """
    x_ours = x.detach().clone().requires_grad_()
    x = x.detach().clone().requires_grad_()
    out_theirs, out_ours = theirs(x), ours(x_ours)
    grad = th.randn_like(out_theirs)
    out_theirs.backward(grad)
    out_ours.backward(grad)
    th.testing.assert_close(out_ours, out_theirs, **tol["output"])
    th.testing.assert_close(x_ours.grad, x.grad, **tol["x_grad"])
    if theirs.affine:
        th.testing.assert_close(ours.scale.grad, theirs.scale.grad, **tol["param_grad"])
        th.testing.assert_close(ours.bias.grad, theirs.bias.grad, **tol["param_grad"])
    for name, buffer in theirs.state_dict().items():
        th.testing.assert_close(ours.state_dict()[name], buffer, **tol["state"])


FLOAT_TOL = {
    "output": dict(rtol=1e-5, atol=1e-5),
    "x_grad": dict(rtol=1e-4, atol=1e-5),
    "param_grad": dict(rtol=1e-4, atol=1e-4),
    "state": dict(rtol=1e-5, atol=1e-6),
}
DOUBLE_TOL = {
    "output": dict(rtol=1e-12, atol=1e-12),
    "x_grad": dict(rtol=1e-10, atol=1e-12),
    "param_grad": dict(rtol=1e-10, atol=1e-12),
    "state": dict(rtol=1e-12, atol=1e-12),
}


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("warmup_steps", [100, 2])
def test_fused_layer_computes_what_contribs_layer_computes(affine, warmup_steps):
    th.manual_seed(0)
    theirs = BatchRenorm1d(16, warmup_steps=warmup_steps, affine=affine, momentum=0.1)
    with th.no_grad():
        theirs.scale.uniform_(0.5, 1.5)
        theirs.bias.normal_()
    ours = FusedBatchRenorm1d(16, warmup_steps=warmup_steps, affine=affine, momentum=0.1)
    ours.load_state_dict(theirs.state_dict())
    # Six training calls: with warmup_steps=2 the last three renormalize towards the running statistics, on batches
    # whose statistics drift away from them, so that r and d are clipped
    for call in range(6):
        assert_same_as_contribs(ours, theirs, th.randn(64, 16) * (1 + 3 * call) + 2 * call, FLOAT_TOL)
    assert int(ours.steps) == 6
    # Evaluation mode: the running statistics, which stay as they are, and the gradients through them (the actor's
    # loss goes back through the critics in evaluation mode); a batch of one, as when acting
    theirs.eval(), ours.eval()
    for batch in (5, 1):
        assert_same_as_contribs(ours, theirs, th.randn(batch, 16) * 4, FLOAT_TOL)
    assert int(ours.steps) == 6


@pytest.mark.parametrize("affine", [True, False])
def test_renormalization_gradient_matches_contribs_autograd_in_double_precision(affine):
    # The renormalization phase's backward is written by hand (r and d held constant, as autograd holds contrib's
    # detached corrections): against contrib's layer in double precision, where only rounding may differ, with
    # running statistics that put r and d inside their clipping range for some features and clip them for others
    th.manual_seed(0)
    theirs = BatchRenorm1d(6, warmup_steps=0, affine=affine, momentum=0.1).double()
    with th.no_grad():
        theirs.ra_mean.copy_(th.tensor([0.0, 1.0, 30.0, -30.0, 1.0, 0.5]))
        theirs.ra_var.copy_(th.tensor([1.0, 4.0, 4.0, 4.0, 1e-3, 400.0]))
        theirs.steps.fill_(1)
        theirs.scale.uniform_(0.5, 1.5)
        theirs.bias.normal_()
    ours = FusedBatchRenorm1d(6, warmup_steps=0, affine=affine, momentum=0.1).double()
    ours.load_state_dict(theirs.state_dict())
    x = th.randn(12, 6, dtype=th.float64) * 2 + 1
    assert_same_as_contribs(ours, theirs, x, DOUBLE_TOL)


def test_fused_layer_refuses_other_shapes():
    with pytest.raises(ValueError, match="2D"):
        FusedBatchRenorm1d(4)(th.zeros(2, 4, 3))
    # A batch of one has no batch variance (contrib's layer turns it into NaN in the running statistics)
    layer = FusedBatchRenorm1d(4)
    with pytest.raises(ValueError, match="batch of one"):
        layer(th.ones(1, 4))
    assert int(layer.steps) == 0 and th.equal(layer.ra_var, th.ones(4))
    layer.eval()
    assert th.isfinite(layer(th.ones(1, 4))).all()


# --- the policy -------------------------------------------------------------------------------------------------------


def test_policy_has_batch_renorm_everywhere_and_no_target_networks():
    model = TD3X("CrossQPolicy", "Pendulum-v1", **SMALL)
    policy = model.policy
    assert isinstance(policy, CrossQTD3Policy)
    # Before every Linear of the actor and of each critic, the output layer included
    for network in [policy.actor.mu, policy.critic.qf0, policy.critic.qf1]:
        layers = list(network)
        linears = [i for i, layer in enumerate(layers) if isinstance(layer, th.nn.Linear)]
        assert len(linears) == 3
        assert all(isinstance(layers[i - 1], FusedBatchRenorm1d) for i in linears)
    assert [layer.warmup_steps for layer in renorm_layers(policy)] == [20] * 9
    # No target networks: the targets are the online networks, held once in the state dict
    assert model.actor_target is model.actor and model.critic_target is model.critic
    assert not any("target" in key for key in policy.state_dict())
    # CrossQ's optimizer, fused where torch has it for the CPU
    assert policy.critic.optimizer.defaults["betas"] == (0.5, 0.999)
    assert bool(policy.critic.optimizer.defaults.get("fused")) == FUSED_ADAM
    # The defaults: sb3-contrib CrossQ's networks
    default = TD3X("CrossQPolicy", "Pendulum-v1", learning_starts=100).policy
    assert default.critic.qf0[1].out_features == 1024 and default.actor.mu[1].out_features == 256


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(batch_norm_momentum=0.0), "batch_norm_momentum"),
        (dict(batch_norm_momentum=1.5), "batch_norm_momentum"),
        (dict(batch_norm_eps=0.0), "batch_norm_eps"),
        (dict(renorm_warmup_steps=-1), "renorm_warmup_steps"),
        (dict(renorm_warmup_steps=2.5), "renorm_warmup_steps"),
    ],
)
def test_bad_batch_renorm_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TD3X("CrossQPolicy", "Pendulum-v1", policy_kwargs=kwargs)


def test_batch_of_one_is_refused_before_anything_is_built():
    # A batch of one has no variance to renormalize with: refused by name at construction, not at the first update
    with pytest.raises(ValueError, match=r"batch_size must be >= 2 with CrossQTD3Policy"):
        TD3X("CrossQPolicy", "Pendulum-v1", batch_size=1)
    # Other policies keep SB3's behaviour, and CrossQ trains on a batch of two
    TD3X("MlpPolicy", "Pendulum-v1", batch_size=1)
    TD3X("CrossQPolicy", "Pendulum-v1", batch_size=2, learning_starts=2, policy_kwargs=dict(net_arch=[8])).learn(4)


# --- the update -----------------------------------------------------------------------------------------------------


def crossq_update_by_hand(model, batch, noise, update_actor):
    """One CrossQ-on-TD3 update written out from the paper's recipe, on copies of the model's networks."""
    actor, critic = copy.deepcopy(model.actor), copy.deepcopy(model.critic)
    actor_optimizer = type(model.actor.optimizer)(actor.parameters())
    # A deep copy: load_state_dict would share the moment tensors with the model's optimizer
    actor_optimizer.load_state_dict(copy.deepcopy(model.actor.optimizer.state_dict()))
    critic_optimizer = type(model.critic.optimizer)(critic.parameters())
    critic_optimizer.load_state_dict(copy.deepcopy(model.critic.optimizer.state_dict()))
    obs, actions, next_obs, dones, rewards = batch
    n = obs.shape[0]
    with th.no_grad():
        actor.eval()  # the next action: the actor's running statistics, not updated
        next_actions = (actor(next_obs) + noise).clamp(-1, 1)
    actor.train()
    critic.train()  # one pass over (s, a) and (s', a'): the statistics of both together
    q1, q2 = critic(th.cat([obs, next_obs]), th.cat([actions, next_actions]))
    next_q = th.min(q1[n:], q2[n:]).detach()
    target = rewards + (1 - dones) * model.gamma * next_q
    loss = F.mse_loss(q1[:n], target) + F.mse_loss(q2[:n], target)
    critic_optimizer.zero_grad()
    loss.backward()
    critic_optimizer.step()
    if update_actor:
        critic.eval()  # the critic judges the actor with its running statistics
        actor_loss = -critic.q1_forward(obs, actor(obs)).mean()
        actor_optimizer.zero_grad()
        actor_loss.backward()
        actor_optimizer.step()
    return actor, critic


@pytest.mark.parametrize("update_actor", [False, True])
def test_one_update_is_crossqs_update(update_actor):
    model = TD3X("CrossQPolicy", "Pendulum-v1", seed=1, **SMALL)
    model.learn(150)  # 50 updates: past the renorm warm-up of 20 calls, so the renormalization itself is checked too
    assert model._n_updates == 50
    # The next update is the third of a cycle of policy_delay=3 (an actor update) or the first (none)
    model._n_updates = 2 if update_actor else 0
    batch_data = model.replay_buffer.sample(32)
    model.replay_buffer.sample = lambda *args, **kwargs: batch_data  # type: ignore[method-assign]
    # The target policy noise that train() draws first, drawn again here from the same seed
    th.manual_seed(7)
    noise = (
        batch_data.actions.clone()
        .normal_(0, model.target_policy_noise)
        .clamp(-model.target_noise_clip, model.target_noise_clip)
    )
    batch = (batch_data.observations, batch_data.actions, batch_data.next_observations, batch_data.dones, batch_data.rewards)
    actor, critic = crossq_update_by_hand(model, batch, noise, update_actor)
    th.manual_seed(7)
    model.train(gradient_steps=1, batch_size=32)
    for ours, by_hand in [(model.critic, critic), (model.actor, actor)]:
        for (name, value), expected in zip(ours.state_dict().items(), by_hand.state_dict().values(), strict=True):
            th.testing.assert_close(value, expected, rtol=1e-5, atol=1e-6, msg=name)


def test_joint_pass_and_batch_renorm_modes_during_learning():
    model = TD3X("CrossQPolicy", "Pendulum-v1", seed=0, **SMALL)
    seen = []
    critic_layer = model.critic.qf0[0]
    critic_layer.register_forward_hook(lambda module, inputs, output: seen.append((module.training, inputs[0].shape[0])))
    model.learn(160)
    # One training-mode call per gradient step, on the current and next pairs together (2 x batch); the actor's loss
    # takes the critic in evaluation mode on the batch alone; acting never reaches the critic
    assert model._n_updates == 60
    assert seen.count((True, 64)) == 60
    assert seen.count((False, 32)) == 20
    assert len(seen) == 80
    # The running statistics moved once per training-mode call: critics every gradient step, actor every actor update
    assert all(int(layer.steps) == 60 for layer in renorm_layers(model.critic))
    assert all(int(layer.steps) == 20 for layer in renorm_layers(model.actor))
    # Acting and evaluating (eval mode) use the running statistics and leave them alone
    before = {key: value.clone() for key, value in model.policy.state_dict().items()}
    model.predict(np.zeros((1, 3), dtype=np.float32))
    model.predict(np.zeros((1, 3), dtype=np.float32), deterministic=True)
    for key, value in model.policy.state_dict().items():
        assert th.equal(value, before[key]), key
    assert not any(layer.training for layer in renorm_layers(model.policy))


def test_save_load_keeps_the_running_statistics_and_continues(tmp_path):
    model = TD3X("CrossQPolicy", "Pendulum-v1", seed=0, **SMALL).learn(200)
    model.save(tmp_path / "model")
    loaded = TD3X.load(tmp_path / "model", env=model.get_env())
    assert isinstance(loaded.policy, CrossQTD3Policy)
    assert loaded.policy.batch_renorm_kwargs == model.policy.batch_renorm_kwargs
    for key, value in model.policy.state_dict().items():
        assert th.equal(loaded.policy.state_dict()[key], value), key
    observations = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    np.testing.assert_array_equal(
        loaded.predict(observations, deterministic=True)[0], model.predict(observations, deterministic=True)[0]
    )
    steps = int(loaded.critic.qf0[0].steps)
    loaded.learn(150, reset_num_timesteps=False)
    assert int(loaded.critic.qf0[0].steps) == steps + 150


def test_composes_with_lap_and_n_step_returns():
    set_random_seed(0)
    model = TD3X("CrossQPolicy", "Pendulum-v1", seed=0, prioritized_replay="lap", n_steps=3, **SMALL)
    model.learn(300)
    buffer = model.replay_buffer
    assert isinstance(buffer, LAPReplayBuffer) and buffer.n_steps == 3
    # Priorities went back from the TD errors of the joint pass: the leaves are no longer all at the initial priority
    leaves = buffer.sum_tree.tree[buffer.sum_tree.size : buffer.sum_tree.size + buffer.pos]
    assert np.unique(np.round(leaves, 6)).size > 10
    assert int(model.critic.qf0[0].steps) == model._n_updates == 200


def test_batch_renorm_training_switch_leaves_other_modules_alone():
    network = th.nn.Sequential(FusedBatchRenorm1d(3), th.nn.Dropout(0.5))
    network.train()
    set_batch_renorm_training(network, False)
    assert not network[0].training and network[1].training


def test_logs_the_critics_values_and_the_warmup_left():
    model = TD3X("CrossQPolicy", "Pendulum-v1", seed=0, **SMALL)
    model.learn(130)
    logged = model.logger.name_to_value
    # 30 gradient steps against a warm-up of 20 calls: over; the mean value is the first critic's on its batch
    assert logged["train/renorm_warmup_left"] == 0
    assert np.isfinite(logged["train/q_mean"])
    plain = TD3X(
        "MlpPolicy", "Pendulum-v1", seed=0, learning_starts=100, batch_size=32, policy_kwargs=dict(net_arch=[32])
    ).learn(130)
    assert "train/q_mean" not in plain.logger.name_to_value
    fresh = TD3X("CrossQPolicy", "Pendulum-v1", seed=0, **{**SMALL, "policy_kwargs": dict(renorm_warmup_steps=1000)})
    fresh.learn(110)
    assert fresh.logger.name_to_value["train/renorm_warmup_left"] == 990
