import warnings

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import NStepReplayBuffer
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from sb3_td3x.common.buffers import LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.common.indexed_buffer import IndexedReplayBuffer

OBS_SPACE = spaces.Box(-np.inf, np.inf, shape=(3,), dtype=np.float32)
ACT_SPACE = spaces.Box(-1, 1, shape=(2,), dtype=np.float32)


def fill(buffers, n_rows, n_envs, seed=0, done_prob=0.15, timeout_prob=0.1):
    """Add the same random transitions (with episode ends and time-limit truncations) to every buffer.
    Observations encode (row, env) so a sample can be traced back to its slot."""
    rng = np.random.default_rng(seed)
    for row in range(n_rows):
        obs = np.array([[row, env, 0.0] for env in range(n_envs)], dtype=np.float32)
        next_obs = obs + np.array([0.0, 0.0, 1.0], dtype=np.float32)
        action = rng.uniform(-1, 1, size=(n_envs, 2)).astype(np.float32)
        reward = rng.normal(size=n_envs).astype(np.float32)
        ends = rng.uniform(size=n_envs) < done_prob + timeout_prob
        truncated = ends & (rng.uniform(size=n_envs) < timeout_prob / (done_prob + timeout_prob))
        infos = [{"TimeLimit.truncated": bool(t)} for t in truncated]
        for buffer in buffers:
            buffer.add(obs, next_obs, action, reward, ends, infos)


@pytest.mark.parametrize("n_steps", [1, 3, 5])
@pytest.mark.parametrize("n_envs", [1, 3])
@pytest.mark.parametrize("n_rows", [37, 200])  # 200 > buffer_size: wrapped around
@pytest.mark.parametrize("buffer_class", [PrioritizedReplayBuffer, LAPReplayBuffer])
def test_nstep_samples_match_sb3(buffer_class, n_steps, n_envs, n_rows):
    kwargs = dict(device="cpu", n_envs=n_envs, n_steps=n_steps, gamma=0.9)
    ours = buffer_class(64 * n_envs, OBS_SPACE, ACT_SPACE, **kwargs)
    reference = NStepReplayBuffer(64 * n_envs, OBS_SPACE, ACT_SPACE, **kwargs)
    fill([ours, reference], n_rows, n_envs)
    batch_inds = np.arange(ours.buffer_size if ours.full else ours.pos)
    # SB3 draws the env index inside _get_samples: replay its draw for ours
    np.random.seed(123)
    expected = reference._get_samples(batch_inds)
    np.random.seed(123)
    env_indices = np.random.randint(0, n_envs, size=batch_inds.shape)
    got = ours._get_samples(batch_inds, env_indices=env_indices)
    for field in ("observations", "actions", "next_observations", "dones", "rewards", "discounts"):
        th.testing.assert_close(getattr(got, field), getattr(expected, field), rtol=0, atol=0, msg=field)
    # the pos-1 trick is temporary: the stored timeouts are left as they were
    np.testing.assert_array_equal(ours.timeouts, reference.timeouts)


@pytest.mark.parametrize("n_steps", [1, 3])
def test_nstep_samples_match_sb3_with_vec_normalize(n_steps):
    # Observations and rewards go through VecNormalize exactly as in SB3's buffer (one-step fast path included)
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), gamma=0.9)
    venv.obs_rms.mean, venv.obs_rms.var = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.25, 9.0])
    venv.ret_rms.var = np.array(7.0)
    kwargs = dict(device="cpu", n_envs=2, n_steps=n_steps, gamma=0.9)
    ours = PrioritizedReplayBuffer(128, OBS_SPACE, ACT_SPACE, **kwargs)
    reference = NStepReplayBuffer(128, OBS_SPACE, ACT_SPACE, **kwargs)
    fill([ours, reference], 100, 2)
    batch_inds = np.arange(ours.buffer_size if ours.full else ours.pos)
    np.random.seed(7)
    expected = reference._get_samples(batch_inds, env=venv)
    np.random.seed(7)
    env_indices = np.random.randint(0, 2, size=batch_inds.shape)
    got = ours._get_samples(batch_inds, env=venv, env_indices=env_indices)
    for field in ("observations", "actions", "next_observations", "dones", "rewards", "discounts"):
        th.testing.assert_close(getattr(got, field), getattr(expected, field), rtol=0, atol=0, msg=field)
    # the normalization did happen
    assert not th.equal(got.observations, ours.to_torch(ours.observations[batch_inds, env_indices]))


