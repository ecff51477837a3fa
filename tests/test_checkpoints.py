import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.utils import set_random_seed

from sb3_td3x import TD3X
from sb3_td3x.common.checkpoints import PolicyCheckpoints

SMALL = dict(learning_starts=400, batch_size=32, buffer_size=5_000, policy_kwargs=dict(net_arch=[32, 32]))
EPISODIC = dict(train_freq=(1, "episode"), gradient_steps=-1, policy_checkpoints=True)


def decisions(checkpoints, returns, steps=10, n_updates=0, lengths=None):
    """Feed scripted episode returns (and lengths); :return: (took a checkpoint, gradient steps now) per episode."""
    out = []
    for index, episode_return in enumerate(returns):
        length = steps if lengths is None else lengths[index]
        take, now = checkpoints.end_of_episode(episode_return, steps, n_updates, length)
        n_updates += now
        out.append((take, now))
    return out


def test_one_episode_assessments_keep_the_best_minimum():
    checkpoints = PolicyCheckpoints(episodes=1, late_start=None)
    got = decisions(checkpoints, [10.0, 5.0, 12.0, 12.0, 3.0])
    # Every episode ends its assessment (its steps are trained at once); a return at or above the best is kept
    assert got == [(True, 10), (False, 10), (True, 10), (True, 10), (False, 10)]
    assert checkpoints.best_score == 12.0 and checkpoints.n_checkpoints == 3


def test_longer_assessments_wait_and_end_early_below_the_best():
    checkpoints = PolicyCheckpoints(episodes=3, late_start=None)
    got = decisions(checkpoints, [50.0, 40.0, 45.0, 60.0, 30.0, 70.0, 41.0, 42.0])
    assert got == [
        (False, 0),
        (False, 0),
        (True, 30),  # first assessment: minimum 40 becomes the best
        (False, 0),
        (False, 20),  # 30 < 40: the assessment ends at once, no checkpoint, its two episodes are trained
        (False, 0),
        (False, 0),
        (True, 30),  # 70, 41, 42: minimum 41 >= 40
    ]
    assert checkpoints.best_score == 41.0


def test_assessments_get_longer_after_late_start():
    checkpoints = PolicyCheckpoints(episodes=1, late_episodes=2, late_start=25, reset_weight=0.5)
    assert decisions(checkpoints, [100.0, 100.0]) == [(True, 10), (True, 10)]
    assert not checkpoints.late
    # The batch that passes 25 gradient steps switches to 2-episode assessments and halves the best score
    assert decisions(checkpoints, [120.0], n_updates=20) == [(True, 10)]
    assert checkpoints.late and checkpoints.best_score == 60.0
    assert decisions(checkpoints, [61.0, 59.0], n_updates=30) == [(False, 0), (False, 20)]
    assert decisions(checkpoints, [65.0, 70.0], n_updates=50) == [(False, 0), (True, 20)]
    assert checkpoints.best_score == 65.0


def test_no_checkpoint_has_minus_infinity_as_best():
    checkpoints = PolicyCheckpoints()
    assert checkpoints.best_score == -math.inf
    assert decisions(checkpoints, [-1e9]) == [(True, 10)]


# Hopper-like episodes (return, length): standing still for the whole episode (1 per step alive, ~0.4 m), hopping that
# falls early, hopping through
STANDING, EARLY_FALL, HOPPING = (1049.0, 1000), (880.0, 315), (3240.0, 1000)


@pytest.mark.parametrize(
    "healthy_reward, expected, best",
    [
        # TD7's rule (minimum return): the standing policy stays the checkpoint against the early hopper
        (0.0, [(True, 10), (False, 10), (True, 10), (False, 10)], 3240.0),
        # Return less 1 per step: standing scores 49, the early hopper 565 and replaces it
        (1.0, [(True, 10), (True, 10), (True, 10), (False, 10)], 2240.0),
    ],
)
def test_healthy_reward_scores_progress_not_survival(healthy_reward, expected, best):
    checkpoints = PolicyCheckpoints(episodes=1, late_start=None, healthy_reward=healthy_reward)
    episodes = [STANDING, EARLY_FALL, HOPPING, STANDING]
    got = decisions(checkpoints, [r for r, _ in episodes], lengths=[length for _, length in episodes])
    assert got == expected and checkpoints.best_score == best


