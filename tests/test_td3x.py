import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import TD3
from stable_baselines3.common.buffers import NStepReplayBuffer, ReplayBuffer
from stable_baselines3.common.callbacks import BaseCallback, EveryNTimesteps
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import NormalActionNoise, VectorizedActionNoise
from stable_baselines3.common.utils import set_random_seed
from stable_baselines3.common.vec_env import DummyVecEnv

from sb3_td3x import TD3X
from sb3_td3x.common.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.common.noise import DecayingNormalActionNoise
from sb3_td3x.td3x.td3x import action_saturation

SMALL = dict(learning_starts=100, batch_size=32, buffer_size=2_000, policy_kwargs=dict(net_arch=[32, 32]))


def normal_noise(sigma=0.2):
    return NormalActionNoise(mean=np.zeros(1), sigma=sigma * np.ones(1))


def assert_same_parameters(model_a, model_b):
    params_a, params_b = model_a.policy.state_dict(), model_b.policy.state_dict()
    assert params_a.keys() == params_b.keys()
    for key in params_a:
        assert th.equal(params_a[key], params_b[key]), key


@pytest.mark.parametrize("n_steps", [1, 3])
def test_all_extras_off_reproduces_stock_td3(n_steps):
    kwargs = dict(SMALL, seed=3, n_steps=n_steps, action_noise=normal_noise(), train_freq=2, gradient_steps=3)
    stock = TD3("MlpPolicy", "Pendulum-v1", **kwargs).learn(600)
    ours = TD3X("MlpPolicy", "Pendulum-v1", **kwargs).learn(600)
    assert type(ours.replay_buffer) is (NStepReplayBuffer if n_steps > 1 else ReplayBuffer)
    assert ours._n_updates == stock._n_updates > 0
    assert_same_parameters(stock, ours)


@pytest.mark.parametrize("kind, buffer_class", [("per", PrioritizedReplayBuffer), ("lap", LAPReplayBuffer)])
def test_prioritized_replay_by_argument_or_by_class(kind, buffer_class):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "n_steps is ignored" warning from SB3
        by_arg = TD3X(
            "MlpPolicy",
            "Pendulum-v1",
            prioritized_replay=kind,
            replay_buffer_kwargs=dict(alpha=0.5),
            n_steps=3,
            gamma=0.9,
            **SMALL,
        )
        by_class = TD3X(
            "MlpPolicy",
            "Pendulum-v1",
            replay_buffer_class=buffer_class,
            replay_buffer_kwargs=dict(alpha=0.5),
            n_steps=3,
            gamma=0.9,
            **SMALL,
        )
    for model in (by_arg, by_class):
        buffer = model.replay_buffer
        assert type(buffer) is buffer_class
        assert (buffer.n_steps, buffer.gamma, buffer.alpha) == (3, 0.9, 0.5)


def test_per_trains_with_is_weights_and_writes_priorities_back():
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="per", seed=0, action_noise=normal_noise(), **SMALL)
    model.learn(400)
    buffer = model.replay_buffer
    leaves = buffer.sum_tree[np.arange(buffer.pos)]
    # sampled transitions got their own priority, the rest still hold a running max
    assert len(np.unique(leaves)) > 50
    assert buffer.max_priority >= leaves.max() - 1e-12
    model.train(gradient_steps=2, batch_size=32)
    model.replay_buffer.record(model.logger)  # what the algorithm calls after each env step
    logged = model.logger.name_to_value
    for key in ("train/beta", "train/is_weight_mean", "train/max_priority", "train/exploration_sigma", "train/critic_loss"):
        assert key in logged, key
    assert 0.0 < logged["train/is_weight_mean"] <= 1.0


