"""DQNX, SACX and DDPGX: TD3X's prioritized replay behind SB3's other off-policy algorithms, tested alike."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import DDPG, DQN, SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.envs import SimpleMultiObsEnv
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.vec_env import VecNormalize

from sb3_td3x import DDPGX, DQNX, SACX, LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.dqnx import NoisyDQNPolicy

# (SB3 parent, ours, env, loss with uniform replay)
ALGOS = [(DQN, DQNX, "CartPole-v1", "huber"), (SAC, SACX, "Pendulum-v1", "mse"), (DDPG, DDPGX, "Pendulum-v1", "mse")]
IDS = ["dqn", "sac", "ddpg"]


def small(algo, **changes):
    """Tiny settings, a new dict each time (SB3 writes into policy_kwargs)."""
    kwargs = dict(learning_starts=100, batch_size=32, buffer_size=2_000, policy_kwargs=dict(net_arch=[32, 32]), seed=3)
    kwargs.update(train_freq=2, gradient_steps=3)
    if algo in (DQN, DQNX):
        kwargs.update(target_update_interval=50)
    if algo in (DDPG, DDPGX):
        kwargs.update(action_noise=NormalActionNoise(np.zeros(1), 0.2 * np.ones(1)))
    kwargs.update(changes)
    return kwargs


def same_parameters(model_a, model_b):
    state_a, state_b = model_a.policy.state_dict(), model_b.policy.state_dict()
    return state_a.keys() == state_b.keys() and all(th.equal(state_a[key], state_b[key]) for key in state_a)


@pytest.mark.parametrize("n_steps", [1, 3])
@pytest.mark.parametrize("parent, algo, env_id, _", ALGOS, ids=IDS)
def test_every_extra_off_is_sb3s_algorithm(parent, algo, env_id, _, n_steps):
    stock = parent("MlpPolicy", env_id, n_steps=n_steps, **small(parent)).learn(500)
    ours = algo("MlpPolicy", env_id, n_steps=n_steps, **small(algo)).learn(500)
    assert ours._n_updates == stock._n_updates > 0
    assert type(ours.replay_buffer) is type(stock.replay_buffer)
    assert same_parameters(stock, ours)


class Spy:
    """Records the batch each gradient step samples and the Q-values / targets its loss saw."""

    def __init__(self, model):
        self.batches, self.losses = [], []
        buffer = model.replay_buffer
        sample, batch_loss = buffer.sample, buffer.batch_loss

        def spy_sample(*args, **kwargs):
            self.batches.append(sample(*args, **kwargs))
            return self.batches[-1]

        def spy_loss(current_q_values, target_q_values, replay_data, loss="mse"):
            result = batch_loss(current_q_values, target_q_values, replay_data, loss)
            self.losses.append(([q.detach().clone() for q in current_q_values], target_q_values.clone(), result[0].item()))
            return result

        buffer.sample, buffer.batch_loss = spy_sample, spy_loss


@pytest.mark.parametrize("kind", ["per", "lap"])
@pytest.mark.parametrize("parent, algo, env_id, loss", ALGOS, ids=IDS)
def test_loss_and_priorities_against_a_brute_force_computation(parent, algo, env_id, loss, kind):
    model = algo("MlpPolicy", env_id, prioritized_replay=kind, n_steps=3, **small(algo, gradient_steps=1))
    model.learn(300)
    spy = Spy(model)
    model.train(gradient_steps=1, batch_size=32)
    (batch,), ((current, target, loss_value),) = spy.batches, spy.losses
    buffer = model.replay_buffer
    delta = th.cat([q - target for q in current], dim=1).abs().max(dim=1).values.numpy().astype(np.float64)
    per_sample = (lambda x: x**2) if loss == "mse" else (lambda x: th.where(x.abs() < 1, 0.5 * x**2, x.abs() - 0.5))
    if kind == "per":
        expected_priority = (delta + buffer.priority_eps) ** buffer.alpha
        weights = batch.weights
        expected_loss = sum((weights * per_sample(q - target)).mean() for q in current)
    else:
        # LAP's paper values, not read from the buffer: priorities max(|delta|, 1) ** 0.4, a Huber loss of threshold 1
        floor, alpha = 1.0, 0.4
        expected_priority = np.maximum(delta, floor) ** alpha

        def huber(x: th.Tensor) -> th.Tensor:
            return th.where(x.abs() < floor, 0.5 * x**2, floor * (x.abs() - 0.5 * floor)).mean()

        expected_loss = sum(huber(q - target) for q in current)
    # The loss of the batch, summed over the Q-networks (SAC then halves it, as SB3 does)
    assert loss_value == pytest.approx(expected_loss.item(), rel=1e-5)
    # Where a slot was drawn twice, its last priority stays
    last = {int(index): i for i, index in enumerate(batch.indices)}
    stored = buffer.stored_priorities()[np.array(list(last))]
    np.testing.assert_allclose(stored, expected_priority[list(last.values())], rtol=1e-5)
    if algo is DQNX:
        # DQN's target by hand: r + gamma^n (1 - done) max_a Q_target(s', a), SB3's n-step discount included
        with th.no_grad():
            next_q = model.q_net_target(batch.next_observations).max(dim=1).values.reshape(-1, 1)
        th.testing.assert_close(target, batch.rewards + (1 - batch.dones) * batch.discounts * next_q)


@pytest.mark.parametrize("parent, algo, env_id, _", ALGOS, ids=IDS)
def test_several_envs_vecnormalize_callbacks_and_all_gradient_steps(parent, algo, env_id, _):
    env = VecNormalize(make_vec_env(env_id, n_envs=2, seed=0))
    calls = []

    class Count(BaseCallback):
        def _on_step(self) -> bool:
            calls.append(self.num_timesteps)
            return True

    kwargs = small(algo, gradient_steps=-1, learning_starts=50)
    model = algo("MlpPolicy", env, prioritized_replay="per", n_steps=3, **kwargs).learn(400, callback=Count())
    buffer = model.replay_buffer
    assert isinstance(buffer, PrioritizedReplayBuffer) and buffer.n_envs == 2 and buffer.n_steps == 3
    assert len(calls) == 200 and model.num_timesteps == 400
    # Every stored slot of both envs has a priority, and training moved some of them off the starting one
    stored = buffer.stored_priorities()
    assert stored.size == 400 and np.all(stored > 0) and np.unique(stored).size > 10
    assert buffer.beta == pytest.approx(1.0)  # annealed from 0.4 over the run


@pytest.mark.parametrize("parent, algo, env_id, _", ALGOS, ids=IDS)
def test_save_load_with_the_buffer_and_its_priorities(parent, algo, env_id, _, tmp_path):
    settings = dict(max_priority_reset=7)
    model = algo("MlpPolicy", env_id, prioritized_replay="lap", replay_buffer_kwargs=settings, **small(algo)).learn(400)
    model.save(tmp_path / "model.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")
    loaded = algo.load(tmp_path / "model.zip", env=gym.make(env_id))
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    assert loaded.prioritized_replay == "lap" and isinstance(loaded.replay_buffer, LAPReplayBuffer)
    assert loaded.replay_buffer.max_priority_reset == 7 and loaded.replay_buffer.n_updates == model._n_updates
    np.testing.assert_array_equal(loaded.replay_buffer.sum_tree.tree, model.replay_buffer.sum_tree.tree)
    np.testing.assert_array_equal(loaded.replay_buffer.min_tree.tree, model.replay_buffer.min_tree.tree)
    assert loaded.replay_buffer.max_priority == model.replay_buffer.max_priority
    assert same_parameters(model, loaded)
    loaded.learn(100, reset_num_timesteps=False)
    assert loaded.num_timesteps == 500


@pytest.mark.parametrize("kind", ["none", "lap"])
@pytest.mark.parametrize("parent, algo, env_id, _", ALGOS, ids=IDS)
def test_load_leaves_the_callers_replay_buffer_kwargs_as_they_were(parent, algo, env_id, _, kind, tmp_path):
    # RL Zoo resumes a run with load(path, **hyperparams) and writes those hyperparams to config.yml afterwards: the
    # buffer's n_steps / gamma go into the model's own copy, not into the caller's dict
    # (n_steps and gamma other than NStepReplayBuffer's defaults: the loaded buffer takes the model's, also for SB3's
    # own n-step buffer, which SB3 fills in only when it picks the class itself)
    settings = dict(max_priority_reset=7) if kind == "lap" else dict(handle_timeout_termination=True)
    model = algo(
        "MlpPolicy", env_id, prioritized_replay=kind, n_steps=5, replay_buffer_kwargs=dict(settings), **small(algo, gamma=0.9)
    )
    model.save(tmp_path / "model.zip")
    given = dict(settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nor SB3's "n_steps is ignored" warning
        loaded = algo.load(tmp_path / "model.zip", env=gym.make(env_id), replay_buffer_kwargs=given)
    assert given == settings
    assert (loaded.replay_buffer.n_steps, loaded.replay_buffer.gamma) == (5, 0.9)
    assert loaded.replay_buffer_kwargs is not given


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(prioritized_replay="rank"), "prioritized_replay"),
        (dict(prioritized_replay="per", replay_buffer_kwargs=dict(alpha=-1.0)), "alpha"),
        (dict(prioritized_replay="per", replay_buffer_kwargs=dict(beta0=2.0)), "beta0"),
        (dict(prioritized_replay="lap", replay_buffer_kwargs=dict(min_priority=0.0)), "min_priority"),
        (
            dict(prioritized_replay="lap", replay_buffer_kwargs=dict(is_weight_normalization="batch")),
            "is_weight_normalization",
        ),
        (dict(replay_buffer_kwargs=dict(max_priority_reset=10)), "max_priority_reset"),
        (dict(prioritized_replay="per", replay_buffer_class=LAPReplayBuffer), "replay_buffer_class"),
        (dict(n_steps=0), "n_steps"),
        (dict(n_steps=3, optimize_memory_usage=True, replay_buffer_kwargs=dict(handle_timeout_termination=False)), "optimize"),
    ],
)
@pytest.mark.parametrize("parent, algo, env_id, _", ALGOS, ids=IDS)
def test_bad_input_is_refused_before_anything_is_built(parent, algo, env_id, _, kwargs, match):
    with pytest.raises(ValueError, match=match):
        algo("MlpPolicy", env_id, **kwargs)


def test_dict_observations_with_prioritized_replay_are_refused():
    with pytest.raises(ValueError, match="observation_space"):
        DQNX("MultiInputPolicy", SimpleMultiObsEnv(), prioritized_replay="per")
    with pytest.raises(ValueError, match="observation_space"):
        DQNX("MultiInputPolicy", SimpleMultiObsEnv(), n_steps=3)
    DQNX("MultiInputPolicy", SimpleMultiObsEnv(), buffer_size=100)  # uniform 1-step replay: SB3's, fine


def test_ddpgx_refuses_td3s_tricks():
    # as SB3's DDPG, whose constructor has none of them
    with pytest.raises(TypeError, match="policy_delay"):
        DDPGX("MlpPolicy", "Pendulum-v1", policy_delay=2)
    with pytest.raises(TypeError, match="DDPGX: alpha is a setting of the replay buffer now"):
        DDPGX("MlpPolicy", "Pendulum-v1", alpha=0.5)
    model = DDPGX("MlpPolicy", "Pendulum-v1", policy_kwargs=dict(net_arch=[8]))
    assert model.policy.critic.n_critics == 1 and model.policy_delay == 1


def test_noisy_dqn_replaces_epsilon_greedy():
    model = DQNX("NoisyMlpPolicy", "CartPole-v1", **small(DQNX, policy_kwargs=dict(net_arch=[32], noise_kind="factorized")))
    assert isinstance(model.policy, NoisyDQNPolicy)
    model.learn(300)
    assert model.exploration_rate == 0.0
    obs = model.env.reset()
    # Mean weights when deterministic: the same Q-values every time; fresh noise otherwise
    obs_tensor = th.as_tensor(obs)
    with th.no_grad():
        first = model.q_net(obs_tensor).clone()
        model.policy.q_net._predict(obs_tensor, deterministic=True)
        model.policy.q_net._predict(obs_tensor, deterministic=False)
        assert not th.equal(model.q_net(obs_tensor), first)  # the noise moved
    acts = {int(model.predict(obs, deterministic=True)[0][0]) for _ in range(5)}
    assert len(acts) == 1
    # The online network and its target draw their noise independently
    layer, target_layer = model.q_net.q_net[0], model.q_net_target.q_net[0]
    assert not th.equal(layer.weight_epsilon, target_layer.weight_epsilon)


@pytest.mark.parametrize("kind", ["per", "lap"])
@pytest.mark.parametrize("parent, algo, env_id, _", ALGOS, ids=IDS)
def test_the_logger_shows_the_replay(parent, algo, env_id, _, kind):
    # What reaches the console, CSV and TensorBoard outputs of SB3's logger
    model = algo("MlpPolicy", env_id, prioritized_replay=kind, **small(algo)).learn(400)
    logged = model.logger.name_to_value
    # (logged after each env step: the values of the updates before the last one; the max priority only grows)
    assert logged["train/td_error_abs_mean"] > 0.0 and 0.0 < logged["train/max_priority"] <= model.replay_buffer.max_priority
    assert 0.0 < logged["train/sampling_ess"] <= 1.0
    assert ("train/beta" in logged) == (kind == "per") == ("train/is_weight_mean" in logged)
    assert ("train/huber_threshold" in logged) == (kind == "lap") == ("train/huber_linear_frac" in logged)


def test_constructors_are_sb3s_plus_what_each_algorithm_adds():
    import inspect

    from stable_baselines3 import TD3

    from sb3_td3x import TD3X, TD7

    # (ours, the SB3 parent its arguments are counted against: TD7's against TD3's)
    for algorithm, parent in [(TD3X, TD3), (SACX, SAC), (DQNX, DQN), (DDPGX, DDPG), (TD7, TD3)]:
        ours, theirs = (set(inspect.signature(cls).parameters) for cls in (algorithm, parent))
        extra = ours - theirs
        assert "prioritized_replay" in extra and len(extra) <= 5, (algorithm.__name__, sorted(extra))
        assert not extra & {"alpha", "beta0", "lap_threshold", "max_priority_reset", "noise_schedule"}


@pytest.mark.parametrize("kind", ["none", "per", "lap"])
def test_train_calls_its_replay_twice_per_gradient_step(kind):
    from sb3_td3x import TD3X, TD7
    from sb3_td3x.common.indexed_buffer import ReplayHooks

    # every public method of the replay's hooks, spied on (train() may call any, and reaches them through _replay)
    hooks = [name for name in dir(ReplayHooks) if not name.startswith("_") and callable(getattr(ReplayHooks, name))]
    builds = [
        (TD3X, "Pendulum-v1", dict(n_steps=3)),
        (SACX, "Pendulum-v1", {}),
        (DQNX, "CartPole-v1", {}),
        (DDPGX, "Pendulum-v1", {}),
        (TD7, "Pendulum-v1", dict(policy_kwargs=dict(net_arch=[8, 8, 8], zs_dim=4, encoder_net_arch=[8]))),
    ]

    def spy(calls, name, method):
        def called(*args, **kwargs):
            calls.append(name)
            return method(*args, **kwargs)

        return called

    for algorithm, env_id, changes in builds:
        kwargs = small(algorithm, **changes)
        if algorithm is TD7:
            kwargs.update(policy_checkpoints=False, train_freq=1, gradient_steps=1)
        model = algorithm("MlpPolicy", env_id, prioritized_replay=kind, **kwargs).learn(150)
        replay = model._replay
        calls: list[str] = []
        for name in hooks:
            setattr(replay, name, spy(calls, name, getattr(replay, name)))
        model.train(gradient_steps=3, batch_size=16)
        assert calls == ["batch_loss", "after_update"] * 3, (algorithm.__name__, calls)


@pytest.mark.parametrize("replay_buffer_class", [None, "DictReplayBuffer", "HerReplayBuffer"])
def test_n_steps_with_dict_observations_as_sb3(replay_buffer_class):
    # SB3's own rule (its test_n_step_replay.py): refused on the default path with an AssertionError that names Dict
    # observation spaces (ours is also a ValueError); a buffer class of the user's ignores n_steps, with SB3's warning
    from stable_baselines3.common import buffers
    from stable_baselines3.common.envs import BitFlippingEnv

    from sb3_td3x import TD3X

    for algorithm in (SACX, TD3X):
        env = BitFlippingEnv(n_bits=4, continuous=True)
        if replay_buffer_class is None:
            with pytest.raises(AssertionError, match="Dict observation spaces"):
                algorithm("MultiInputPolicy", env, n_steps=3, buffer_size=200)
            with pytest.raises(ValueError, match="prioritized replay does not support Dict observation spaces"):
                algorithm("MultiInputPolicy", env, prioritized_replay="per", buffer_size=200)
        else:
            buffer_class = getattr(buffers, replay_buffer_class, None)
            if buffer_class is None:
                from stable_baselines3 import HerReplayBuffer as buffer_class
            with pytest.warns(UserWarning, match="n_steps=3"):
                model = algorithm("MultiInputPolicy", env, n_steps=3, buffer_size=200, replay_buffer_class=buffer_class)
            assert type(model.replay_buffer) is buffer_class