@pytest.mark.parametrize("n_steps", [1, 3])
@pytest.mark.parametrize("n_envs", [1, 3])
def test_indexed_buffer_samples_are_sb3s_and_name_their_slots(n_steps, n_envs):
    kwargs = dict(device="cpu", n_envs=n_envs, n_steps=n_steps, gamma=0.9)
    ours = IndexedReplayBuffer(64 * n_envs, OBS_SPACE, ACT_SPACE, **kwargs)
    reference = NStepReplayBuffer(64 * n_envs, OBS_SPACE, ACT_SPACE, **kwargs)
    fill([ours, reference], 100, n_envs)  # wrapped around
    np.random.seed(5)
    expected = reference.sample(300)
    np.random.seed(5)
    got = ours.sample(300)
    # Same random state, same batch as SB3's uniform n-step buffer
    for field in ("observations", "actions", "next_observations", "dones", "rewards", "discounts"):
        th.testing.assert_close(getattr(got, field), getattr(expected, field), rtol=0, atol=0, msg=field)
    rows, envs = np.unravel_index(got.indices, (ours.buffer_size, n_envs))
    np.testing.assert_array_equal(got.observations[:, 0].numpy() % ours.buffer_size, rows)  # fill()'s row, wrapped
    np.testing.assert_array_equal(got.observations[:, 1].numpy(), envs)
    # The one-step next observation of each slot (fill() stores obs + [0, 0, 1]), whatever n_steps is
    one_step = got.one_step_next_observations
    th.testing.assert_close(one_step, got.observations + th.tensor([0.0, 0.0, 1.0]), rtol=0, atol=0)
    n_step_differs = (got.next_observations[:, 0] != got.observations[:, 0]).any().item()
    assert n_step_differs == (n_steps > 1)  # the n-step sample's next observation is a later slot's


def test_one_step_next_observations_are_normalized_like_the_samples():
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), gamma=0.9)
    venv.obs_rms.mean, venv.obs_rms.var = np.array([1.0, -2.0, 0.5]), np.array([4.0, 0.25, 9.0])
    buffer = IndexedReplayBuffer(128, OBS_SPACE, ACT_SPACE, device="cpu", n_steps=3)
    fill([buffer], 50, 1)
    samples = buffer.sample(16, env=venv)
    raw_next = buffer.next_observations[samples.indices, 0]
    expected = (raw_next - venv.obs_rms.mean) / np.sqrt(venv.obs_rms.var + venv.epsilon)
    expected = np.clip(expected, -venv.clip_obs, venv.clip_obs)
    np.testing.assert_allclose(samples.one_step_next_observations.numpy(), expected, rtol=1e-5)
    # a prioritized buffer's samples carry them too
    lap = LAPReplayBuffer(128, OBS_SPACE, ACT_SPACE, device="cpu", n_steps=3)
    fill([lap], 50, 1)
    lap_samples = lap.sample(16)
    np.testing.assert_array_equal(
        lap_samples.one_step_next_observations.numpy(), lap.next_observations[lap_samples.indices, 0]
    )


def test_indexed_buffer_rejects_dict_observations_and_bad_n_steps():
    with pytest.raises(ValueError, match="observation_space"):
        IndexedReplayBuffer(8, spaces.Dict({"a": OBS_SPACE}), ACT_SPACE, device="cpu")
    with pytest.raises(ValueError, match="n_steps"):
        IndexedReplayBuffer(8, OBS_SPACE, ACT_SPACE, device="cpu", n_steps=0)
    with pytest.raises(RuntimeError, match="empty"):
        IndexedReplayBuffer(8, OBS_SPACE, ACT_SPACE, device="cpu").sample(4)


