"""
Models and run checkpoints as the package wrote them while the replay settings were algorithm arguments (``alpha=``,
``lap_threshold=``, ``max_priority_reset=``, ``noise_schedule=``, ...; commit f712688), for
tests/test_checkpoint_fixtures.py: after the settings became the buffers' keywords, they must still load and resume
with the same settings (the 500k benchmark runs in flight were checkpointed by that version).

    git worktree add /tmp/f712688 f712688
    PYTHONPATH=/tmp/f712688 python tests/data/make_checkpoint_fixtures_0_2.py   # writes tests/data/checkpoints_0.2/
"""

from pathlib import Path

import numpy as np
import torch as th
from stable_baselines3.common.noise import NormalActionNoise

from sb3_td3x import DQNX, SACX, TD3X, TD7

FOLDER = Path(__file__).with_name("checkpoints_0.2")


def common() -> dict:
    """Small runs (a new policy_kwargs each: SB3 adds its own keys to the dict it is given)."""
    return dict(learning_starts=100, batch_size=16, buffer_size=600, seed=0, device="cpu", policy_kwargs=dict(net_arch=[8]))


def main() -> None:
    th.set_num_threads(1)
    FOLDER.mkdir(exist_ok=True)
    # TD7 as the 500k runs train it (LAP, max priority reset with the hard updates), the period made small
    td7 = TD7(
        "MlpPolicy",
        "Pendulum-v1",
        learning_starts=100,
        batch_size=16,
        buffer_size=600,
        seed=0,
        device="cpu",
        max_priority_reset=20,
        target_update_interval=20,
        policy_kwargs=dict(net_arch=[8, 8, 8], zs_dim=4, encoder_net_arch=[8]),
    )
    models = {
        "td7": td7,
        "td3x_lap_td_reset": TD3X(
            "MlpPolicy",
            "Pendulum-v1",
            prioritized_replay="lap",
            n_steps=3,
            lap_threshold="td_error",
            max_priority_reset=7,
            **common(),
        ),
        "sacx_per": SACX("MlpPolicy", "Pendulum-v1", prioritized_replay="per", alpha=0.5, beta0=0.3, **common()),
        "dqnx_per_batch": DQNX(
            "MlpPolicy", "CartPole-v1", prioritized_replay="per", is_weight_normalization="batch", **common()
        ),
    }
    for name, model in models.items():
        model.learn(400)
        model.save(FOLDER / f"{name}.zip")
        model.save_replay_buffer(FOLDER / f"{name}_replay_buffer.pkl")
        print(name, model.num_timesteps, model._n_updates, model.replay_buffer.max_priority)
    # Saved before its first learn(): the schedule was still three arguments beside a NormalActionNoise
    unlearned = TD3X(
        "MlpPolicy",
        "Pendulum-v1",
        action_noise=NormalActionNoise(np.zeros(1), 0.3 * np.ones(1)),
        noise_schedule="exponential",
        noise_final_std=0.03,
        noise_decay_steps=1000,
        **common(),
    )
    unlearned.save(FOLDER / "td3x_noise_schedule_unlearned.zip")


if __name__ == "__main__":
    main()