def next_batch_by_hand(model, batch_size=32):
    """
    The batch and the TD3 target that ``model.train`` will use next, computed by hand: the random state is put back
    afterwards, so that the next gradient step draws the same batch and the same target-smoothing noise.
    """
    buffer = model.replay_buffer
    state = np.random.get_state(), th.get_rng_state()
    batch = buffer.sample(batch_size)
    with th.no_grad():
        noise = batch.actions.clone().data.normal_(0, model.target_policy_noise).clamp(-0.5, 0.5)
        next_actions = (model.actor_target(batch.next_observations) + noise).clamp(-1, 1)
        next_q = th.min(th.cat(model.critic_target(batch.next_observations, next_actions), dim=1), dim=1, keepdim=True)[0]
        target = batch.rewards + (1 - batch.dones) * batch.discounts * next_q
        q1, q2 = model.critic(batch.observations, batch.actions)
    np.random.set_state(state[0])
    th.set_rng_state(state[1])
    return batch, q1, q2, target


def test_per_critic_loss_is_importance_weighted():
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="per", seed=1, **SMALL)
    model.learn(150)
    buffer = model.replay_buffer
    # make the IS weights far from 1, then compare the logged loss with a hand computation on the same batch
    buffer.update_priorities(np.arange(buffer.pos), np.geomspace(1e-3, 1e2, buffer.pos))
    buffer.beta = 1.0
    batch, q1, q2, target = next_batch_by_hand(model)
    expected = (batch.weights * (q1 - target) ** 2).mean() + (batch.weights * (q2 - target) ** 2).mean()
    unweighted = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
    expected_td = th.max((q1 - target).abs(), (q2 - target).abs()).ravel().cpu().numpy()
    model.train(gradient_steps=1, batch_size=32)
    assert model.logger.name_to_value["train/critic_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert not np.isclose(expected.item(), unweighted.item(), rtol=1e-2)
    # the priorities written back are (max over critics of |delta| + eps)^alpha of that batch
    # (a slot drawn twice gets two target-smoothing noises: the later row of the batch wins)
    last = {slot: row for row, slot in enumerate(batch.indices)}
    slots, rows = np.array(list(last)), np.array(list(last.values()))
    np.testing.assert_allclose(buffer.sum_tree[slots], (expected_td[rows] + buffer.priority_eps) ** buffer.alpha, rtol=1e-5)


def test_lap_uses_huber_loss_and_clipped_priorities():
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", seed=0, **SMALL)
    model.learn(300)
    buffer = model.replay_buffer
    assert isinstance(buffer, LAPReplayBuffer) and (buffer.alpha, buffer.min_priority) == (0.4, 1.0)
    assert buffer.sum_tree[np.arange(buffer.pos)].min() >= 1.0 - 1e-12  # max(|delta|, 1)^alpha >= 1
    model.logger.name_to_value.clear()
    model.train(gradient_steps=1, batch_size=32)
    buffer.record(model.logger)
    assert "train/huber_threshold" in model.logger.name_to_value
    assert "train/beta" not in model.logger.name_to_value  # LAP has no IS weights to anneal


def test_beta_anneals_from_beta0_to_one():
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="per", replay_buffer_kwargs=dict(beta0=0.2), **SMALL)
    betas = []

    class RecordBeta(BaseCallback):
        def _on_step(self) -> bool:
            betas.append(self.model.replay_buffer.beta)
            return True

    model.learn(400, callback=EveryNTimesteps(100, RecordBeta()))
    assert betas == sorted(betas) and len(betas) == 4
    assert model.replay_buffer.beta == pytest.approx(1.0)
    # halfway through the run beta is halfway from beta0 to 1 (the callback sees the value of the step before)
    assert betas[1] == pytest.approx(0.2 + 0.8 * 199 / 400)


def test_decaying_noise_schedule_with_vec_env():
    env = DummyVecEnv([lambda: gym.make("Pendulum-v1")] * 2)
    noise = DecayingNormalActionNoise(np.zeros(1), 0.4, final_sigma=0.0)
    model = TD3X("MlpPolicy", env, action_noise=noise, **SMALL)
    model.learn(400)
    assert noise.decay_steps is None  # the user's noise object is not changed: SB3 copies it once per env
    assert isinstance(model.action_noise, VectorizedActionNoise)
    for noise in model.action_noise.noises:
        assert isinstance(noise, DecayingNormalActionNoise)
        np.testing.assert_allclose(noise.current_sigma, 0.0, atol=1e-12)  # decayed over the 400 total steps
    model.train(gradient_steps=1, batch_size=32)
    assert model.logger.name_to_value["train/exploration_sigma"] == pytest.approx(0.0, abs=1e-12)


