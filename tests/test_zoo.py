"""
RL Baselines3 Zoo integration: ``--algo td3x`` through RL Zoo's real command lines, in fresh subprocesses,
at tiny budgets (train, enjoy, record_video, --optimize with two workers, kill and resume, plots), plus the
start-up hook for a wheel and an editable install, the yml file, and the Optuna sampler in-process.
"""

import argparse
import glob
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pytest
import rl_zoo3.exp_manager
import torch as th
import yaml
from rl_zoo3.exp_manager import ExperimentManager
from sb3_contrib.common.torch_layers import BatchRenorm1d
from stable_baselines3.common.callbacks import CheckpointCallback
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.save_util import load_from_pkl

from sb3_td3x import (
    TD3X,
    TD7,
    CrossQTD3Policy,
    DecayingNormalActionNoise,
    LAPReplayBuffer,
    NoisyTD3Policy,
    PrioritizedReplayBuffer,
)
from sb3_td3x.benchmark.configs import RECOMMENDED
from sb3_td3x.common.buffers import BasePrioritizedReplayBuffer
from sb3_td3x.zoo import (
    HYPERPARAMS_FILE,
    convert_td3x_params,
    register,
    sample_td3x_params,
)
from sb3_td3x.zoo.samplers import CROSSQ_CRITIC_WIDTHS, NET_ARCHS

REPO_ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 600


def subprocess_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.pop("SB3_TD3X_NO_ZOO_HOOK", None)
    env.update(extra)
    return env


def run(args: list[str], cwd: Path, python: str = sys.executable, check: bool = True, **env: str) -> str:
    """Run ``python <args>`` in a fresh interpreter; return stdout + stderr, failing with them on error."""
    result = subprocess.run(
        [python, *args], cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True, timeout=TIMEOUT
    )
    output = result.stdout + result.stderr
    if check:
        assert result.returncode == 0, f"{' '.join(args)} exited with {result.returncode}:\n{output[-6000:]}"
    return output


def zoo_train(*args: str, algo: str = "td3x") -> list[str]:
    return ["-m", "rl_zoo3.train", "--algo", algo, "--num-threads", "1", *args]


def leaves(buffer: PrioritizedReplayBuffer, n_slots: int) -> np.ndarray:
    """Priorities (sum tree leaves) of the first ``n_slots`` slots."""
    return buffer.sum_tree.tree[buffer.sum_tree.size : buffer.sum_tree.size + n_slots].copy()


@pytest.fixture(scope="module", autouse=True)
def registered() -> None:
    register()


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch) -> None:
    # MuJoCo writes MUJOCO_LOG.TXT into the working directory
    monkeypatch.chdir(tmp_path)


# --- the yml file ---------------------------------------------------------------------------------------------


def test_repository_yml_is_the_packaged_one():
    # One copy: the build installs the top-level hyperparams/ folder as sb3_td3x.hyperparams (here, an editable install)
    assert HYPERPARAMS_FILE.resolve() == (REPO_ROOT / "hyperparams" / "td3x.yml").resolve()
    assert not (REPO_ROOT / "sb3_td3x" / "hyperparams").exists()


def test_yml_covers_mujoco_and_pendulum():
    hyperparams = yaml.safe_load(HYPERPARAMS_FILE.read_text())
    tasks = ["Ant", "HalfCheetah", "Hopper", "Humanoid", "HumanoidStandup", "InvertedDoublePendulum"]
    tasks += ["InvertedPendulum", "Pusher", "Reacher", "Swimmer", "Walker2d"]
    # Pusher-v4 needs mujoco<3, which gymnasium[mujoco] no longer installs
    expected = {f"{task}-{version}" for task in tasks for version in ("v4", "v5")} - {"Pusher-v4"} | {"Pendulum-v1", "default"}
    assert expected <= set(hyperparams)
    assert hyperparams["Hopper-v4"]["n_timesteps"] == 1e6


def test_yml_mujoco_entries_are_the_benchmarks_recommended_set():
    """The set the benchmark measures as ``td3x_recommended`` is the one ``--algo td3x`` trains on MuJoCo."""
    hyperparams = yaml.safe_load(HYPERPARAMS_FILE.read_text())
    mujoco = [env_id for env_id in hyperparams if env_id.endswith(("-v4", "-v5"))]
    assert "Hopper-v4" in mujoco and "Walker2d-v5" in mujoco
    for env_id in mujoco:
        # RL Zoo evaluates a keyword dict given as a string (replay_buffer_kwargs), as the benchmark's overrides
        entry = {key: hyperparams[env_id].get(key) for key in RECOMMENDED}
        entry = {
            key: eval(value) if key.endswith("_kwargs") and isinstance(value, str) else value for key, value in entry.items()
        }
        assert entry == {key: eval(value) for key, value in RECOMMENDED.items()}, env_id


def make_manager(tmp_path: Path, env_id: str, algo: str = "td3x", **kwargs: Any) -> ExperimentManager:
    return ExperimentManager(argparse.Namespace(), algo, env_id, str(tmp_path / "logs"), eval_freq=-1, **kwargs)


@pytest.mark.parametrize("env_id", [*sorted(set(yaml.safe_load(HYPERPARAMS_FILE.read_text())) - {"default"}), "default"])
def test_every_yml_entry_builds_td3x(tmp_path, env_id):
    # "default" is read for an environment that has no entry of its own
    env_id = "MountainCarContinuous-v0" if env_id == "default" else env_id
    manager = make_manager(tmp_path, env_id, n_timesteps=100, hyperparams={"buffer_size": 1000})
    assert manager.config == str(HYPERPARAMS_FILE)  # found without --conf-file
    model, saved_hyperparams = manager.setup_experiment()
    assert isinstance(model, TD3X)
    assert saved_hyperparams["prioritized_replay"] == "lap"
    assert isinstance(model.replay_buffer, LAPReplayBuffer)
    model.env.close()


def test_other_algorithms_are_untouched(tmp_path):
    manager = make_manager(tmp_path, "Pendulum-v1", algo="td3", n_timesteps=100, save_freq=10)
    assert Path(manager.config) == Path(rl_zoo3.exp_manager.__file__).parent / "hyperparams" / "td3.yml"
    model, _ = manager.setup_experiment()
    assert [type(callback) for callback in manager.callbacks] == [CheckpointCallback]
    model.env.close()