@pytest.mark.parametrize("n_envs", [1, 4])
def test_sampled_indices_address_the_right_slot(n_envs):
    buffer = PrioritizedReplayBuffer(50 * n_envs, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=n_envs, n_steps=2)
    fill([buffer], 30, n_envs)
    np.random.seed(0)
    samples = buffer.sample(256)
    rows, envs = np.unravel_index(samples.indices, (buffer.buffer_size, n_envs))
    obs = samples.observations.numpy()
    np.testing.assert_array_equal(obs[:, 0], rows)
    np.testing.assert_array_equal(obs[:, 1], envs)
    assert samples.indices.max() < 30 * n_envs
    assert set(np.unique(envs)) == set(range(n_envs))


def test_new_transitions_enter_at_max_priority():
    buffer = PrioritizedReplayBuffer(100, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=2, alpha=0.5)
    fill([buffer], 5, 2)
    np.testing.assert_array_equal(buffer.sum_tree[np.arange(10)], np.ones(10))
    buffer.update_priorities(np.array([0, 3]), np.array([8.0, 2.0]))
    fill([buffer], 1, 2)
    expected = (8.0 + buffer.priority_eps) ** 0.5
    np.testing.assert_allclose(buffer.sum_tree[np.array([10, 11])], [expected, expected])
    assert buffer.max_priority == pytest.approx(expected)


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
def test_sampling_frequencies_follow_priorities(alpha):
    n = 12
    buffer = PrioritizedReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=alpha)
    fill([buffer], n, 1)
    td_errors = np.linspace(0.1, 3.0, n)
    buffer.update_priorities(np.arange(n), td_errors)
    np.random.seed(0)
    counts = np.zeros(n)
    n_batches, batch_size = 400, 256
    for _ in range(n_batches):
        counts += np.bincount(buffer.sample(batch_size).indices, minlength=n)
    frequencies = counts / counts.sum()
    p = (td_errors + buffer.priority_eps) ** alpha
    # 102400 draws: a binomial std of at most 0.0016 per slot; stratification only lowers it
    np.testing.assert_allclose(frequencies, p / p.sum(), atol=0.005)


def test_is_weights_match_formula():
    n = 40
    buffer = PrioritizedReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=0.7, beta0=0.4)
    fill([buffer], n, 1)
    rng = np.random.default_rng(0)
    td_errors = rng.exponential(size=n)
    buffer.update_priorities(np.arange(n), td_errors)
    buffer.beta = 0.55
    samples = buffer.sample(64)
    p = (np.abs(td_errors) + buffer.priority_eps) ** 0.7
    probabilities = p / p.sum()
    w = (n * probabilities) ** -0.55
    expected = w[samples.indices] / w.max()
    np.testing.assert_allclose(samples.weights.numpy().ravel(), expected, rtol=1e-5)
    assert samples.weights.max() <= 1.0


def test_beta_anneals_linearly_and_reaches_the_weights():
    """PER's beta goes from beta0 to 1 with the training progress (clipped to [0, 1]), and the sampled weights use it."""
    n = 30
    buffer = PrioritizedReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=0.7, beta0=0.4)
    fill([buffer], n, 1)
    td_errors = np.random.default_rng(1).exponential(size=n)
    buffer.update_priorities(np.arange(n), td_errors)
    p = (td_errors + buffer.priority_eps) ** 0.7
    for progress, beta in [(-0.5, 0.4), (0.0, 0.4), (0.25, 0.55), (0.5, 0.7), (1.0, 1.0), (2.0, 1.0)]:
        buffer.set_progress(progress)
        assert buffer.beta == pytest.approx(beta)
        samples = buffer.sample(16)
        expected = (p[samples.indices] / p.min()) ** -beta
        np.testing.assert_allclose(samples.weights.numpy().ravel(), expected, rtol=1e-5)