def test_per_with_several_envs_and_timeouts():
    env = DummyVecEnv([lambda: gym.wrappers.TimeLimit(gym.make("Pendulum-v1"), 50)] * 3)
    model = TD3X("MlpPolicy", env, prioritized_replay="per", n_steps=3, seed=0, **SMALL)
    model.learn(600)
    buffer = model.replay_buffer
    assert buffer.n_envs == 3 and buffer.timeouts[: buffer.pos].any()
    batch = buffer.sample(512)
    _, envs = np.unravel_index(batch.indices, (buffer.buffer_size, 3))
    assert set(envs) == {0, 1, 2}


def noisy_decaying_per_model(env="Pendulum-v1", **kwargs):
    return TD3X(
        "NoisyMlpPolicy",
        env,
        prioritized_replay="per",
        n_steps=3,
        action_noise=DecayingNormalActionNoise(np.zeros(1), 0.3, final_sigma=0.05, decay_steps=1_000, schedule="exponential"),
        seed=0,
        **kwargs,
        **{k: v for k, v in SMALL.items() if k != "policy_kwargs"},
        policy_kwargs=dict(net_arch=[32, 32], noise_kind="independent", noisy_critic=True),
    )


def continue_exactly(model, steps):
    """Continue training from a fixed RNG and env state, so two copies of a model can be compared."""
    set_random_seed(11)
    model.env.seed(11)
    model._last_obs = None
    return model.learn(steps, reset_num_timesteps=False)