# Every TD3X option through a yml file (--conf-file) of RL Zoo's format; the CLI test below passes the others
# through --hyperparams
YML_CASES = {
    "lap_noisy": """
        prioritized_replay: 'lap'
        replay_buffer_kwargs: "dict(alpha=0.3, min_priority=0.5)"
        n_steps: 2
        policy: 'NoisyMlpPolicy'
        policy_kwargs: "dict(net_arch=[32, 32], noise_kind='independent', sigma_init=0.02, noisy_critic=True)"
        noise_type: null
    """,
    "crossq_lap": """
        policy: 'CrossQPolicy'
        policy_kwargs: "dict(net_arch=dict(pi=[32, 32], qf=[48, 48]), renorm_warmup_steps=50)"
        policy_delay: 3
        prioritized_replay: 'lap'
        n_steps: 2
    """,
    "buffer_class_exponential": """
        replay_buffer_class: PrioritizedReplayBuffer
        replay_buffer_kwargs: "dict(alpha=0.5, beta0=0.6, priority_eps=0.001)"
        noise_type: 'normal'
        noise_std: 0.2
        noise_schedule: 'exponential'
        noise_final_std: 0.05
        noise_decay_steps: 1000
    """,
}


@pytest.mark.parametrize("case", sorted(YML_CASES))
def test_td3x_options_pass_through_a_yml_file(tmp_path, case):
    entry = {"n_timesteps": 100, "policy": "MlpPolicy", "learning_starts": 20, "batch_size": 16, "buffer_size": 500}
    entry.update(yaml.safe_load(YML_CASES[case]))
    config = tmp_path / "td3x_custom.yml"
    config.write_text(yaml.safe_dump({"Pendulum-v1": entry}))
    manager = make_manager(tmp_path, "Pendulum-v1", config=str(config))
    model, _ = manager.setup_experiment()
    manager.learn(model)
    buffer = model.replay_buffer
    if case == "lap_noisy":
        assert isinstance(buffer, LAPReplayBuffer)
        assert (buffer.alpha, buffer.min_priority, buffer.n_steps) == (0.3, 0.5, 2)
        assert isinstance(model.policy, NoisyTD3Policy)
        assert (model.policy.noise_kind, model.policy.sigma_init, model.policy.noisy_critic) == ("independent", 0.02, True)
        assert model.action_noise is None
    elif case == "crossq_lap":
        assert isinstance(buffer, LAPReplayBuffer) and buffer.n_steps == 2
        assert isinstance(model.policy, CrossQTD3Policy) and model.policy_delay == 3
        assert model.critic_target is model.critic
        assert model.critic.qf0[1].out_features == 48
        assert model.policy.batch_renorm_kwargs["renorm_warmup_steps"] == 50
        # 80 gradient steps (100 steps, 20 random): one training-mode pass of the critics each
        assert int(model.critic.qf0[0].steps) == model._n_updates == 80
    else:
        assert type(buffer) is PrioritizedReplayBuffer
        assert (buffer.alpha, buffer.beta0, buffer.priority_eps) == (0.5, 0.6, 0.001)
        noise = model.action_noise
        assert isinstance(noise, DecayingNormalActionNoise) and noise.schedule == "exponential"
        # 100 steps of 1000 on an exponential schedule from 0.2 to 0.05
        np.testing.assert_allclose(noise.current_sigma, 0.2 * (0.05 / 0.2) ** 0.1)


# --- the Optuna sampler ---------------------------------------------------------------------------------------