def test_lap_priorities_and_weights():
    n = 20
    buffer = LAPReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=0.4, min_priority=1.0)
    fill([buffer], n, 1)
    td_errors = np.linspace(0.0, 4.0, n)
    buffer.update_priorities(np.arange(n), td_errors)
    np.testing.assert_allclose(buffer.sum_tree[np.arange(n)], np.maximum(td_errors, 1.0) ** 0.4)
    samples = buffer.sample(32)
    np.testing.assert_array_equal(samples.weights.numpy(), np.ones((32, 1)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_td_errors_never_enter_the_tree(bad):
    buffer = PrioritizedReplayBuffer(10, OBS_SPACE, ACT_SPACE, device="cpu")
    fill([buffer], 10, 1)
    buffer.update_priorities(np.arange(10), np.full(10, 0.5))
    before = buffer.sum_tree[np.arange(10)].copy()
    with pytest.warns(UserWarning, match="non-finite"):
        buffer.update_priorities(np.array([2, 5]), np.array([bad, 3.0]))
    after = buffer.sum_tree[np.arange(10)]
    assert after[2] == before[2]  # kept its previous priority
    assert after[5] == pytest.approx((3.0 + 1e-6) ** 0.6)
    assert np.isfinite(buffer.sum_tree.total()) and np.isfinite(buffer.max_priority)
    assert buffer.n_nonfinite_td_errors == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(alpha=-0.1), "alpha"),
        (dict(beta0=1.5), "beta0"),
        (dict(beta0=-0.1), "beta0"),
        (dict(priority_eps=0.0), "priority_eps"),
        (dict(n_steps=0), "n_steps"),
    ],
)
def test_bad_buffer_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PrioritizedReplayBuffer(10, OBS_SPACE, ACT_SPACE, device="cpu", **kwargs)


def test_lap_rejects_bad_min_priority():
    with pytest.raises(ValueError, match="min_priority"):
        LAPReplayBuffer(10, OBS_SPACE, ACT_SPACE, device="cpu", min_priority=0.0)


def test_update_priorities_checks_shapes():
    buffer = PrioritizedReplayBuffer(10, OBS_SPACE, ACT_SPACE, device="cpu")
    fill([buffer], 4, 1)
    with pytest.raises(ValueError, match="td_errors"):
        buffer.update_priorities(np.array([0, 1]), np.array([1.0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        buffer.update_priorities(np.array([0, 1]), th.tensor([[1.0], [2.0]]))


def test_batch_normalized_is_weights():
    n = 40
    buffer = PrioritizedReplayBuffer(
        n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=0.7, beta0=0.4, is_weight_normalization="batch"
    )
    fill([buffer], n, 1)
    td_errors = np.random.default_rng(0).exponential(size=n)
    buffer.update_priorities(np.arange(n), td_errors)
    buffer.beta = 0.55
    samples = buffer.sample(16)
    w = ((np.abs(td_errors) + buffer.priority_eps) ** 0.7)[samples.indices] ** -0.55
    # Divided by the largest weight of this batch (not of the buffer): the batch's largest weight is exactly 1
    np.testing.assert_allclose(samples.weights.numpy().ravel(), w / w.max(), rtol=1e-5)
    assert samples.weights.max().item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="is_weight_normalization"):
        PrioritizedReplayBuffer(n, OBS_SPACE, ACT_SPACE, is_weight_normalization="global")


@pytest.mark.parametrize("n_envs", [1, 3])
def test_mean_abs_reward_follows_the_stored_transitions(n_envs):
    buffer = PrioritizedReplayBuffer(16 * n_envs, OBS_SPACE, ACT_SPACE, device="cpu", n_envs=n_envs)
    assert buffer.mean_abs_reward() == 0.0
    for n_rows in (5, 16, 41):  # partly filled, full, wrapped around (old rewards overwritten)
        fill([buffer], n_rows if n_rows == 5 else n_rows - buffer.pos, n_envs, seed=n_rows)
        stored = buffer.rewards if buffer.full else buffer.rewards[: buffer.pos]
        assert buffer.mean_abs_reward() == pytest.approx(np.abs(stored).mean(), rel=1e-6)


def test_lap_reward_scaled_floor():
    n = 30
    plain = LAPReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=0.4, min_priority=0.5)
    scaled = LAPReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=0.4, min_priority=0.5, threshold_scale="reward")
    # No reward yet: the scale counts as 1
    assert scaled.update_priority_floor() == 0.5
    fill([plain, scaled], n, 1)
    scale = np.abs(scaled.rewards).mean()
    plain.record_td_errors(7.0)
    assert plain.update_priority_floor() == 0.5 and plain.priority_floor == 0.5
    assert scaled.update_priority_floor() == pytest.approx(0.5 * scale, rel=1e-6)
    td_errors = np.linspace(0.0, 3.0, n)
    scaled.update_priorities(np.arange(n), td_errors)
    np.testing.assert_allclose(scaled.sum_tree[np.arange(n)], np.maximum(td_errors, 0.5 * scale) ** 0.4, rtol=1e-6)
    # With reward normalization the scale is in the units of the normalized rewards the critic sees
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), norm_obs=False, gamma=0.9)
    venv.ret_rms.var = np.array(16.0)
    assert scaled.update_priority_floor(venv) == pytest.approx(0.5 * scale / np.sqrt(16.0 + venv.epsilon), rel=1e-6)