def test_save_load_continues_as_if_never_stopped(tmp_path):
    model = noisy_decaying_per_model()
    model.learn(300)
    model.save(tmp_path / "model.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")

    loaded = TD3X.load(tmp_path / "model.zip", env=gym.make("Pendulum-v1"))
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    for attr in ("prioritized_replay", "replay_buffer_kwargs", "num_timesteps", "_n_updates"):
        assert getattr(loaded, attr) == getattr(model, attr), attr
    assert (loaded.action_noise.schedule, loaded.action_noise.decay_steps) == ("exponential", 1_000)
    assert loaded.policy.actor.mu[0].noise_kind == "independent"
    buffer, loaded_buffer = model.replay_buffer, loaded.replay_buffer
    np.testing.assert_array_equal(buffer.sum_tree.tree, loaded_buffer.sum_tree.tree)
    np.testing.assert_array_equal(buffer.min_tree.tree, loaded_buffer.min_tree.tree)
    assert (loaded_buffer.beta, loaded_buffer.max_priority) == (buffer.beta, buffer.max_priority)
    np.testing.assert_array_equal(loaded.action_noise.current_sigma, model.action_noise.current_sigma)

    continue_exactly(model, 200)
    continue_exactly(loaded, 200)
    assert_same_parameters(model, loaded)
    np.testing.assert_array_equal(model.replay_buffer.sum_tree.tree, loaded.replay_buffer.sum_tree.tree)
    assert loaded.replay_buffer.beta == model.replay_buffer.beta
    np.testing.assert_array_equal(loaded.action_noise.current_sigma, model.action_noise.current_sigma)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(replay_buffer_kwargs=dict(alpha=-0.5), prioritized_replay="per"), r"alpha must be in \[0, 1\]"),
        (dict(replay_buffer_kwargs=dict(beta0=1.2), prioritized_replay="per"), r"beta0 must be in \[0, 1\]"),
        (dict(replay_buffer_kwargs=dict(beta0=-0.1), prioritized_replay="per"), "beta0"),
        (dict(replay_buffer_kwargs=dict(priority_eps=0.0), prioritized_replay="per"), "priority_eps must be > 0"),
        (dict(replay_buffer_kwargs=dict(min_priority=-1.0), prioritized_replay="lap"), "min_priority must be > 0"),
        (dict(n_steps=0), "n_steps"),
        (dict(prioritized_replay="rank"), "prioritized_replay"),
        (dict(prioritized_replay="per", replay_buffer_class=LAPReplayBuffer), "prioritized_replay"),
        (dict(policy_kwargs=dict(noise_kind="gaussian")), "noise_kind"),
        (dict(prioritized_replay="lap", replay_buffer_kwargs=dict(threshold_scale="loss")), "threshold_scale must be"),
        (dict(prioritized_replay="lap", replay_buffer_kwargs=dict(max_priority_reset=0)), "max_priority_reset must be"),
        (dict(prioritized_replay="per", replay_buffer_kwargs=dict(max_priority_reset=2.5)), "max_priority_reset"),
        (dict(replay_buffer_kwargs=dict(max_priority_reset=250)), r"replay_buffer_kwargs\['max_priority_reset'\].*needs"),
        (
            dict(prioritized_replay="per", replay_buffer_kwargs=dict(is_weight_normalization="global")),
            "is_weight_normalization must be",
        ),
        # a setting of the other kind names the kind it belongs to
        (
            dict(prioritized_replay="lap", replay_buffer_kwargs=dict(is_weight_normalization="batch")),
            r"LAPReplayBuffer takes .* \(is_weight_normalization is PrioritizedReplayBuffer's: prioritized_replay='per'\)",
        ),
        (dict(prioritized_replay="per", replay_buffer_kwargs=dict(threshold_scale="td_error")), "LAPReplayBuffer's"),
        (
            dict(prioritized_replay="lap", replay_buffer_kwargs=dict(beta=0.4)),
            r"\[.beta.\]: LAPReplayBuffer takes .*alpha, min_priority",
        ),
        (dict(prioritized_replay="lap", replay_buffer_kwargs=[("alpha", 0.4)]), "replay_buffer_kwargs must be a dict"),
    ],
)
def test_bad_input_is_rejected_before_training(kwargs, match):
    policy = "NoisyMlpPolicy" if "policy_kwargs" in kwargs else "MlpPolicy"
    with pytest.raises(ValueError, match=match):
        TD3X(policy, "Pendulum-v1", **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(alpha=0.5), "TD3X: alpha is a setting of the replay buffer now: replay_buffer_kwargs=dict(alpha=0.5)"),
        (dict(lap_threshold="td_error"), "replay_buffer_kwargs=dict(threshold_scale='td_error')"),
        (dict(max_priority_reset=250), "replay_buffer_kwargs=dict(max_priority_reset=250)"),
        (dict(noise_schedule="linear"), "action_noise=DecayingNormalActionNoise(mean, sigma, schedule='linear')"),
        (dict(noise_final_std=0.05), "DecayingNormalActionNoise(mean, sigma, final_sigma=0.05)"),
    ],
)
def test_an_argument_of_an_earlier_version_says_its_new_spelling(kwargs, message):
    with pytest.raises(TypeError) as error:
        TD3X("MlpPolicy", "Pendulum-v1", **kwargs)
    assert str(error.value).startswith("TD3X: ") and message in str(error.value) and "\n" not in str(error.value)


def test_the_users_replay_buffer_kwargs_are_not_changed():
    settings = dict(alpha=0.5)
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", n_steps=3, replay_buffer_kwargs=settings, **SMALL)
    assert settings == dict(alpha=0.5) and model.replay_buffer_kwargs["n_steps"] == 3


@pytest.mark.parametrize("algorithm", ["TD3X", "TD7", "SACX", "DDPGX"])
def test_discrete_actions_are_refused_as_sb3_refuses_them(algorithm):
    import sb3_td3x

    # A ValueError that names the algorithm and the space, and an AssertionError, as SB3's own check raises
    with pytest.raises(ValueError, match=f"env: {algorithm} needs a continuous gymnasium.spaces.Box action space"):
        getattr(sb3_td3x, algorithm)("MlpPolicy", "CartPole-v1")
    with pytest.raises(AssertionError):
        getattr(sb3_td3x, algorithm)("MlpPolicy", "CartPole-v1")
    if algorithm == "TD3X":
        with pytest.raises(ValueError, match="continuous"):
            TD3X("NoisyMlpPolicy", "CartPole-v1")


