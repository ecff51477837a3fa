import copy
import pickle

import numpy as np
import pytest
from stable_baselines3 import TD3
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.noise import VectorizedActionNoise

from sb3_td3x.common.noise import DecayingNormalActionNoise


def make_noise(**kwargs) -> DecayingNormalActionNoise:
    args = dict(mean=np.zeros(2), sigma=1.0, final_sigma=0.1, decay_steps=100, schedule="linear") | kwargs
    return DecayingNormalActionNoise(**args)


@pytest.mark.parametrize(
    "schedule, expected",
    [
        ("linear", {0: 1.0, 50: 0.55, 100: 0.1, 200: 0.1}),
        ("exponential", {0: 1.0, 50: np.sqrt(0.1), 100: 0.1, 200: 0.1}),
    ],
)
def test_schedule_values(schedule, expected):
    noise = make_noise(schedule=schedule)
    for step, sigma in expected.items():
        noise.set_step(step)
        assert noise.step == step
        assert np.allclose(noise.current_sigma, [sigma, sigma])


def test_schedule_per_dimension_and_increasing():
    noise = make_noise(sigma=[0.2, 0.0], final_sigma=[0.6, 0.4], decay_steps=10)
    noise.set_step(5)
    assert np.allclose(noise.current_sigma, [0.4, 0.2])
    noise = make_noise(sigma=[0.1, 1.0], final_sigma=[0.4, 0.25], decay_steps=10, schedule="exponential")
    noise.set_step(5)
    assert np.allclose(noise.current_sigma, [0.2, 0.5])


def test_calls_advance_the_schedule_and_reset_keeps_it():
    noise = make_noise(schedule="linear", decay_steps=10)
    sigmas = []
    for _ in range(5):
        sigmas.append(noise.current_sigma[0])
        sample = noise()
        assert sample.shape == (2,) and sample.dtype == np.float32
    assert noise.step == 5
    assert np.allclose(sigmas, [1.0, 0.91, 0.82, 0.73, 0.64])
    noise.reset()
    assert noise.step == 5
    assert np.allclose(noise.current_sigma, 0.55)
    for _ in range(10):
        noise()
    assert noise.step == 15 and np.allclose(noise.current_sigma, 0.1)


@pytest.mark.parametrize("schedule", ["linear", "exponential"])
def test_empirical_std_matches_current_sigma(schedule):
    np.random.seed(0)
    # A long decay so that sigma does not move while sampling
    noise = make_noise(
        mean=np.array([1.0, -2.0]), sigma=[1.0, 0.5], final_sigma=[0.01, 0.2], decay_steps=10**9, schedule=schedule
    )
    noise.set_step(5 * 10**8)
    sigma = noise.current_sigma
    samples = np.stack([noise() for _ in range(20_000)])
    assert np.allclose(samples.std(axis=0), sigma, rtol=0.03)
    assert np.allclose(samples.mean(axis=0), [1.0, -2.0], atol=0.03)
    # sigma really is halfway: linear mean of the ends, exponential geometric mean
    halfway = [0.505, 0.35] if schedule == "linear" else [0.1, np.sqrt(0.1)]
    assert np.allclose(sigma, halfway, rtol=1e-6)


def test_vectorized_noise_counts_total_env_steps():
    base = make_noise(decay_steps=40)
    vec_noise = VectorizedActionNoise(base, n_envs=4)
    for k in range(1, 6):
        samples = vec_noise()
        assert samples.shape == (4, 2)
        assert all(noise.step == 4 * k for noise in vec_noise.noises)
    assert np.allclose(vec_noise.noises[2].current_sigma, 1.0 - 0.9 * 20 / 40)
    vec_noise.reset([1])
    assert all(noise.step == 20 for noise in vec_noise.noises)
    # The copies draw their own samples
    samples = vec_noise()
    assert not np.allclose(samples[0], samples[1])
    vec_noise.noises[0].set_step(40)
    assert all(np.allclose(noise.current_sigma, 0.1) for noise in vec_noise.noises)