def test_sampler_covers_its_search_space():
    """Sample many random trials: every branch appears, and each configuration builds a TD3X."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0), direction="maximize")
    seen: set[tuple[str, str, str]] = set()
    seen_scales: set[str] = set()
    seen_layer_norm: set[bool] = set()
    seen_widths: set[int] = set()
    for _ in range(80):
        trial = study.ask()
        hyperparams = sample_td3x_params(trial, n_actions=1, n_envs=1, additional_args={})
        model = TD3X(env="Pendulum-v1", buffer_size=100, **hyperparams)
        params = trial.params
        seen.add((params["prioritized_replay"], params["exploration"], params.get("noise_schedule", "-")))
        expected_buffer = {"none": "NStepReplayBuffer", "per": "PrioritizedReplayBuffer", "lap": "LAPReplayBuffer"}
        replay_buffer_name = type(model.replay_buffer).__name__
        if params["prioritized_replay"] == "none" and params["n_steps"] == 1:
            assert replay_buffer_name == "ReplayBuffer"
        else:
            assert replay_buffer_name == expected_buffer[params["prioritized_replay"]]
            assert model.replay_buffer.n_steps == params["n_steps"]
        if params["prioritized_replay"] != "none":
            assert model.replay_buffer.alpha == params["alpha"]
            assert model.replay_buffer.max_priority_reset == (params["max_priority_reset"] or None)
        if params["prioritized_replay"] == "per":
            assert model.replay_buffer.beta0 == params["beta0"]
        if params["prioritized_replay"] == "lap":
            assert model.replay_buffer.threshold_scale == params["threshold_scale"]
            seen_scales.add(params["threshold_scale"])
        if params["exploration"] == "normal":
            noise = model.action_noise
            if params["noise_schedule"] == "constant":
                assert type(noise) is NormalActionNoise
            else:
                assert isinstance(noise, DecayingNormalActionNoise) and noise.schedule == params["noise_schedule"]
                np.testing.assert_allclose(noise._final_sigma, params["noise_std"] * params["noise_final_fraction"])
        else:
            assert model.action_noise is None
            assert isinstance(model.policy, NoisyTD3Policy)
            assert model.policy.noise_kind == params["exploration"].removeprefix("noisy_")
        if params.get("crossq", False):
            # CrossQ's networks: batch-renormalized, no target networks, the sampled critic width, Gaussian noise
            assert isinstance(model.policy, CrossQTD3Policy) and params["exploration"] == "normal"
            width = params["crossq_critic_width"]
            assert model.policy.net_arch == {"pi": NET_ARCHS[params["net_arch"]], "qf": [width, width]}
            assert any(isinstance(module, BatchRenorm1d) for module in model.policy.critic.modules())
            assert "critic_layer_norm" not in params
            seen_widths.add(width)
        else:
            assert not isinstance(model.policy, CrossQTD3Policy)
            assert model.policy.net_arch == NET_ARCHS[params["net_arch"]]
            assert model.policy.critic_layer_norm is params["critic_layer_norm"]
            seen_layer_norm.add(params["critic_layer_norm"])
        assert model.batch_size == 2 ** params["batch_size_pow"] == trial.user_attrs["batch_size"]
        assert model.learning_rate == params["learning_rate"]
        study.tell(trial, 0.0)
    kinds = {(kind, exploration) for kind, exploration, _ in seen}
    assert kinds == {(k, e) for k in ("none", "per", "lap") for e in ("normal", "noisy_factorized", "noisy_independent")}
    assert {schedule for _, exploration, schedule in seen if exploration == "normal"} == {"constant", "linear", "exponential"}
    assert seen_scales == {"fixed", "reward", "td_error"}
    assert seen_layer_norm == {False, True}
    assert seen_widths == set(CROSSQ_CRITIC_WIDTHS)


def test_converted_trial_overrides_the_yml(tmp_path):
    """--trial-id: the converter output, applied over the yml entry, gives the trial's configuration."""
    params = dict(
        learning_rate=3e-4,
        batch_size_pow=7,
        net_arch="small",
        n_steps=3,
        prioritized_replay="none",
        exploration="noisy_factorized",
    )
    converted = convert_td3x_params(params)
    # the yml entry of Pendulum has LAP and Gaussian noise: both must go
    manager = make_manager(tmp_path, "Pendulum-v1", n_timesteps=100, hyperparams=converted)
    model, _ = manager.setup_experiment()
    assert type(model.replay_buffer).__name__ == "NStepReplayBuffer" and model.replay_buffer.n_steps == 3
    assert model.action_noise is None and isinstance(model.policy, NoisyTD3Policy)
    assert model.policy.net_arch == [64, 64] and model.batch_size == 128
    # a trial from before the sampler had critic_layer_norm ran without it
    assert model.policy.critic_layer_norm is False
    model.env.close()
    converted = convert_td3x_params({**params, "exploration": "normal", "noise_std": 0.1, "noise_schedule": "constant"})
    assert converted["policy_kwargs"] == {"net_arch": [64, 64], "critic_layer_norm": False}
    converted = convert_td3x_params({**params, "critic_layer_norm": True})
    assert converted["policy_kwargs"]["critic_layer_norm"] is True
    # a CrossQ trial replaces the yml's policy and its policy_kwargs (critic_layer_norm included: CrossQ has none)
    gaussian = {**params, "exploration": "normal", "noise_std": 0.1, "noise_schedule": "constant"}
    converted = convert_td3x_params({**gaussian, "crossq": True, "crossq_critic_width": 512})
    manager = make_manager(tmp_path / "crossq", "Pendulum-v1", n_timesteps=100, hyperparams=converted)
    model, _ = manager.setup_experiment()
    assert isinstance(model.policy, CrossQTD3Policy) and not model.policy.uses_target_networks
    assert model.policy.net_arch == {"pi": [64, 64], "qf": [512, 512]}
    assert type(model.action_noise) is NormalActionNoise
    model.env.close()
    # and a trial without it replaces the CrossQPolicy of a yml file
    entry = {"n_timesteps": 100, "policy": "CrossQPolicy", "policy_kwargs": "dict(net_arch=dict(pi=[32], qf=[32]))"}
    config = tmp_path / "td3x_crossq.yml"
    config.write_text(yaml.safe_dump({"Pendulum-v1": entry}))
    converted = convert_td3x_params({**gaussian, "crossq": False, "critic_layer_norm": True})
    manager = make_manager(tmp_path / "mlp", "Pendulum-v1", config=str(config), hyperparams=converted)
    model, _ = manager.setup_experiment()
    assert not isinstance(model.policy, CrossQTD3Policy) and model.policy.critic_layer_norm is True
    model.env.close()
    with pytest.raises(ValueError, match="crossq=True needs exploration 'normal'"):
        convert_td3x_params({**params, "crossq": True, "crossq_critic_width": 256})


# --- checkpoints, in-process ----------------------------------------------------------------------------------


# --- start-up hook and install modes --------------------------------------------------------------------------

STARTUP_CHECK = """
import argparse, json, sys
imported_at_startup = sorted(name for name in ("torch", "sb3_td3x", "rl_zoo3") if name in sys.modules)
import rl_zoo3.train
from rl_zoo3.exp_manager import ExperimentManager
from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER
from rl_zoo3.utils import ALGOS
import sb3_td3x
manager = ExperimentManager(argparse.Namespace(), "td3x", "Pendulum-v1", sys.argv[1])
print(json.dumps(dict(
    imported_at_startup=imported_at_startup,
    algo=f"{ALGOS['td3x'].__module__}.{ALGOS['td3x'].__qualname__}",
    sampler=HYPERPARAMS_SAMPLER["td3x"].__name__,
    converter=HYPERPARAMS_CONVERTER["td3x"].__name__,
    package=sb3_td3x.__file__,
    config=manager.config,
)))
"""


def startup_check(cwd: Path, python: str = sys.executable) -> dict[str, Any]:
    output = run(["-c", STARTUP_CHECK, str(cwd / "logs")], cwd=cwd, python=python)
    return json.loads(output.strip().splitlines()[-1])


def test_registration_in_a_fresh_interpreter(tmp_path):
    report = startup_check(tmp_path)
    assert report["imported_at_startup"] == []  # torch is only imported with RL Zoo
    assert report["algo"] == "sb3_td3x.td3x.td3x.TD3X"
    assert (report["sampler"], report["converter"]) == ("sample_td3x_params", "convert_td3x_params")
    # The repository's hyperparams/ folder, installed (here editable) as sb3_td3x.hyperparams
    assert report["config"] == str(REPO_ROOT / "hyperparams" / "td3x.yml")
    usage = run(["-m", "rl_zoo3.train", "--help"], cwd=tmp_path)
    assert all(name in usage for name in ("td3x", "dqnx", "sacx", "ddpgx"))