def test_learns_pendulum_with_all_extras_on():
    set_random_seed(0)
    model = TD3X(
        "NoisyMlpPolicy",
        "Pendulum-v1",
        learning_rate=1e-3,
        gamma=0.98,
        buffer_size=20_000,
        learning_starts=1_000,
        batch_size=128,
        n_steps=3,
        prioritized_replay="per",
        action_noise=DecayingNormalActionNoise(np.zeros(1), 0.1, final_sigma=0.02),
        policy_kwargs=dict(net_arch=[64, 64], noise_kind="factorized"),
        seed=0,
    )
    model.learn(8_000)
    eval_env = Monitor(gym.make("Pendulum-v1"))
    eval_env.reset(seed=123)
    mean_return, _ = evaluate_policy(model, eval_env, n_eval_episodes=10, deterministic=True)
    assert mean_return > -400


def test_lap_reward_scale_sets_the_huber_threshold():
    settings = dict(threshold_scale="reward", min_priority=0.5)
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", replay_buffer_kwargs=settings, seed=0, **SMALL)
    model.learn(300)
    buffer = model.replay_buffer
    assert isinstance(buffer, LAPReplayBuffer) and buffer.threshold_scale == "reward"
    # Pendulum's rewards are about -1 to -16 per step: the threshold is 0.5 times their mean size, not 0.5 (set when
    # the last round of updates started, after the last transition came in)
    scale = np.abs(buffer.rewards[: buffer.pos]).mean()
    assert scale > 1.0
    assert buffer.priority_floor == pytest.approx(0.5 * scale, rel=1e-4)
    buffer.record(model.logger)
    assert model.logger.name_to_value["train/huber_threshold"] == pytest.approx(0.5 * scale, rel=1e-4)
    # A small TD error is clipped at the current floor
    buffer.update_priorities(np.arange(5), np.zeros(5))
    np.testing.assert_allclose(buffer.sum_tree[np.arange(5)], buffer.priority_floor**0.4)


def test_lap_critic_loss_uses_the_scaled_threshold():
    settings = dict(threshold_scale="reward")
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", replay_buffer_kwargs=settings, seed=1, **SMALL)
    model.learn(250)
    buffer = model.replay_buffer
    buffer.record(model.logger)  # the logs of learn()'s last updates: the next record is this test's update's
    delta = buffer.update_priority_floor()
    _, q1, q2, target = next_batch_by_hand(model)
    expected = sum(th.nn.functional.huber_loss(q, target, delta=delta) for q in (q1, q2))
    unscaled = sum(th.nn.functional.huber_loss(q, target, delta=1.0) for q in (q1, q2))
    linear = th.cat([q1 - target, q2 - target], dim=1).abs().gt(delta).float().mean()
    model.train(gradient_steps=1, batch_size=32)
    buffer.record(model.logger)
    logged = model.logger.name_to_value
    assert logged["train/critic_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert abs(expected.item() - unscaled.item()) > 1e-3  # the threshold made a difference
    assert logged["train/huber_linear_frac"] == pytest.approx(linear.item())


def test_max_priority_reset_keeps_the_largest_stored_priority():
    kwargs = dict(SMALL, buffer_size=150, seed=0)
    every_step = dict(max_priority_reset=1)
    reset = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", replay_buffer_kwargs=every_step, **kwargs).learn(400)
    never = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", **kwargs).learn(400)
    # Reset after every gradient step: new transitions enter at the largest priority still in the buffer
    assert reset.replay_buffer.max_priority == pytest.approx(reset.replay_buffer.stored_priorities().max())
    # Never reset: the largest priority ever seen, which the full buffer (150 < 400 steps) may no longer hold
    assert never.replay_buffer.max_priority >= never.replay_buffer.stored_priorities().max()


def test_per_batch_normalized_weights_reach_the_buffer():
    settings = dict(is_weight_normalization="batch")
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="per", replay_buffer_kwargs=settings, **SMALL)
    assert model.replay_buffer.is_weight_normalization == "batch"
    model.learn(300)
    assert model.replay_buffer.sample(32).weights.max().item() == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["none", "per", "lap"])
