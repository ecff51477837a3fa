"""SB3's off-policy training arguments, refused out of range by every algorithm of the package before anything is built."""

import inspect

import numpy as np
import pytest
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

from sb3_td3x import DDPGX, DQNX, SACX, TD3X, TD7

ALGOS = {"TD3X": TD3X, "TD7": TD7, "DDPGX": DDPGX, "SACX": SACX, "DQNX": DQNX}
TD3_FAMILY = ("TD3X", "TD7")  # DDPGX fixes TD3's own arguments to DDPG's values
# An env id that does not exist: building it would fail with Gymnasium's own error, so a ValueError from these checks
# shows that they ran first
NO_ENV = "NoSuchEnv-v0"

BAD = [
    ("buffer_size", 0, "buffer_size must be an integer >= 1"),
    ("buffer_size", 1e6, "buffer_size must be an integer >= 1"),
    ("learning_starts", -1, "learning_starts must be >= 0"),
    ("learning_starts", float("nan"), "learning_starts must be >= 0"),
    ("batch_size", 0, "batch_size must be an integer >= 1"),
    ("batch_size", 32.0, "batch_size must be an integer >= 1"),
    ("batch_size", True, "batch_size must be an integer >= 1"),
    ("tau", -0.1, r"tau must be in \[0, 1\]"),
    ("tau", 1.5, r"tau must be in \[0, 1\]"),
    ("gamma", 1.01, r"gamma must be in \[0, 1\]"),
    ("gamma", "0.99", r"gamma must be in \[0, 1\]"),
    ("train_freq", 0, "train_freq must be an integer >= 1"),
    ("train_freq", (1, "epoch"), "train_freq must be an integer >= 1"),
    ("train_freq", (0, "episode"), "train_freq must be an integer >= 1"),
    ("train_freq", (1, "step", 2), "train_freq must be an integer >= 1"),
    ("train_freq", [1, "step"], "train_freq must be an integer >= 1"),  # SB3 takes a tuple (RL Zoo converts its lists)
    ("gradient_steps", -2, "gradient_steps must be an integer >= 0, or -1"),
    ("gradient_steps", 1.5, "gradient_steps must be an integer >= 0, or -1"),
]
BAD_TD3 = [
    ("policy_delay", 0, "policy_delay must be an integer >= 1"),
    ("policy_delay", 2.0, "policy_delay must be an integer >= 1"),
    ("target_policy_noise", -0.2, "target_policy_noise must be >= 0"),
    ("target_noise_clip", -0.5, "target_noise_clip must be >= 0"),
]


@pytest.mark.parametrize(
    "algo, name, value, match",
    # Each algorithm with the arguments it has (TD7 has no tau: it copies its targets)
    [(algo, *bad) for algo in ALGOS for bad in BAD if bad[0] in inspect.signature(ALGOS[algo]).parameters],
)
def test_out_of_range_is_refused_by_name_before_the_env_is_built(algo, name, value, match):
    with pytest.raises(ValueError, match=match):
        ALGOS[algo]("MlpPolicy", NO_ENV, **{name: value})


@pytest.mark.parametrize("algo", TD3_FAMILY)
@pytest.mark.parametrize("name, value, match", BAD_TD3)
def test_td3_arguments_out_of_range_are_refused(algo, name, value, match):
    with pytest.raises(ValueError, match=match):
        ALGOS[algo]("MlpPolicy", NO_ENV, **{name: value})


@pytest.mark.parametrize("algo", list(ALGOS))
def test_the_ends_of_each_range_and_sb3s_spellings_are_accepted(algo):
    env = "CartPole-v1" if algo == "DQNX" else "Pendulum-v1"
    accepted = dict(
        buffer_size=np.int64(64),
        learning_starts=0.0,
        batch_size=np.int32(8),
        tau=1.0,
        gamma=1,
        train_freq=(2, "step"),
        gradient_steps=-1,
    )
    if algo == "TD7":
        del accepted["tau"]
        accepted["policy_checkpoints"] = False  # the checkpoints train after each episode
    model = ALGOS[algo]("MlpPolicy", env, **accepted)
    model.learn(20)
    assert model.num_timesteps == 20 and model._n_updates > 0
    ends = dict(gradient_steps=0) if algo == "TD7" else dict(gradient_steps=0, tau=0.0)
    for train_freq in [(1, "episode"), TrainFreq(1, TrainFrequencyUnit.EPISODE)]:
        ALGOS[algo]("MlpPolicy", env, buffer_size=64, train_freq=train_freq, **ends)
    if algo in TD3_FAMILY:
        ALGOS[algo]("MlpPolicy", env, buffer_size=64, policy_delay=1, target_policy_noise=0.0, target_noise_clip=0.0)
