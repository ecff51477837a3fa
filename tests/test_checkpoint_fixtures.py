"""
Run checkpoints written by an earlier version of the package resume with this one (tests/data/checkpoints_0.1/, made by
tests/data/make_checkpoint_fixtures.py): the 500k benchmark runs span sessions, and the code may change between two.
"""

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from sb3_td3x import TD3X, LAPReplayBuffer, PrioritizedReplayBuffer
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