def test_diagnostics_are_logged(kind):
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay=kind, seed=0, **SMALL).learn(300)
    logged = model.logger.name_to_value
    assert logged["train/td_error_abs_mean"] > 0.0
    if kind == "none":
        assert not any(key in logged for key in ("train/sampling_ess", "train/huber_linear_frac", "train/max_priority"))
        return
    stats = model.replay_buffer.priority_stats()
    assert 0.0 < logged["train/sampling_ess"] <= 1.0
    assert logged["train/priority_p50"] <= logged["train/priority_p99"] <= model.replay_buffer.max_priority
    assert set(stats) == {"priority_p50", "priority_p99", "sampling_ess"}
    assert ("train/huber_linear_frac" in logged) == (kind == "lap") == ("train/huber_threshold" in logged)


def test_new_options_survive_save_load(tmp_path):
    settings = dict(threshold_scale="td_error", max_priority_reset=5)
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", replay_buffer_kwargs=settings, **SMALL).learn(200)
    model.save(tmp_path / "model")
    loaded = TD3X.load(tmp_path / "model", env=gym.make("Pendulum-v1"))
    assert loaded.replay_buffer_kwargs == {**settings, "n_steps": 1, "gamma": 0.99}
    buffer = loaded.replay_buffer
    assert isinstance(buffer, LAPReplayBuffer) and (buffer.threshold_scale, buffer.max_priority_reset) == ("td_error", 5)
    # the new buffer of the loaded model counts on from its updates, so that the resets stay in phase
    assert buffer.n_updates == loaded._n_updates == model._n_updates > 0


def test_lap_td_error_threshold_follows_the_td_errors():
    settings = dict(threshold_scale="td_error")
    model = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", replay_buffer_kwargs=settings, seed=0, **SMALL)
    model.learn(300)
    buffer = model.replay_buffer
    assert buffer.threshold_scale == "td_error" and buffer.td_error_scale > 0.0
    # A new round of updates (the first sample after a new transition) uses min_priority (1) times the running mean
    # |TD error| of the rounds before as its Huber threshold
    model.learn(1, reset_num_timesteps=False)  # one transition, one round of one update
    scale = buffer.td_error_scale
    assert buffer.priority_floor == pytest.approx(scale)
    buffer.record(model.logger)
    assert model.logger.name_to_value["train/huber_threshold"] == pytest.approx(scale)
    last_round = model.logger.name_to_value["train/td_error_abs_mean"]
    # ... and the next round takes that round's mean |TD error| into the running mean first
    model.learn(1, reset_num_timesteps=False)
    assert buffer.td_error_scale == pytest.approx(scale + 0.01 * (last_round - scale))
    assert buffer.priority_floor == pytest.approx(buffer.td_error_scale)


@pytest.mark.parametrize("kind", ["none", "per"])
def test_a_lap_setting_without_lap_is_refused(kind):
    # A zoo entry that sets LAP's threshold_scale and a command line that switches LAP off: the whole
    # replay_buffer_kwargs is overridden with the kind, or the run stops before anything is built
    with pytest.raises(ValueError, match="threshold_scale"):
        TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay=kind, replay_buffer_kwargs=dict(threshold_scale="td_error"))


def test_action_saturation_counts_components_at_the_bounds():
    actions = th.tensor([[1.0, 0.995, 0.5], [-0.999, -0.98, 0.0]])
    assert action_saturation(actions) == pytest.approx(3 / 6)
    assert action_saturation(actions, margin=0.05) == pytest.approx(4 / 6)
    assert action_saturation(th.zeros(4, 2)) == 0.0


def test_actor_saturation_is_logged_and_sees_an_actor_stuck_at_the_bound():
    model = TD3X("MlpPolicy", "Pendulum-v1", seed=0, action_noise=normal_noise(), **SMALL)
    model.learn(300)
    assert 0.0 <= model.logger.name_to_value["train/actor_saturation"] < 0.5
    with th.no_grad():  # push the last layer's pre-activation far past tanh's slope: every action at +1
        model.actor.mu[-2].bias.fill_(50.0)
    model.train(gradient_steps=4, batch_size=32)
    assert model.logger.name_to_value["train/actor_saturation"] == 1.0
