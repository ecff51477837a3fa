"""
Run checkpoints written by an earlier version of the package resume with this one (tests/data/checkpoints_0.1/, made by
tests/data/make_checkpoint_fixtures.py): the 500k benchmark runs are stopped and resumed, and the code may change in between.
"""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from sb3_td3x import DQNX, SACX, TD3X, TD7, DecayingNormalActionNoise, LAPReplayBuffer, PrioritizedReplayBuffer
from sb3_td3x.zoo.checkpoints import truncate_last_transitions

FOLDER = Path(__file__).parent / "data" / "checkpoints_0.1"


@pytest.mark.parametrize(
    "name, buffer_class", [("td3x_writeup", PrioritizedReplayBuffer), ("td3x_ckpt_progress", LAPReplayBuffer)]
)
def test_an_earlier_versions_checkpoint_resumes(name, buffer_class):
    model = TD3X.load(FOLDER / f"{name}.zip", env=gym.make("Pendulum-v1"), device="cpu")
    model.load_replay_buffer(FOLDER / f"{name}_replay_buffer.pkl")
    buffer = model.replay_buffer
    assert type(buffer) is buffer_class and buffer.n_steps == 3 and buffer.pos == 400
    priorities = buffer.sum_tree[np.arange(400)].copy()
    assert np.unique(priorities).size > 10  # learned priorities came back
    truncate_last_transitions(buffer)
    updates = model._n_updates
    model.learn(200, reset_num_timesteps=False)
    assert model.num_timesteps == 600 and model._n_updates > updates
    np.testing.assert_array_equal(buffer.sum_tree[np.arange(400)] > 0, True)
    if name == "td3x_ckpt_progress":
        assert model.checkpoints is not None and model.checkpoints.healthy_reward == 1.0
        assert model.policy.has_checkpoint


# Written by tests/data/make_checkpoint_fixtures_0_2.py at commit f712688, when the replay settings were arguments of
# the algorithms (alpha=, lap_threshold=, max_priority_reset=, ...) and the noise schedule three of TD3X's
FOLDER_0_2 = Path(__file__).parent / "data" / "checkpoints_0.2"


def _resets(buffer):
    """Record the update count at each reset of the max priority."""
    counts = []
    reset = buffer.reset_max_priority

    def spy():
        counts.append(buffer.n_updates)
        reset()

    buffer.reset_max_priority = spy
    return counts


@pytest.mark.parametrize(
    "name, algorithm, env_id, settings, period",
    [
        ("td7", TD7, "Pendulum-v1", dict(max_priority_reset=20), 20),
        ("td3x_lap_td_reset", TD3X, "Pendulum-v1", dict(threshold_scale="td_error", max_priority_reset=7), 7),
        ("sacx_per", SACX, "Pendulum-v1", dict(alpha=0.5, beta0=0.3), None),
        ("dqnx_per_batch", DQNX, "CartPole-v1", dict(is_weight_normalization="batch"), None),
    ],
)
def test_a_checkpoint_with_the_replay_settings_as_arguments_resumes_with_them(name, algorithm, env_id, settings, period):
    model = algorithm.load(FOLDER_0_2 / f"{name}.zip", env=gym.make(env_id), device="cpu")
    # The settings are the buffer's now, and the algorithm keeps none of the old attributes
    for key, value in settings.items():
        assert model.replay_buffer_kwargs[key] == value, key
    assert not {"alpha", "lap_threshold", "max_priority_reset", "beta0"} & set(vars(model))
    model.load_replay_buffer(FOLDER_0_2 / f"{name}_replay_buffer.pkl")
    buffer = model.replay_buffer
    assert buffer.pos == 400 and np.unique(buffer.stored_priorities()).size > 10  # the priorities came back
    for key, value in settings.items():
        assert getattr(buffer, key) == value, key
    # The buffer counts on from the model's updates, so that the resets keep their phase (TD7's with its hard updates)
    assert buffer.n_updates == model._n_updates > 0
    resets = _resets(buffer)
    updates = model._n_updates
    model.learn(200, reset_num_timesteps=False)
    assert model._n_updates > updates and buffer.n_updates == model._n_updates
    if period is None:
        assert resets == []
    else:
        assert resets == [n for n in range(updates + 1, model._n_updates + 1) if n % period == 0] and resets
    if name == "td7":
        assert model.target_update_interval == period and model.policy.has_checkpoint


def test_a_model_saved_with_the_noise_schedule_as_arguments_gets_the_decaying_noise():
    model = TD3X.load(FOLDER_0_2 / "td3x_noise_schedule_unlearned.zip", env=gym.make("Pendulum-v1"), device="cpu")
    noise = model.action_noise
    assert isinstance(noise, DecayingNormalActionNoise)
    assert (noise.schedule, noise.decay_steps, float(noise._final_sigma[0]), float(noise._sigma[0])) == (
        "exponential",
        1000,
        0.03,
        0.3,
    )
    assert not {"noise_schedule", "noise_final_std", "noise_decay_steps"} & set(vars(model))
    model.learn(150)
    assert noise.step == 150 and noise.current_sigma[0] == pytest.approx(0.3 * (0.03 / 0.3) ** 0.15)
