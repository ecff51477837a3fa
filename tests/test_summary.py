"""The summary a run of the package's algorithms ends with."""

import os

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3.common.env_util import make_vec_env

from sb3_td3x import TD3X
from sb3_td3x.common.summary import evaluate_final_policy, summary_line


def test_summary_line_says_return_time_limit_speed_and_model(tmp_path):
    # Three episodes: two last the 1000-step limit, one falls after 300 steps
    returns, lengths = np.array([1000.0, 3000.0, 700.0]), np.array([1000, 1000, 300])
    line = summary_line(returns, lengths, 1000, 20_000, 600.0, str(tmp_path / "Hopper-v4.zip"), checkpoint=True)
    assert line.startswith("Evaluation of the policy checkpoint (deterministic): return 1566.7 +- ")
    assert f"+- {returns.std():.1f} over 3 episodes" in line
    assert "; 2/3 lasted the 1000-step limit; 20,000 env steps" in line
    assert "20,000 env steps in 10.0 min (33 env steps/s)" in line
    assert line.endswith(f"model: {tmp_path / 'Hopper-v4.zip'}") and "\n" not in line
    # Without a known time limit, nothing said of it; a relative path made absolute
    line = summary_line(np.array([-200.0]), np.array([200]), None, 100, 1.0, "model.zip")
    assert "lasted" not in line and "final policy" in line
    assert "over 1 episode;" in line
    assert line.endswith(f"model: {os.path.abspath('model.zip')}")


@pytest.mark.parametrize("normalize", [False, True])
def test_final_evaluation_plays_deterministic_episodes_on_the_eval_env(normalize):
    from stable_baselines3.common.vec_env import VecNormalize

    env = make_vec_env("Pendulum-v1", n_envs=1, seed=0)
    eval_env = make_vec_env("Pendulum-v1", n_envs=1, seed=1)
    if normalize:
        env, eval_env = VecNormalize(env), VecNormalize(eval_env, training=False, norm_reward=False)
    model = TD3X("MlpPolicy", env, learning_starts=50, policy_kwargs=dict(net_arch=[16]), seed=0).learn(100)
    returns, lengths = evaluate_final_policy(model, eval_env, 2)
    assert returns.shape == (2,) and lengths.tolist() == [200, 200]
    if normalize:  # the eval env reads observations with the training env's statistics
        np.testing.assert_array_equal(eval_env.obs_rms.mean, env.obs_rms.mean)
    assert gym.spec("Pendulum-v1").max_episode_steps == 200