def test_hook_switched_off_and_explicit_entry_point(tmp_path):
    # Without the hook RL Zoo rejects --algo td3x: the hook is what registers it ...
    output = run(zoo_train("--help"), cwd=tmp_path, check=False, SB3_TD3X_NO_ZOO_HOOK="1")
    assert "invalid choice: 'td3x'" in output
    # ... and python -m sb3_td3x.train registers it explicitly, with RL Zoo's arguments
    args = ["--algo", "td3x", "--env", "Pendulum-v1", "-n", "60", "-f", "logs", "--eval-freq", "-1", "--seed", "0"]
    run(
        ["-m", "sb3_td3x.train", *args, "-params", "learning_starts:20", "buffer_size:100"],
        cwd=tmp_path,
        SB3_TD3X_NO_ZOO_HOOK="1",
    )
    assert TD3X.load(tmp_path / "logs" / "td3x" / "Pendulum-v1_1" / "Pendulum-v1.zip").num_timesteps == 60


def test_broken_package_does_not_break_rl_zoo(tmp_path):
    """If sb3_td3x cannot be imported, RL Zoo still works for its own algorithms and says why td3x is missing."""
    broken = tmp_path / "broken" / "sb3_td3x"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('sb3_td3x is broken')\n")
    code = "from rl_zoo3.utils import ALGOS; print(sorted(ALGOS))"
    output = run(["-c", code], cwd=tmp_path, PYTHONPATH=str(broken.parent))
    assert "'td3'" in output and "'td3x'" not in output
    assert "could not register TD3X with RL Zoo" in output and "sb3_td3x is broken" in output