def test_healthy_reward_takes_the_worst_progress_of_a_longer_assessment():
    checkpoints = PolicyCheckpoints(episodes=2, late_start=None, healthy_reward=1.0)
    # 2240 and 565: the assessment's score is the smaller; a standing episode then ends the next one at once
    assert decisions(checkpoints, [3240.0, 880.0], lengths=[1000, 315]) == [(False, 0), (True, 20)]
    assert checkpoints.best_score == 565.0
    assert decisions(checkpoints, [1049.0], lengths=[1000]) == [(False, 10)]


@pytest.mark.parametrize("healthy_reward", [-1.0, math.nan, math.inf, True, "1"])
def test_bad_healthy_reward_is_rejected(healthy_reward):
    with pytest.raises(ValueError, match=r"checkpoint_kwargs\['healthy_reward'\] must be a finite number >= 0"):
        TD3X("MlpPolicy", "Pendulum-v1", **EPISODIC, checkpoint_kwargs=dict(healthy_reward=healthy_reward))


def test_the_score_uses_each_episodes_length():
    """TD3X gives the assessment each episode's length: with healthy_reward, the best score is return - length."""
    model = TD3X("MlpPolicy", "Pendulum-v1", seed=0, **SMALL, **EPISODIC, checkpoint_kwargs=dict(healthy_reward=2.0))
    seen = []
    assess = model.checkpoints.end_of_episode

    def spy(episode_return, gradient_steps, n_updates, episode_length):
        seen.append((episode_return, episode_length))
        return assess(episode_return, gradient_steps, n_updates, episode_length)

    model.checkpoints.end_of_episode = spy
    model.learn(800)
    assert [length for _, length in seen] == [200, 200]  # Pendulum's episodes, after the 400 random steps
    # One-episode assessments: the best score is the better of the two episodes, each less 2 per step
    assert model.checkpoints.best_score == pytest.approx(max(r for r, _ in seen) - 2.0 * 200)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(policy_checkpoints=True, train_freq=1), "train_freq"),
        (dict(policy_checkpoints=True, train_freq=(2, "episode")), "train_freq"),
        (dict(policy_checkpoints=True, train_freq=(1, "episode"), checkpoint_kwargs=dict(episodes=0)), "episodes"),
        (dict(policy_checkpoints=True, train_freq=(1, "episode"), checkpoint_kwargs=dict(late_start=-1)), "late_start"),
        (dict(policy_checkpoints=True, train_freq=(1, "episode"), checkpoint_kwargs=dict(reset_weight=0)), "reset_weight"),
        (dict(policy_checkpoints=True, train_freq=(1, "episode"), checkpoint_kwargs=dict(size=3)), "checkpoint_kwargs"),
        (dict(checkpoint_kwargs=dict(episodes=2)), "policy_checkpoints"),
        (dict(policy_checkpoints=1, train_freq=(1, "episode")), "policy_checkpoints"),
    ],
)
def test_bad_checkpoint_input_is_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TD3X("MlpPolicy", "Pendulum-v1", **kwargs)


def test_checkpoints_need_one_env_and_a_td3x_policy():
    with pytest.raises(ValueError, match="n_envs=2"):
        TD3X("MlpPolicy", make_vec_env("Pendulum-v1", n_envs=2), **EPISODIC)
    from stable_baselines3.td3.policies import TD3Policy

    with pytest.raises(ValueError, match="TD3X policy"):
        TD3X(TD3Policy, "Pendulum-v1", **EPISODIC)


