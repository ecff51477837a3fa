"""
Fixture of the refactor that gave TD7 its own class (tests/test_refactor_fixture.py): short seeded runs of the
configurations whose computation must not change, made with the code before it (commit c48e1b7, where TD7's set was
``TD3X("TD7Policy", ...)``). Each run trains on Pendulum-v1 with small networks; the fixture keeps, per run, the sum
and the sum of squares of every parameter tensor of the policy after training, the mean return of 3 deterministic
episodes, and the updates made.

    python tests/data/make_refactor_fixture.py   # writes tests/data/refactor_fixture.json (run at c48e1b7)
"""

import json
from pathlib import Path

import torch as th
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.noise import NormalActionNoise

from sb3_td3x import TD3X

STEPS = 1400
COMMON = dict(learning_starts=400, batch_size=32, buffer_size=5_000, seed=0, device="cpu")
TD7_NETS = dict(net_arch=[32, 32, 32], zs_dim=16, encoder_net_arch=[32, 32])
EPISODIC = dict(policy_checkpoints=True, train_freq=(1, "episode"), gradient_steps=-1)
# The overrides of the benchmark's TD7 set (learning_starts and networks smaller)
TD7 = dict(
    learning_rate=3e-4,
    prioritized_replay="lap",
    alpha=None,
    lap_threshold="fixed",
    max_priority_reset=250,
    n_steps=1,
    target_update_interval=250,
    value_clipping=True,
    **EPISODIC,
)
RUNS = {
    "td7": dict(policy="TD7Policy", policy_kwargs=TD7_NETS, **TD7),
    "td7_nstep3": dict(policy="TD7Policy", policy_kwargs=TD7_NETS, **{**TD7, "n_steps": 3}),
    "td3x_ckpt_progress": dict(
        policy="MlpPolicy",
        policy_kwargs=dict(net_arch=[32, 32]),
        prioritized_replay="lap",
        n_steps=3,
        lap_threshold="td_error",
        checkpoint_kwargs=dict(healthy_reward=1.0),
        **EPISODIC,
    ),
    "td3x_writeup": dict(
        policy="MlpPolicy",
        policy_kwargs=dict(net_arch=[32, 32]),
        prioritized_replay="per",
        n_steps=3,
        noise_schedule="linear",
        noise_final_std=0.05,
        action_noise="normal-0.2",
    ),
}


def fingerprint(name: str, kwargs: dict) -> dict:
    kwargs = dict(kwargs)
    policy = kwargs.pop("policy")
    noise = kwargs.pop("action_noise", "normal-0.1")
    sigma = float(noise.split("-")[1])
    model = TD3X(
        policy,
        "Pendulum-v1",
        action_noise=NormalActionNoise(th.zeros(1).numpy(), sigma * th.ones(1).numpy()),
        **COMMON,
        **kwargs,
    )
    model.learn(STEPS)
    params = {
        key: [float(value.double().sum()), float((value.double() ** 2).sum())]
        for key, value in model.policy.state_dict().items()
        if value.is_floating_point()
    }
    mean_return, _ = evaluate_policy(model, model.get_env(), n_eval_episodes=3, deterministic=True)
    return {"n_updates": int(model._n_updates), "mean_return": float(mean_return), "params": params}


def main() -> None:
    th.set_num_threads(1)
    fixture = {name: fingerprint(name, kwargs) for name, kwargs in RUNS.items()}
    path = Path(__file__).with_name("refactor_fixture.json")
    path.write_text(json.dumps(fixture, indent=1))
    print(
        {name: (entry["n_updates"], round(entry["mean_return"], 3), len(entry["params"])) for name, entry in fixture.items()}
    )


if __name__ == "__main__":
    main()
