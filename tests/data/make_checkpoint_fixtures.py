"""
Checkpoints as the 500k benchmark runs in flight write them (tests/test_checkpoint_fixtures.py): a run checkpoint
written by an earlier version of the package must still resume after a change. Small models of
the sets those runs train (td3x_writeup: PER + 3-step + decaying noise; td3x_ckpt_progress: LAP with the TD-error
threshold + 3-step + policy checkpoints scored on progress), each saved with its replay buffer after a short run.

    python tests/data/make_checkpoint_fixtures.py   # writes tests/data/checkpoints_0.1/ (run at commit a49d89b)
"""

from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.noise import NormalActionNoise

from sb3_td3x import TD3X

FOLDER = Path(__file__).with_name("checkpoints_0.1")
COMMON = dict(learning_starts=100, batch_size=16, buffer_size=600, seed=0, device="cpu", policy_kwargs=dict(net_arch=[8]))
SETS = {
    "td3x_writeup": dict(
        prioritized_replay="per",
        n_steps=3,
        noise_schedule="linear",
        noise_final_std=0.05,
        action_noise=NormalActionNoise(np.zeros(1), 0.2 * np.ones(1)),
    ),
    "td3x_ckpt_progress": dict(
        prioritized_replay="lap",
        n_steps=3,
        lap_threshold="td_error",
        policy_checkpoints=True,
        train_freq=(1, "episode"),
        gradient_steps=-1,
        checkpoint_kwargs=dict(healthy_reward=1.0),
        action_noise=NormalActionNoise(np.zeros(1), 0.1 * np.ones(1)),
    ),
}


def main() -> None:
    th.set_num_threads(1)
    FOLDER.mkdir(exist_ok=True)
    for name, kwargs in SETS.items():
        model = TD3X("MlpPolicy", "Pendulum-v1", **COMMON, **kwargs)
        model.learn(400)
        model.save(FOLDER / f"{name}.zip")
        model.save_replay_buffer(FOLDER / f"{name}_replay_buffer.pkl")
        print(name, model.num_timesteps, model._n_updates, (FOLDER / f"{name}_replay_buffer.pkl").stat().st_size)


if __name__ == "__main__":
    main()