@pytest.mark.parametrize("policy", ["MlpPolicy", "NoisyMlpPolicy"])
def test_checkpoint_is_the_policy_before_training_and_acts_when_deterministic(policy):
    model = TD3X(policy, "Pendulum-v1", seed=0, **SMALL, **EPISODIC)
    snapshots = []
    assess = model.checkpoints.end_of_episode

    def spy(*args):
        take, steps = assess(*args)
        snapshots.append((take, {k: v.clone() for k, v in model.policy.actor.state_dict().items()}))
        return take, steps

    model.checkpoints.end_of_episode = spy
    model.learn(1400)
    taken = [state for take, state in snapshots if take]
    assert len(snapshots) == 5 and len(taken) >= 1  # Pendulum: 200-step episodes, training from 600 steps
    # The checkpoint is the actor as it was when its assessment ended, before the steps it earned
    for key, value in model.policy.checkpoint_actor.state_dict().items():
        assert th.equal(value, taken[-1][key]), key
    # 200 gradient steps per finished episode after learning_starts (one-episode assessments train every episode)
    assert model._n_updates == 200 * len(snapshots)
    obs = model.env.reset()
    with th.no_grad():
        checkpoint = model.policy.checkpoint_actor._predict(th.as_tensor(obs), deterministic=True).numpy()
        current = model.policy.actor._predict(th.as_tensor(obs), deterministic=True).numpy()
    assert not np.allclose(checkpoint, current)
    np.testing.assert_allclose(model.predict(obs, deterministic=True)[0], model.policy.unscale_action(checkpoint))
    if policy == "MlpPolicy":  # exploration acts with the current actor (the action noise is added afterwards)
        np.testing.assert_allclose(model.predict(obs, deterministic=False)[0], model.policy.unscale_action(current))


def test_deterministic_prediction_uses_the_current_actor_until_a_checkpoint_exists():
    model = TD3X("MlpPolicy", "Pendulum-v1", seed=0, **SMALL, **EPISODIC)
    assert not model.policy.has_checkpoint
    with th.no_grad():
        model.policy.actor.mu[-2].weight.mul_(3.0)  # the checkpoint copy, made at construction, is now stale
    obs = model.env.reset()
    with th.no_grad():
        current = model.policy.actor(th.as_tensor(obs)).numpy()
    np.testing.assert_allclose(model.predict(obs, deterministic=True)[0], model.policy.unscale_action(current))


def test_checkpoints_off_builds_no_checkpoint():
    TD3X("MlpPolicy", "Pendulum-v1", **SMALL, **EPISODIC)  # the caller's policy_kwargs are not altered
    assert SMALL["policy_kwargs"] == dict(net_arch=[32, 32])
    model = TD3X("MlpPolicy", "Pendulum-v1", **SMALL)
    assert model.checkpoints is None and not hasattr(model.policy, "checkpoint_actor")
    assert "use_checkpoint" not in model.policy_kwargs


def continue_exactly(model, steps):
    set_random_seed(11)
    model.env.seed(11)
    model._last_obs = None
    return model.learn(steps, reset_num_timesteps=False)


def test_save_load_in_the_middle_of_an_assessment(tmp_path):
    kwargs = dict(SMALL, **EPISODIC, checkpoint_kwargs=dict(episodes=2), seed=1)
    model = TD3X("MlpPolicy", "Pendulum-v1", **kwargs)
    model.learn(1000)
    for _ in range(10):  # one more episode at a time until an assessment of 2 episodes is half done
        if model.checkpoints.episodes == 1:
            break
        model.learn(200, reset_num_timesteps=False)
    assert model.checkpoints.episodes == 1 and model.checkpoints.pending_steps == 200
    assert model.policy.has_checkpoint
    model.save(tmp_path / "model.zip")
    model.save_replay_buffer(tmp_path / "buffer.pkl")

    loaded = TD3X.load(tmp_path / "model.zip", env=gym.make("Pendulum-v1"))
    loaded.load_replay_buffer(tmp_path / "buffer.pkl")
    assert loaded.checkpoints.__dict__ == model.checkpoints.__dict__
    assert loaded.policy.has_checkpoint and loaded.policy_kwargs["use_checkpoint"]
    for key, value in model.policy.state_dict().items():
        assert th.equal(value, loaded.policy.state_dict()[key]), key

    continue_exactly(model, 600)
    continue_exactly(loaded, 600)
    assert loaded.checkpoints.__dict__ == model.checkpoints.__dict__
    for key, value in model.policy.state_dict().items():
        assert th.equal(value, loaded.policy.state_dict()[key]), key
