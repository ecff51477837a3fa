"""The scripts of examples/ run as their docstrings show (with budgets a test can afford) and save what they say."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sb3_td3x import DQNX, SACX, TD3X, TD7, CrossQTD3Policy, LAPReplayBuffer, NoisyTD3Policy, PrioritizedReplayBuffer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
RETURN_LINE = re.compile(r"(return|:) -?\d+\.\d+ \+(/-|-) \d+\.\d+")


def run_example(script: str, *args: str, cwd: Path, returncode: int = 0) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == returncode, result.stdout[-2000:] + result.stderr[-4000:]
    return result


@pytest.mark.parametrize(
    "args",
    [
        ("--replay", "per", "--n-steps", "3", "--noise-schedule", "linear"),
        ("--noisy", "factorized", "--noise-std", "0"),
        ("--crossq", "48", "--replay", "lap"),
    ],
    ids=["per_nstep_decay", "noisy", "crossq_lap"],
)
def test_train_td3x(tmp_path, args):
    output = run_example("train_td3x.py", "--env", "Pendulum-v1", "--steps", "300", *args, cwd=tmp_path).stdout
    assert RETURN_LINE.search(output), output[-1000:]
    model = TD3X.load(tmp_path / "td3x_model.zip", device="cpu")
    model.load_replay_buffer(tmp_path / "td3x_model_replay_buffer.pkl")
    assert model.num_timesteps == 300 and model.replay_buffer.size() == 300
    if "--crossq" in args:
        assert isinstance(model.policy, CrossQTD3Policy) and model.policy_delay == 3
        assert model.policy.net_arch == {"pi": [256, 256], "qf": [48, 48]}
        assert isinstance(model.replay_buffer, LAPReplayBuffer)
    elif "--noisy" in args:
        assert isinstance(model.policy, NoisyTD3Policy) and model.action_noise is None
    else:
        assert isinstance(model.replay_buffer, PrioritizedReplayBuffer) and model.replay_buffer.n_steps == 3
        assert type(model.policy) is not CrossQTD3Policy and model.policy.net_arch == [400, 300]


def test_train_td3x_refuses_crossq_with_noisynet(tmp_path):
    result = run_example("train_td3x.py", "--crossq", "64", "--noisy", "factorized", cwd=tmp_path, returncode=2)
    assert "--crossq must be a width >= 1 (0: off), without --noisy" in result.stderr
    assert not list(tmp_path.iterdir())  # nothing trained, nothing saved


def test_train_td7(tmp_path):
    args = ("--env", "Pendulum-v1", "--steps", "200", "--learning-starts", "100", "--zs-dim", "16")
    output = run_example("train_td7.py", *args, cwd=tmp_path).stdout
    assert "policy checkpoint:" in output and RETURN_LINE.search(output), output[-1000:]
    model = TD7.load(tmp_path / "td7_model.zip", device="cpu")
    # one Pendulum episode (200 steps), then TD7's gradient steps, one per step of it
    assert model.num_timesteps == 200 and model._n_updates == 200 and model.policy.zs_dim == 16


@pytest.mark.parametrize(
    "algo, env_id, replay", [("dqnx", "CartPole-v1", "per"), ("sacx", "Pendulum-v1", "lap")], ids=["dqnx", "sacx"]
)
def test_train_prioritized(tmp_path, algo, env_id, replay):
    args = ("--algo", algo, "--env", env_id, "--steps", "300", "--replay", replay, "--n-steps", "3")
    output = run_example("train_prioritized.py", *args, cwd=tmp_path).stdout
    buffer_name = {"per": "PrioritizedReplayBuffer", "lap": "LAPReplayBuffer"}[replay]
    assert f"loaded: {buffer_name} with 300 transitions" in output, output[-1000:]
    model = {"dqnx": DQNX, "sacx": SACX}[algo].load(tmp_path / "prioritized_model.zip", device="cpu")
    assert model.num_timesteps == 300


def test_benchmark_example_is_the_benchmarks_command_line(tmp_path):
    output = run_example("benchmark.py", "--help", cwd=tmp_path).stdout
    assert "--configs" in output and "--seeds" in output and "--report-only" in output


def test_slurm_script_parses():
    result = subprocess.run(["bash", "-n", str(EXAMPLES / "slurm_benchmark.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