def copy_project(destination: Path) -> Path:
    """The files a build needs, copied so that building writes nothing into the repository."""
    source = destination / "src"
    source.mkdir()
    for name in ("setup.py", "setup.cfg", "pyproject.toml", "README.md", "_sb3_td3x_zoo_hook.py"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for folder in ("sb3_td3x", "hyperparams"):
        shutil.copytree(REPO_ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return source


@pytest.mark.parametrize("mode", ["wheel", "editable"])
def test_install_modes(tmp_path, mode):
    """
    Install the package into a new virtual environment, as a wheel (plain ``pip install``) or editable
    (``pip install -e``, PEP 660), then check in a fresh interpreter that ``rl_zoo3`` sees ``td3x``.
    The new environment borrows the dependencies of this one through a path entry, which processes none of
    this environment's ``.pth`` files: only the fresh install can register TD3X there.
    """
    source = copy_project(tmp_path)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=TIMEOUT)
    python = str(venv / "bin" / "python")
    site_packages = Path(run(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, python).strip())
    dependencies = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "_dependencies.pth").write_text("\n".join(sorted(dependencies)) + "\n")
    install = ["-m", "pip", "--python", python, "install", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    run([*install, *(["-e"] if mode == "editable" else []), str(source)], cwd=tmp_path)

    pth = site_packages / "sb3_td3x_zoo_hook.pth"
    assert pth.read_text() == "import _sb3_td3x_zoo_hook; _sb3_td3x_zoo_hook.install()\n"
    report = startup_check(tmp_path, python=python)
    assert report["imported_at_startup"] == []
    assert report["algo"] == "sb3_td3x.td3x.td3x.TD3X"
    assert report["sampler"] == "sample_td3x_params"
    package_dir = (source if mode == "editable" else site_packages) / "sb3_td3x"
    assert Path(report["package"]) == package_dir / "__init__.py"
    # One copy of each yml: the top-level hyperparams/ folder, installed as sb3_td3x.hyperparams
    hyperparams_dir = source / "hyperparams" if mode == "editable" else package_dir / "hyperparams"
    assert report["config"] == str(hyperparams_dir / "td3x.yml") and Path(report["config"]).is_file()
    if mode == "wheel":
        assert sorted(path.name for path in hyperparams_dir.glob("*.yml")) == sorted(
            path.name for path in (REPO_ROOT / "hyperparams").glob("*.yml")
        )

    args = ["--env", "Pendulum-v1", "-n", "50", "-f", "logs", "--eval-freq", "-1", "--seed", "0"]
    output = run(zoo_train(*args, "-params", "learning_starts:10", "buffer_size:100"), cwd=tmp_path, python=python)
    assert f"Loading hyperparameters from: {report['config']}" in output
    assert (tmp_path / "logs" / "td3x" / "Pendulum-v1_1" / "Pendulum-v1.zip").is_file()


# --- train, enjoy, record_video on Hopper-v4 --------------------------------------------------------------------


@pytest.fixture(scope="module")
def hopper_logs(tmp_path_factory) -> Path:
    """``python -m rl_zoo3.train --algo td3x --env Hopper-v4`` (the yml entry), a few hundred steps."""
    cwd = tmp_path_factory.mktemp("hopper")
    args = ["--env", "Hopper-v4", "-n", "300", "-f", "logs", "--eval-freq", "-1", "--seed", "0"]
    output = run(zoo_train(*args, "-params", "learning_starts:100", "buffer_size:1000", "batch_size:32"), cwd=cwd)
    assert f"Loading hyperparameters from: {HYPERPARAMS_FILE}" in output
    return cwd


def test_train_hopper_with_the_yml_entry(hopper_logs):
    model = TD3X.load(hopper_logs / "logs" / "td3x" / "Hopper-v4_1" / "Hopper-v4.zip")
    assert model.num_timesteps == 300
    assert model.prioritized_replay == "lap" and model.policy.net_arch == [400, 300]
    config = yaml.unsafe_load((hopper_logs / "logs" / "td3x" / "Hopper-v4_1" / "Hopper-v4" / "config.yml").read_text())
    assert dict(config)["n_timesteps"] == 1e6


def test_enjoy(hopper_logs):
    args = ["-m", "rl_zoo3.enjoy", "--algo", "td3x", "--env", "Hopper-v4", "-f", "logs", "--no-render", "-n", "1000"]
    output = run(args, cwd=hopper_logs)
    assert "Loading logs/td3x/Hopper-v4_1/Hopper-v4.zip" in output
    lengths = [int(length) for length in re.findall(r"Episode Length (\d+)", output)]
    assert lengths and sum(lengths) <= 1000
    assert re.search(r"Mean reward: -?\d", output)


def test_record_video_headless(hopper_logs):
    """No display and no MUJOCO_GL given: the zoo module selects EGL (or OSMesa) and the mp4 gets frames."""
    import imageio.v2 as imageio

    args = ["-m", "rl_zoo3.record_video", "--algo", "td3x", "--env", "Hopper-v4", "-f", "logs", "-n", "40", "-o", "videos"]
    env = {name: "" for name in ("DISPLAY", "WAYLAND_DISPLAY")}
    run(args, cwd=hopper_logs, **env)
    (video,) = glob.glob(str(hopper_logs / "videos" / "*.mp4"))
    frames = np.stack(imageio.mimread(video, memtest=False))
    assert frames.shape[0] >= 40 and frames.shape[-1] == 3
    assert frames.std() > 1.0  # an actual picture, not a blank one
    assert np.abs(frames[-1].astype(float) - frames[0].astype(float)).mean() > 0.1  # the hopper moves


# --- Pendulum: options through --hyperparams, plots next to td3 -----------------------------------------------


@pytest.fixture(scope="module")
def pendulum_logs(tmp_path_factory) -> Path:
    """
    td3x (every PER / n-step / noise-schedule option through --hyperparams) and td3 runs in one log folder.
    Two evaluation episodes: all_plots cannot aggregate a single run evaluated on a single episode.
    """
    cwd = tmp_path_factory.mktemp("pendulum")
    common = ["--env", "Pendulum-v1", "-n", "300", "-f", "logs", "--eval-freq", "100", "--eval-episodes", "2", "--seed", "0"]
    options = ["prioritized_replay:'per'", "replay_buffer_kwargs:dict(alpha=0.7, beta0=0.5, priority_eps=1e-05)", "n_steps:3"]
    options += ["noise_schedule:'linear'", "noise_final_std:0.02", "noise_decay_steps:200"]
    budget = ["learning_starts:100", "buffer_size:1000", "batch_size:32"]
    run(zoo_train(*common, "--save-replay-buffer", "-params", *budget, *options), cwd=cwd)
    run(["-m", "rl_zoo3.train", "--algo", "td3", *common, "--num-threads", "1", "-params", *budget], cwd=cwd)
    return cwd


def test_td3x_options_pass_through_hyperparams(pendulum_logs):
    run_dir = pendulum_logs / "logs" / "td3x" / "Pendulum-v1_1"
    model = TD3X.load(run_dir / "Pendulum-v1.zip")
    assert model.prioritized_replay == "per" and model.replay_buffer_kwargs["alpha"] == 0.7
    assert (model.n_steps, model.batch_size) == (3, 32)
    noise = model.action_noise
    assert isinstance(noise, DecayingNormalActionNoise) and (noise.schedule, noise.decay_steps) == ("linear", 200)
    # the noise of the saved model has decayed all the way (200 of 300 steps)
    np.testing.assert_allclose(model.action_noise.current_sigma, 0.02)
    buffer = load_from_pkl(run_dir / "replay_buffer.pkl")
    assert type(buffer) is PrioritizedReplayBuffer
    assert (buffer.alpha, buffer.beta0, buffer.priority_eps, buffer.n_steps) == (0.7, 0.5, 1e-5, 3)
    assert buffer.beta == pytest.approx(1.0)  # annealed from beta0 to 1 over the run
    assert buffer.pos == 300 and np.unique(leaves(buffer, 300)).size > 1


def test_all_plots_td3x_next_to_td3(pendulum_logs):
    args = ["-m", "rl_zoo3.plots.all_plots", "-a", "td3", "td3x", "-e", "Pendulum-v1", "-f", "logs", "-l", "zoo"]
    output = run([*args, "--no-display", "--no-million", "-max", "1000", "-o", "results"], cwd=pendulum_logs, MPLBACKEND="Agg")
    assert "TD3X" in output
    with open(pendulum_logs / "results.pkl", "rb") as file:
        results = pickle.load(file)["Pendulum-v1"]
    for key in ("TD3-zoo", "TD3X-zoo"):
        np.testing.assert_array_equal(results[key]["timesteps"], [100, 200, 300])


@pytest.mark.parametrize("algo", ["td3x", "td3"])
def test_plot_train(pendulum_logs, algo):
    args = ["-m", "rl_zoo3.plots.plot_train", "-a", algo, "-e", "Pendulum-v1", "-f", "logs", "-w", "1"]
    output = run(args, cwd=pendulum_logs, MPLBACKEND="Agg")
    assert "No data available" not in output
    # the same command, with the figure inspected instead of shown
    show = "lambda *a, **k: print('LINES', [(l.get_label(), len(l.get_xdata())) for l in plt.gca().lines])"
    code = (
        "import runpy, sys; import matplotlib.pyplot as plt\n"
        f"plt.show = {show}\n"
        f"sys.argv = {['plot_train', *args[2:]]!r}\n"
        "runpy.run_module('rl_zoo3.plots.plot_train', run_name='__main__')\n"
    )
    output = run(["-c", code], cwd=pendulum_logs, MPLBACKEND="Agg")
    assert "LINES [('Pendulum-v1_1', 1)]" in output  # one 200-step episode in 300 steps


# --- --optimize: two workers on one shared study -------------------------------------------------------------


def test_optimize_two_workers_share_a_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'td3x_study.db'}"
    # Created once up front, as for any distributed Optuna study; the workers load it
    optuna.create_study(storage=storage, study_name="td3x-pendulum", direction="maximize")
    args = ["--env", "Pendulum-v1", "-n", "200", "-f", "logs", "--optimize", "--n-trials", "1", "--n-jobs", "1"]
    args += ["--sampler", "random", "--pruner", "none", "--n-evaluations", "1", "--eval-episodes", "1", "--no-optim-plots"]
    args += ["--storage", storage, "--study-name", "td3x-pendulum", "-params", "learning_starts:100", "buffer_size:1000"]
    workers = []
    for seed in (1, 2):
        log = open(tmp_path / f"worker_{seed}.log", "w")
        command = [sys.executable, *zoo_train(*args, "--seed", str(seed))]
        workers.append(
            (subprocess.Popen(command, cwd=tmp_path, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT), log)
        )
    for worker, log in workers:
        worker.wait(timeout=TIMEOUT)
        log.close()
        assert worker.returncode == 0, Path(log.name).read_text()[-6000:]

    study = optuna.load_study(storage=storage, study_name="td3x-pendulum")
    trials = study.get_trials()
    assert len(trials) == 2 and all(trial.state == optuna.trial.TrialState.COMPLETE for trial in trials)
    for trial in trials:
        assert {"learning_rate", "batch_size_pow", "net_arch", "n_steps", "prioritized_replay", "exploration"} <= set(
            trial.params
        )
        assert np.isfinite(trial.value)
        # --trial-id: RL Zoo loads the trial back through the converter
        manager = make_manager(tmp_path, "Pendulum-v1")
        assert manager.load_trial(storage, "td3x-pendulum", trial.number) == convert_td3x_params(trial.params)
    assert glob.glob(str(tmp_path / "logs" / "td3x" / "report_Pendulum-v1_1-trials-200-random-none_*.csv"))


