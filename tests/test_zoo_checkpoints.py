"""Checkpoints a killed run resumes from: whole or detected as damaged, with the evaluations and monitor so far."""

import glob
import json
import os

import numpy as np
import pytest
from stable_baselines3.common.callbacks import EvalCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.save_util import load_from_pkl

from sb3_td3x import TD3X
from sb3_td3x.zoo.checkpoints import (
    CheckpointError,
    ResumableCheckpointCallback,
    checkpoint_companion,
    checkpoint_manifests,
    restore_evaluations,
    restore_run,
    save_evaluations,
    verify_checkpoint,
)

SMALL = dict(learning_starts=10, batch_size=8, policy_kwargs=dict(net_arch=[16]), seed=0)


def test_checkpoint_companion():
    assert checkpoint_companion("a/b/rl_model_1500_steps.zip", "replay_buffer_") == "a/b/rl_model_replay_buffer_1500_steps.pkl"
    assert checkpoint_companion("rl_model_7_steps.zip", "vecnormalize_") == "rl_model_vecnormalize_7_steps.pkl"
    assert checkpoint_companion("rl_model_7_steps.zip", "evaluations_", "npz") == "rl_model_evaluations_7_steps.npz"
    assert checkpoint_companion("rl_model_7_steps.zip", "", "json") == "rl_model_7_steps.json"
    assert checkpoint_companion("a/Hopper-v4.zip", "replay_buffer_") is None
    assert checkpoint_companion("a/best_model.zip", "replay_buffer_") is None


@pytest.fixture
def checkpointed(tmp_path):
    """A run of 60 steps with a checkpoint every 20, the newest 2 kept, with its evaluations and monitor."""
    env = make_vec_env("Pendulum-v1", n_envs=1, monitor_dir=str(tmp_path))
    model = TD3X("MlpPolicy", env, prioritized_replay="per", **SMALL)
    # SB3's EvalCallback keeps its evaluations only with a log_path (RL Zoo gives it one)
    evaluation = EvalCallback(make_vec_env("Pendulum-v1", n_envs=1), eval_freq=15, n_eval_episodes=1, log_path=str(tmp_path))
    checkpoint = ResumableCheckpointCallback(20, str(tmp_path), save_replay_buffer=True, keep_last=2)
    checkpoint.eval_callback = evaluation
    checkpoint.monitor_folder = str(tmp_path)
    model.learn(60, callback=[checkpoint, evaluation])
    return tmp_path, model


def test_checkpoint_is_taken_between_iterations(checkpointed):
    """The checkpoint of step N holds the transition of step N (SB3's own callback saves before storing it)."""
    folder, _ = checkpointed
    for steps in (40, 60):
        buffer = load_from_pkl(folder / f"rl_model_replay_buffer_{steps}_steps.pkl")
        assert buffer.pos == steps
        assert TD3X.load(folder / f"rl_model_{steps}_steps.zip").num_timesteps == steps
    assert not glob.glob(str(folder / "*.partial"))


def test_checkpoint_holds_its_evaluations_and_manifest(checkpointed):
    folder, _ = checkpointed
    # keep_last=2: the checkpoint at 20 steps is gone, files and manifest
    assert [steps for steps, _ in checkpoint_manifests(str(folder))] == [60, 40]
    assert not glob.glob(str(folder / "*_20_steps*"))
    manifest = verify_checkpoint(str(folder / "rl_model_40_steps.json"))
    assert manifest["num_timesteps"] == 40 and manifest["model"] == "rl_model_40_steps.zip"
    assert sorted(manifest["files"]) == sorted(
        [
            "rl_model_40_steps.zip",
            "rl_model_replay_buffer_40_steps.pkl",
            "rl_model_evaluations_40_steps.npz",
            "rl_model_monitor_0_40_steps.csv",
        ]
    )
    with np.load(folder / "rl_model_evaluations_40_steps.npz") as data:
        assert list(data["timesteps"]) == [15, 30]  # the evaluations done by step 40
        assert data["results"].shape == (2, 1)


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "manifest"])
def test_damaged_checkpoint_is_detected(checkpointed, damage):
    folder, _ = checkpointed
    buffer = folder / "rl_model_replay_buffer_60_steps.pkl"
    manifest = folder / "rl_model_60_steps.json"
    if damage == "truncate":
        os.truncate(buffer, buffer.stat().st_size // 2)
        match = "truncated"
    elif damage == "flip":
        data = bytearray(buffer.read_bytes())
        data[len(data) // 2] ^= 0xFF
        buffer.write_bytes(bytes(data))
        match = "SHA-256"
    elif damage == "delete":
        buffer.unlink()
        match = "missing"
    else:
        manifest.write_text(manifest.read_text()[:40])
        match = "unreadable"
    with pytest.raises(CheckpointError, match=match):
        verify_checkpoint(str(manifest))
    verify_checkpoint(str(folder / "rl_model_40_steps.json"))  # the one before is whole


def test_evaluations_round_trip_into_a_new_callback(checkpointed):
    folder, _ = checkpointed
    fresh = EvalCallback(make_vec_env("Pendulum-v1", n_envs=1), eval_freq=15)
    assert restore_evaluations(fresh, str(folder / "rl_model_evaluations_60_steps.npz"), 60) == 4
    assert fresh.evaluations_timesteps == [15, 30, 45, 60]
    assert fresh.best_mean_reward == max(np.mean(row) for row in fresh.evaluations_results)
    # Only what the checkpoint's timestep had seen
    assert restore_evaluations(fresh, str(folder / "rl_model_evaluations_60_steps.npz"), 45) == 3
    path = folder / "again.npz"
    save_evaluations(fresh, str(path))
    with np.load(path) as data:
        assert list(data["timesteps"]) == [15, 30, 45]


def test_restore_run_aligns_callbacks_and_keeps_the_monitor(checkpointed, tmp_path_factory):
    folder, _ = checkpointed
    new_folder = tmp_path_factory.mktemp("segment")
    evaluation = EvalCallback(make_vec_env("Pendulum-v1", n_envs=1), eval_freq=15)
    checkpoint = ResumableCheckpointCallback(20, str(new_folder))
    checkpoint.monitor_folder = str(new_folder)
    restore_run(str(folder / "rl_model_40_steps.zip"), [checkpoint, evaluation], 40, 1)
    assert evaluation.n_calls == 40 and checkpoint.n_calls == 40
    assert evaluation.evaluations_timesteps == [15, 30]
    previous = (new_folder / "0.previous.monitor.csv").read_text().splitlines()
    assert previous == (folder / "rl_model_monitor_0_40_steps.csv").read_text().splitlines()
    assert previous[1] == "r,l,t"
    assert json.loads(previous[0][1:])["env_id"] == "Pendulum-v1"