def test_lap_td_error_scaled_floor():
    from sb3_td3x.common.buffers import TD_ERROR_SCALE_RATE

    buffer = LAPReplayBuffer(20, OBS_SPACE, ACT_SPACE, device="cpu", min_priority=0.5, threshold_scale="td_error")
    fill([buffer], 20, 1)
    # No TD error yet: the scale counts as 1
    assert buffer.update_priority_floor() == 0.5
    buffer.record_td_errors(4.0)
    assert buffer.td_error_scale == 4.0 and buffer.update_priority_floor() == 2.0
    # A running mean: the newest training call weighs TD_ERROR_SCALE_RATE; NaN is ignored
    buffer.record_td_errors(14.0)
    buffer.record_td_errors(float("nan"))
    assert buffer.td_error_scale == pytest.approx(4.0 + TD_ERROR_SCALE_RATE * 10.0)
    assert buffer.update_priority_floor() == pytest.approx(0.5 * buffer.td_error_scale)
    with pytest.raises(ValueError, match="threshold_scale"):
        LAPReplayBuffer(20, OBS_SPACE, ACT_SPACE, threshold_scale="loss")


def test_max_priority_reset_and_priority_stats():
    n = 50
    buffer = PrioritizedReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=1.0, priority_eps=1e-9)
    fill([buffer], n, 1)
    buffer.update_priorities(np.arange(n), np.ones(n))
    stats = buffer.priority_stats()
    assert stats["sampling_ess"] == pytest.approx(1.0) and stats["priority_p50"] == pytest.approx(1.0)
    # One early spike sets the priority of every new transition ...
    buffer.update_priorities(np.array([0]), np.array([100.0]))
    assert buffer.max_priority == pytest.approx(100.0)
    stats = buffer.priority_stats()
    p = np.r_[100.0, np.ones(n - 1)]
    assert stats["sampling_ess"] == pytest.approx(p.sum() ** 2 / (n * np.square(p).sum()), rel=1e-6)
    assert stats["priority_p99"] == pytest.approx(np.percentile(p, 99), rel=1e-6)
    # ... until it is overwritten and the max priority is reset to the largest one still stored
    buffer.update_priorities(np.array([0]), np.array([3.0]))
    buffer.reset_max_priority()
    assert buffer.max_priority == pytest.approx(3.0)
    assert PrioritizedReplayBuffer(8, OBS_SPACE, ACT_SPACE).priority_stats() == {}


