"""
The TD7 split changed no computation: short seeded runs of TD7's set (now the ``TD7`` class), td3x_ckpt_progress and
td3x_writeup end with the parameters, updates and evaluation that the same runs had before it
(``tests/data/refactor_fixture.json``, made by ``tests/data/make_refactor_fixture.py`` with the code before the split,
where TD7's set was ``TD3X("SALEPolicy", ...)``).
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch as th
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.noise import NormalActionNoise

from sb3_td3x import TD3X, TD7

FIXTURE = json.loads((Path(__file__).parent / "data" / "refactor_fixture.json").read_text())
STEPS = 1400
COMMON = dict(learning_starts=400, batch_size=32, buffer_size=5_000, seed=0, device="cpu")
TD7_NETS = dict(net_arch=[32, 32, 32], zs_dim=16, encoder_net_arch=[32, 32])
EPISODIC = dict(policy_checkpoints=True, train_freq=(1, "episode"), gradient_steps=-1)


def noise(sigma: float) -> NormalActionNoise:
    # float32, as the fixture's runs had it (the decaying noise keeps the dtype of its sigma)
    return NormalActionNoise(np.zeros(1, dtype=np.float32), sigma * np.ones(1, dtype=np.float32))


RUNS = {
    # TD7's defaults are the set's overrides: LAP (alpha 0.4, min priority 1, max-priority reset 250), hard updates
    # every 250 steps, value clipping, checkpoints, training after each episode
    "td7": lambda: TD7("MlpPolicy", "Pendulum-v1", action_noise=noise(0.1), policy_kwargs=TD7_NETS, **COMMON),
    "td7_nstep3": lambda: TD7(
        "MlpPolicy", "Pendulum-v1", n_steps=3, action_noise=noise(0.1), policy_kwargs=TD7_NETS, **COMMON
    ),
    "td3x_ckpt_progress": lambda: TD3X(
        "MlpPolicy",
        "Pendulum-v1",
        action_noise=noise(0.1),
        policy_kwargs=dict(net_arch=[32, 32]),
        prioritized_replay="lap",
        n_steps=3,
        lap_threshold="td_error",
        checkpoint_kwargs=dict(healthy_reward=1.0),
        **EPISODIC,
        **COMMON,
    ),
    "td3x_writeup": lambda: TD3X(
        "MlpPolicy",
        "Pendulum-v1",
        action_noise=noise(0.2),
        policy_kwargs=dict(net_arch=[32, 32]),
        prioritized_replay="per",
        n_steps=3,
        noise_schedule="linear",
        noise_final_std=0.05,
        **COMMON,
    ),
}


@pytest.mark.parametrize("name", list(RUNS))
def test_same_computation_as_before_the_split(name):
    th.set_num_threads(1)
    model = RUNS[name]()
    model.learn(STEPS)
    expected = FIXTURE[name]
    assert model._n_updates == expected["n_updates"]
    params = {key: value for key, value in model.policy.state_dict().items() if value.is_floating_point()}
    assert sorted(params) == sorted(expected["params"])
    for key, value in params.items():
        total, squares = expected["params"][key]
        np.testing.assert_allclose(
            [float(value.double().sum()), float((value.double() ** 2).sum())], [total, squares], rtol=1e-5, atol=1e-6
        )
    mean_return, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=3, deterministic=True)
    assert mean_return == pytest.approx(expected["mean_return"], rel=1e-5)