def test_copies_and_pickling_keep_progress():
    noise = make_noise()
    noise.set_step(30)
    twin = copy.deepcopy(noise)
    twin()
    assert noise.step == twin.step == 31

    restored = pickle.loads(pickle.dumps(noise))
    assert restored.step == 31 and np.allclose(restored.current_sigma, noise.current_sigma)
    vec_restored = pickle.loads(pickle.dumps(VectorizedActionNoise(noise, n_envs=3)))
    vec_restored()
    assert all(copy_.step == 34 for copy_ in vec_restored.noises)
    # The pickled copies are independent of the original
    assert noise.step == 31


def test_repr():
    noise = make_noise(schedule="exponential")
    noise.set_step(7)
    text = repr(noise)
    assert text.startswith("DecayingNormalActionNoise(") and "step=7" in text and "'exponential'" in text


def test_td3_save_load_keeps_progress(tmp_path):
    model = TD3(
        "MlpPolicy", "Pendulum-v1", action_noise=make_noise(mean=np.zeros(1), decay_steps=1000), learning_starts=100, seed=0
    )
    model.learn(60)
    assert model.action_noise.step == 60
    model.save(tmp_path / "td3")
    loaded = TD3.load(tmp_path / "td3")
    assert isinstance(loaded.action_noise, DecayingNormalActionNoise)
    assert loaded.action_noise.step == 60
    assert np.allclose(loaded.action_noise.current_sigma, 1.0 - 0.9 * 60 / 1000)


def test_td3_save_load_vectorized_keeps_shared_progress(tmp_path):
    env = make_vec_env("Pendulum-v1", n_envs=2, seed=0)
    model = TD3("MlpPolicy", env, action_noise=make_noise(mean=np.zeros(1), decay_steps=1000), learning_starts=100, seed=0)
    model.learn(40)
    assert isinstance(model.action_noise, VectorizedActionNoise)
    assert [noise.step for noise in model.action_noise.noises] == [40, 40]
    model.save(tmp_path / "td3")
    loaded = TD3.load(tmp_path / "td3", env=env)
    loaded.learn(20, reset_num_timesteps=False)
    assert loaded.num_timesteps == 60
    assert [noise.step for noise in loaded.action_noise.noises] == [60, 60]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(sigma=-0.1), "sigma"),
        (dict(final_sigma=-0.1), "final_sigma"),
        (dict(sigma=[0.1, 0.2, 0.3]), "sigma.*shape"),
        (dict(final_sigma=np.ones((2, 2))), "final_sigma.*shape"),
        (dict(sigma=float("nan")), "sigma"),
        (dict(decay_steps=0), "decay_steps"),
        (dict(decay_steps=2.5), "decay_steps"),
        (dict(schedule="cosine"), "schedule"),
        (dict(schedule="exponential", sigma=[0.0, 1.0]), "sigma.*exponential"),
        (dict(schedule="exponential", final_sigma=0.0), "final_sigma.*exponential"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_noise(**kwargs)


def test_bad_step():
    noise = make_noise()
    with pytest.raises(ValueError, match="step"):
        noise.set_step(-1)


def test_the_whole_run_is_the_decay_of_the_package_algorithms_and_asked_for_elsewhere():
    from sb3_td3x import TD3X

    # decay_steps=None: TD3X sets it to the run's length when learn() starts
    noise = make_noise(mean=np.zeros(1), decay_steps=None)
    model = TD3X("MlpPolicy", "Pendulum-v1", action_noise=noise, learning_starts=100, batch_size=16, seed=0)
    model.learn(150)
    assert model.action_noise.decay_steps == 150 and model.action_noise.progress == 1.0
    # SB3's own TD3 does not know it: the first noise drawn says what to give
    with pytest.raises(ValueError, match=r"decay_steps=None .* give decay_steps"):
        TD3("MlpPolicy", "Pendulum-v1", action_noise=make_noise(mean=np.zeros(1), decay_steps=None)).learn(5)