# --- kill -9 and resume ----------------------------------------------------------------------------------------


# TD7 (checkpoints, training after each episode, value clipping by default), small
SALE_OPTIONS = [
    "prioritized_replay:'per'",  # LAP's floor of 1 would leave every priority at 1 this early
    "policy_kwargs:dict(net_arch=[32, 32, 32], zs_dim=16, encoder_net_arch=[32])",
    "target_update_interval:20",
    "replay_buffer_kwargs:dict(max_priority_reset=20)",
]


@pytest.mark.parametrize(
    "extras", [["prioritized_replay:'per'", "n_steps:3"], SALE_OPTIONS], ids=["td3x-per-nstep", "td7-checkpoints"]
)
def test_resume_after_sigkill_from_the_last_checkpoint(tmp_path, extras):
    """
    Train with --save-freq and --save-replay-buffer, SIGKILL the process, resume with -i from its last checkpoint.
    The resumed run collects 100 more steps without gradient steps (learning_starts beyond the end), so that
    what it saves can be compared exactly with the checkpoint: model weights (with SALE: the encoder, its fixed
    copies and the policy checkpoint), every transition and every priority of the prioritized buffer, the
    VecNormalize statistics and, with SALE, the value-clipping range and the checkpoints' assessment.
    """
    algo = "td7" if extras is SALE_OPTIONS else "td3x"
    algorithm = TD7 if extras is SALE_OPTIONS else TD3X
    options = [*extras, "normalize:True", "batch_size:16", "buffer_size:5000"]
    common = ["--env", "Pendulum-v1", "-f", "logs", "--eval-freq", "-1", "--save-replay-buffer"]
    killed_dir = tmp_path / "logs" / algo / "Pendulum-v1_1"
    log = open(tmp_path / "killed.log", "w")
    command = zoo_train(
        *common, "-n", "100000", "--save-freq", "150", "--seed", "0", "-params", "learning_starts:50", *options, algo=algo
    )
    process = subprocess.Popen(
        [sys.executable, *command], cwd=tmp_path, env=subprocess_env(), stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + TIMEOUT

    def saved_steps() -> list[int]:
        paths = glob.glob(str(killed_dir / "rl_model_*_steps.zip"))
        return [int(re.search(r"rl_model_(\d+)_steps", path)[1]) for path in paths]

    # Every 150 steps, written between iterations: at 150, 300, 450 (with per-episode training, at the end of the
    # 200-step episode that follows: 200, 400, 600)
    while max(saved_steps(), default=0) < 450:
        assert process.poll() is None, (tmp_path / "killed.log").read_text()[-6000:]
        assert time.monotonic() < deadline
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    log.close()
    assert not (killed_dir / "Pendulum-v1.zip").exists()  # killed long before the end

    steps = max(saved_steps())
    checkpoint = killed_dir / f"rl_model_{steps}_steps.zip"
    output = run(
        zoo_train(
            *common,
            "-n",
            "100",
            "--save-freq",
            "50",
            "--seed",
            "1",
            "-i",
            str(checkpoint),
            "-params",
            "learning_starts:1000000",
            *options,
            algo=algo,
        ),
        cwd=tmp_path,
    )
    assert "Loading pretrained agent" in output
    resumed_dir = tmp_path / "logs" / algo / "Pendulum-v1_2"

    # timesteps go on from the checkpoint
    resumed = algorithm.load(resumed_dir / "Pendulum-v1.zip")
    # -n 100: with per-episode training, the episode it is in goes on to its end (200 steps)
    added = 200 if extras is SALE_OPTIONS else 100
    assert resumed.num_timesteps == steps + added
    assert (resumed_dir / f"rl_model_{steps + (added if extras is SALE_OPTIONS else 50)}_steps.zip").is_file()
    saved = algorithm.load(checkpoint)
    assert saved.num_timesteps == steps
    for name, tensor in saved.policy.state_dict().items():
        assert th.equal(tensor, resumed.policy.state_dict()[name]), name
    if extras is SALE_OPTIONS:
        assert "fixed_encoder_target.state_encoder.0.weight" in saved.policy.state_dict()
        assert saved.policy.has_checkpoint and saved._n_updates >= 20  # a hard update happened before the kill
        assert resumed.value_range.__dict__ == saved.value_range.__dict__ and saved.value_range.high > saved.value_range.low
        assert resumed.checkpoints.__dict__ == saved.checkpoints.__dict__

    # the replay buffer of the checkpoint, then the new transitions
    before = load_from_pkl(killed_dir / f"rl_model_replay_buffer_{steps}_steps.pkl")
    after = load_from_pkl(resumed_dir / "replay_buffer.pkl")
    assert isinstance(before, PrioritizedReplayBuffer) and before.pos == steps
    assert after.pos == steps + added
    for field in ("observations", "next_observations", "actions", "rewards", "dones"):
        np.testing.assert_array_equal(getattr(after, field)[:steps], getattr(before, field)[:steps], err_msg=field)
    old_priorities = leaves(before, steps)
    assert np.unique(old_priorities).size > steps // 2  # learned priorities, not the initial ones
    np.testing.assert_array_equal(leaves(after, steps), old_priorities)
    np.testing.assert_array_equal(leaves(after, steps + added)[steps:], before.max_priority)
    # the trajectory cut by the restart ends at the checkpoint (n-step returns stop there)
    last = steps - 1
    np.testing.assert_array_equal(after.timeouts[:last], before.timeouts[:last])
    assert after.timeouts[last, 0] == max(before.timeouts[last, 0], 1.0 - before.dones[last, 0])

    # VecNormalize statistics: those of the checkpoint, updated by one reset and the new steps
    with open(killed_dir / f"rl_model_vecnormalize_{steps}_steps.pkl", "rb") as file:
        count_before = pickle.load(file).obs_rms.count
    with open(resumed_dir / "Pendulum-v1" / "vecnormalize.pkl", "rb") as file:
        count_after = pickle.load(file).obs_rms.count
    assert count_after == pytest.approx(count_before + added + 1)


# --- bad hyperparameters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "algo, override, named",
    [
        ("td3x", "prioritized_replay:'bogus'", "prioritized_replay must be one of ('none', 'per', 'lap'), got 'bogus'"),
        ("td3x", "noise_schedule:'linear'", "noise_final_std"),
        ("td7", "target_update_interval:0", "target_update_interval must be an integer >= 1, got 0"),
        ("sacx", "replay_buffer_kwargs:dict(alpha=-1)", "alpha must be in [0, 1]"),
        ("td3x", "unknown_key:3", "unexpected keyword argument 'unknown_key'"),
        ("td3x", "noise_std:-1", "noise_std must be a number >= 0"),
        ("td7", "noise_type:'uniform'", "noise_type must be one of"),
        ("td3x", "replay_buffer_kwargs:dict(alpha=2.0)", "alpha must be in [0, 1]"),
        # an argument of an earlier version: its new spelling, in one line
        ("td3x", "alpha:0.5", "TD3X: alpha is a setting of the replay buffer now: replay_buffer_kwargs=dict(alpha=0.5)"),
        ("td3x", "lap_threshold:'td_error'", "replay_buffer_kwargs=dict(threshold_scale='td_error')"),
        # a setting of the other kind (td3x.yml's Pendulum entry is LAP)
        ("td3x", "replay_buffer_kwargs:dict(beta0=0.5)", "(beta0 is PrioritizedReplayBuffer's: prioritized_replay='per')"),
        ("td3x", "noise_schedule:'cosine'", "noise_schedule must be one of ('constant', 'linear', 'exponential')"),
        # A discrete action space for the continuous algorithms, with or without the yml's action noise
        ("td3x@CartPole-v1", "learning_starts:10", "TD3X needs a continuous (Box) action space"),
        ("sacx@CartPole-v1", "noise_type:None", "SACX needs a continuous (Box) action space"),
        ("dqnx@Pendulum-v1", "learning_starts:10", "DQNX needs a discrete (Discrete) action space"),
    ],
)
def test_bad_hyperparameter_fails_before_anything_is_built(tmp_path, algo, override, named):
    """One line on stderr naming the argument, no traceback, no run folder, nothing built."""
    algo, _, env_id = algo.partition("@")
    command = ["-m", "rl_zoo3.train", "--algo", algo, "--env", env_id or "Pendulum-v1", "-f", "logs", "-n", "100"]
    result = subprocess.run(
        [sys.executable, *command, "--hyperparams", override],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and named in result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert not (tmp_path / "logs").exists()


def test_the_check_comes_before_the_environments_and_is_fast(tmp_path, monkeypatch):
    manager = ExperimentManager(
        argparse.Namespace(),
        "td3x",
        "Hopper-v4",
        str(tmp_path / "logs"),
        n_timesteps=100,
        hyperparams={"prioritized_replay": "'bogus'"},
    )
    built = []
    monkeypatch.setattr(manager, "create_envs", lambda *args, **kwargs: built.append(args))
    start = time.perf_counter()
    with pytest.raises(SystemExit, match="prioritized_replay"):
        manager.setup_experiment()
    assert time.perf_counter() - start < 2.0
    assert built == [] and not (tmp_path / "logs").exists()


# --- td7 -------------------------------------------------------------------------------------------------------


def test_td7_yml_is_the_packaged_one_and_builds_td7(tmp_path):
    from sb3_td3x.zoo import hyperparams_file

    assert (REPO_ROOT / "hyperparams" / "td7.yml").read_bytes() == hyperparams_file("td7").read_bytes()
    entries = yaml.safe_load(hyperparams_file("td7").read_text())
    for env_id in ("Hopper-v4", "HalfCheetah-v4", "Walker2d-v4", "Ant-v4", "Humanoid-v4", "Swimmer-v4", "Hopper-v5"):
        assert entries[env_id]["learning_starts"] == 25_000 and entries[env_id]["noise_std"] == 0.1, env_id
    manager = ExperimentManager(argparse.Namespace(), "td7", "Hopper-v4", str(tmp_path), n_timesteps=10)
    hyperparams, _ = manager.read_hyperparameters()
    assert manager.config == str(hyperparams_file("td7")) and hyperparams["learning_starts"] == 25_000


def test_td7_trains_enjoys_and_optimizes_through_rl_zoo(tmp_path):
    small = ["policy_kwargs:dict(net_arch=[32, 32, 32], zs_dim=16, encoder_net_arch=[32])", "batch_size:32"]
    common = ["--env", "Pendulum-v1", "-f", "logs", "--seed", "0"]
    output = run(
        zoo_train(*common, "-n", "800", "--eval-freq", "400", "--eval-episodes", "2", "-params", *small, algo="td7"),
        cwd=tmp_path,
    )
    assert "Loading hyperparameters from" in output and "td7.yml" in output
    # The run ends with its summary: the final evaluation, the time, the saved model
    summary = output.strip().splitlines()[-1]
    path = tmp_path / "logs" / "td7" / "Pendulum-v1_1" / "Pendulum-v1.zip"
    assert summary.startswith("Summary: Evaluation of the ") and " over 2 episodes; 2/2 lasted the 200-step limit; " in summary
    assert "800 env steps in " in summary and summary.endswith(f"model: {path}") and path.is_file()
    model = TD7.load(path)
    assert model.learning_starts == 1000 or model._n_updates == 0  # the yml's short warm-up for Pendulum
    assert model.policy.zs_dim == 16 and model.policy_checkpoints
    with np.load(tmp_path / "logs" / "td7" / "Pendulum-v1_1" / "evaluations.npz") as data:
        assert list(data["timesteps"]) == [400, 800]
    output = run(
        ["-m", "rl_zoo3.enjoy", "--algo", "td7", "--env", "Pendulum-v1", "-f", "logs", "-n", "50", "--no-render"],
        cwd=tmp_path,
    )
    assert "Loading" in output
    output = run(
        zoo_train(
            *common,
            "-n",
            "300",
            "--optimize",
            "--n-trials",
            "2",
            "--n-jobs",
            "1",
            "--sampler",
            "random",
            "--pruner",
            "none",
            "--n-evaluations",
            "1",
            "--eval-episodes",
            "1",
            "-params",
            "learning_starts:100",
            "buffer_size:1000",
            algo="td7",
        ),
        cwd=tmp_path,
    )
    assert "Number of finished trials:  2" in output
    assert glob.glob(str(tmp_path / "logs" / "td7" / "report_Pendulum-v1_*.csv"))


def test_td7_sampler_and_converter():
    import optuna

    from sb3_td3x.zoo import convert_td7_params, sample_td7_params

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(5):
        trial = study.ask()
        params = sample_td7_params(trial, 1, 1, {})
        assert params == convert_td7_params(trial.params)
        width, zs_dim = trial.params["width"], trial.params["zs_dim"]
        assert params["policy_kwargs"] == dict(net_arch=[width] * 3, zs_dim=zs_dim, encoder_net_arch=[width] * 2)
        assert params["replay_buffer_kwargs"]["max_priority_reset"] == params["target_update_interval"] in (100, 250, 500)
        TD7("MlpPolicy", "Pendulum-v1", **params)  # every sample builds
        study.tell(trial, 0.0)


# --- dqnx, sacx, ddpgx ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("algo", ["dqnx", "sacx", "ddpgx"])
def test_prioritized_yml_is_rl_zoos_with_the_extras(algo):
    import rl_zoo3

    from sb3_td3x.hyperparams.make_prioritized_ymls import EXTRAS, entries
    from sb3_td3x.zoo import hyperparams_file

    parent, extras, _ = EXTRAS[algo]
    ours = yaml.safe_load(hyperparams_file(algo).read_text())
    assert (REPO_ROOT / "hyperparams" / f"{algo}.yml").read_bytes() == hyperparams_file(algo).read_bytes()
    theirs = entries(parent)
    assert set(ours) == set(theirs) and "default" in ours
    for env_id, params in ours.items():
        assert params == {**theirs[env_id], **extras}, env_id
    # RL Zoo's file itself, so that the comparison above is against the installed RL Zoo
    assert (Path(rl_zoo3.__file__).parent / "hyperparams" / f"{parent}.yml").is_file()


@pytest.mark.parametrize(
    "algo, env_id, options",
    [
        ("dqnx", "CartPole-v1", ["learning_starts:100", "train_freq:4", "gradient_steps:1", "n_steps:3"]),
        ("sacx", "Pendulum-v1", ["learning_starts:100", "n_steps:3"]),
        ("ddpgx", "Pendulum-v1", ["learning_starts:100", "prioritized_replay:'per'"]),
    ],
)
def test_prioritized_algorithms_train_and_enjoy_through_rl_zoo(tmp_path, algo, env_id, options):
    from stable_baselines3.common.save_util import load_from_pkl

    from sb3_td3x.zoo import ALGORITHMS, hyperparams_file

    common = ["--env", env_id, "-f", "logs", "--seed", "0", "--num-threads", "1"]
    output = run(
        [
            "-m",
            "rl_zoo3.train",
            "--algo",
            algo,
            *common,
            "-n",
            "400",
            "--eval-freq",
            "-1",
            "--save-replay-buffer",
            "-params",
            "buffer_size:2000",
            "batch_size:32",
            *options,
        ],
        cwd=tmp_path,
    )
    assert f"Loading hyperparameters from: {hyperparams_file(algo)}" in output
    run_dir = tmp_path / "logs" / algo / f"{env_id}_1"
    model = ALGORITHMS[algo].load(run_dir / f"{env_id}.zip")
    kind = "lap" if algo == "sacx" else "per"
    assert model.prioritized_replay == kind and model._n_updates > 0
    buffer = load_from_pkl(run_dir / "replay_buffer.pkl")
    assert isinstance(buffer, BasePrioritizedReplayBuffer) and np.unique(leaves(buffer, 400)).size > 1
    if "n_steps:3" in options:
        assert buffer.n_steps == 3
    output = run(
        ["-m", "rl_zoo3.enjoy", "--algo", algo, "--env", env_id, "-f", "logs", "-n", "50", "--no-render"], cwd=tmp_path
    )
    assert "Loading" in output


def test_prioritized_sampler_adds_the_replay_to_rl_zoos_search_space():
    import optuna
    from rl_zoo3.hyperparams_opt import HYPERPARAMS_CONVERTER, HYPERPARAMS_SAMPLER

    from sb3_td3x.zoo import REPLAY_PARAMS

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    kinds = set()
    for _ in range(12):
        trial = study.ask()
        params = HYPERPARAMS_SAMPLER["dqnx"](trial, 2, 1, {"using_her_replay_buffer": False})
        kinds.add(params["prioritized_replay"])
        # RL Zoo's own DQN parameters, and the replay's
        assert {"learning_rate", "exploration_fraction", "target_update_interval"} <= set(params)
        assert {"n_steps", "prioritized_replay", "replay_buffer_kwargs"} <= set(params)
        if params["prioritized_replay"] != "none":
            assert params["replay_buffer_kwargs"]["alpha"] == trial.params["alpha"]
        assert HYPERPARAMS_CONVERTER["dqnx"](trial.params) == params
        assert set(trial.params) >= {"n_steps", "prioritized_replay"} and set(REPLAY_PARAMS) >= {"alpha", "beta0"}
        study.tell(trial, 0.0)
    assert kinds == {"none", "per", "lap"}