def test_the_buffer_resets_the_max_priority_every_max_priority_reset_updates():
    n = 20
    buffer = LAPReplayBuffer(n, OBS_SPACE, ACT_SPACE, device="cpu", alpha=1.0, max_priority_reset=3)
    fill([buffer], n, 1)
    samples = buffer.sample(2)._replace(indices=np.array([0, 1]))
    spike = th.tensor([[50.0], [2.0]])
    buffer.after_update(samples, spike)  # update 1: the spike sets the max priority
    assert (buffer.n_updates, buffer.max_priority) == (1, pytest.approx(50.0))
    buffer.after_update(samples._replace(indices=np.array([0, 2])), th.tensor([[4.0], [1.0]]))  # update 2: spike gone
    assert buffer.max_priority == pytest.approx(50.0)
    buffer.after_update(samples._replace(indices=np.array([3, 4])), th.tensor([[1.0], [1.0]]))  # update 3: reset
    assert (buffer.n_updates, buffer.max_priority) == (3, pytest.approx(4.0))  # the largest still stored
    with pytest.raises(ValueError, match="max_priority_reset must be an integer >= 1"):
        LAPReplayBuffer(n, OBS_SPACE, ACT_SPACE, max_priority_reset=0)


def _twin_q_batch(seed=0, batch=64):
    gen = th.Generator().manual_seed(seed)
    current = [th.randn(batch, 1, generator=gen) * 3.0 for _ in range(2)]
    target = th.randn(batch, 1, generator=gen) * 3.0
    return current, target


@pytest.mark.parametrize("loss", ["mse", "huber"])
def test_each_buffer_owns_its_loss(loss):
    from stable_baselines3.common.logger import Logger

    from sb3_td3x.common.indexed_buffer import ReplayHooks

    current, target = _twin_q_batch()
    errors = th.cat([q - target for q in current], dim=1)
    sb3_loss = th.nn.functional.mse_loss if loss == "mse" else th.nn.functional.smooth_l1_loss
    # Uniform replay (the hooks an algorithm keeps for SB3's own buffers): SB3's loss per Q-network, summed
    uniform = ReplayHooks()
    total, td_errors = uniform.batch_loss(current, target, None, loss)
    assert th.equal(total, sb3_loss(current[0], target) + sb3_loss(current[1], target))
    th.testing.assert_close(td_errors, errors)
    logger = Logger(folder=None, output_formats=[])
    uniform.record(logger)
    assert logger.name_to_value["train/td_error_abs_mean"] == pytest.approx(errors.abs().mean().item())
    # PER: each sample's loss times its importance-sampling weight
    per = PrioritizedReplayBuffer(100, OBS_SPACE, ACT_SPACE, device="cpu")
    fill([per], 100, 1)
    per.update_priorities(np.arange(100), np.linspace(0.1, 5.0, 100))
    samples = per.sample(64)
    assert samples.weights.min() < 0.99
    total, _ = per.batch_loss(current, target, samples, loss)
    per_sample = [sb3_loss(q, target, reduction="none") for q in current]
    expected = sum((samples.weights * element).mean() for element in per_sample)
    th.testing.assert_close(total, expected)
    per.record(logger)
    assert logger.name_to_value["train/is_weight_mean"] == pytest.approx(samples.weights.mean().item())
    # LAP: a Huber loss at the priority floor, whatever the algorithm's own loss, no weights
    lap = LAPReplayBuffer(100, OBS_SPACE, ACT_SPACE, device="cpu", min_priority=2.0)
    fill([lap], 100, 1)
    total, _ = lap.batch_loss(current, target, lap.sample(64), loss)
    abs_errors = errors.abs()
    huber = th.where(abs_errors <= 2.0, 0.5 * errors**2, 2.0 * (abs_errors - 1.0))
    th.testing.assert_close(total, huber.mean(dim=0).sum())
    lap.record(logger)
    assert logger.name_to_value["train/huber_linear_frac"] == pytest.approx((abs_errors > 2.0).float().mean().item())
    # Recorded once: nothing new to log until the next batch
    logger.name_to_value.clear()
    lap.record(logger)
    assert logger.name_to_value == {}


def test_per_and_lap_are_siblings_that_write_their_own_priorities():
    from sb3_td3x.common.buffers import BasePrioritizedReplayBuffer, replay_kind

    assert not issubclass(LAPReplayBuffer, PrioritizedReplayBuffer)
    assert not issubclass(PrioritizedReplayBuffer, LAPReplayBuffer)
    assert issubclass(LAPReplayBuffer, BasePrioritizedReplayBuffer)
    assert issubclass(PrioritizedReplayBuffer, BasePrioritizedReplayBuffer)
    assert [replay_kind(c) for c in (PrioritizedReplayBuffer, LAPReplayBuffer, NStepReplayBuffer, None)] == [
        "per",
        "lap",
        "none",
        "none",
    ]
    td_errors = th.tensor([[0.5, -3.0], [0.1, 0.2]])
    for buffer, expected in [
        (PrioritizedReplayBuffer(10, OBS_SPACE, ACT_SPACE, device="cpu", alpha=1.0, priority_eps=0.5), [3.5, 0.7]),
        (LAPReplayBuffer(10, OBS_SPACE, ACT_SPACE, device="cpu", alpha=1.0, min_priority=1.0), [3.0, 1.0]),
    ]:
        fill([buffer], 10, 1)
        samples = buffer.sample(2)._replace(indices=np.array([4, 7]))
        # The larger |TD error| of the Q-networks, through the kind's own priority
        buffer.after_update(samples, td_errors)
        np.testing.assert_allclose(buffer.sum_tree[np.array([4, 7])], expected, rtol=1e-6)


def test_a_new_kind_of_prioritized_replay_plugs_into_every_algorithm():
    from sb3_td3x import SACX, TD3X
    from sb3_td3x.common.buffers import BasePrioritizedReplayBuffer

    class SquaredPriority(BasePrioritizedReplayBuffer):
        # p = (|delta| + 1)^2, no importance weights, the algorithm's own loss (ReplayHooks._loss)
        def _priority(self, td_errors):
            return (np.abs(td_errors) + 1.0) ** 2

        def _importance_weights(self, indices):
            return np.ones(indices.shape)

    for algorithm in (TD3X, SACX):
        model = algorithm(
            "MlpPolicy",
            "Pendulum-v1",
            replay_buffer_class=SquaredPriority,
            n_steps=2,
            learning_starts=50,
            buffer_size=500,
            batch_size=32,
            seed=0,
            device="cpu",
        )
        model.learn(120)
        buffer = model.replay_buffer
        assert isinstance(buffer, SquaredPriority) and buffer.n_steps == 2 and model.prioritized_replay == "custom"
        leaves = buffer.sum_tree[np.arange(120)]
        # Written back by the algorithm's train(): every priority >= 1, and not all still the entry priority
        assert leaves.min() >= 1.0 and np.unique(leaves).size > 10


def test_the_buffer_class_and_its_short_form_are_one_setting():
    from sb3_td3x import TD3X

    by_class = TD3X("MlpPolicy", "Pendulum-v1", replay_buffer_class=LAPReplayBuffer, device="cpu")
    by_name = TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="lap", device="cpu")
    for model in (by_class, by_name):
        assert model.prioritized_replay == "lap" and model.replay_buffer_class is LAPReplayBuffer
        assert type(model.replay_buffer) is LAPReplayBuffer
    with pytest.raises(ValueError, match="conflicts with replay_buffer_class"):
        TD3X("MlpPolicy", "Pendulum-v1", prioritized_replay="per", replay_buffer_class=LAPReplayBuffer)
