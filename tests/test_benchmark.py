import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import stable_baselines3
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback

from sb3_td3x import TD3X
from sb3_td3x.benchmark import layout, throughput
from sb3_td3x.benchmark.__main__ import main as bench_main
from sb3_td3x.benchmark.__main__ import parse_args
from sb3_td3x.benchmark.analysis import report, stats, tasks
from sb3_td3x.benchmark.analysis import runs as run_files
from sb3_td3x.benchmark.configs import ABLATION, CANDIDATES, CONFIGS, HEAD_TO_HEAD, SCREENED, TD3X_OFF, BenchmarkConfig
from sb3_td3x.benchmark.running import runner
from sb3_td3x.benchmark.running.stop import STOPPED_EXIT_CODE, StoppableCheckpointCallback, StoppedAtCheckpoint
from sb3_td3x.td7.policies import TD7Policy
from sb3_td3x.zoo.checkpoints import checkpoint_manifests, verify_checkpoint, write_manifest

REQUIRED = [
    "td3",
    "td3_nstep3",
    "td3x_per",
    "td3x_lap",
    "td3x_nstep3",
    "td3x_noisy_factorized",
    "td3x_noisy_independent",
    "td3x_noise_decay",
    "td3x_recommended",
]


def test_config_table_complete():
    assert set(REQUIRED) <= set(CONFIGS)
    assert set(HEAD_TO_HEAD) == {"td3", "td3_nstep3", "td3x_recommended"}
    assert set(ABLATION) == set(REQUIRED) - set(HEAD_TO_HEAD)
    for group in (CANDIDATES, SCREENED):
        assert set(group) <= set(CONFIGS) and not set(group) & (set(ABLATION) | set(HEAD_TO_HEAD))
    assert not set(CANDIDATES) & set(SCREENED)
    # The stock baselines are plain RL Zoo TD3, the second with SB3's own n-step returns only
    assert CONFIGS["td3"].algo == "td3" and CONFIGS["td3"].hyperparams == {}
    assert CONFIGS["td3_nstep3"].algo == "td3" and CONFIGS["td3_nstep3"].hyperparams == {"n_steps": "3"}
    # The recommended set: the zoo file with LAP, its threshold scaled by the TD errors, and 3-step returns
    assert CONFIGS["td3x_recommended"].algo == "td3x"
    recommended = {"prioritized_replay": "'lap'", "n_steps": "3", "replay_buffer_kwargs": "dict(threshold_scale='td_error')"}
    assert CONFIGS["td3x_recommended"].hyperparams == recommended
    # The screening's pick is the recommended set; the set before the screening keeps its own name, its buffer
    # settings pinned to LAP's defaults (the zoo file's are the recommended set's)
    assert CONFIGS["td3x_lap_tdscale"].hyperparams == recommended
    lap_nstep3 = {"prioritized_replay": "'lap'", "n_steps": "3", "replay_buffer_kwargs": "dict()"}
    assert CONFIGS["td3x_lap_nstep3"].hyperparams == lap_nstep3


def test_runs_recorded_with_the_replay_settings_as_arguments_are_runs_of_todays_configurations():
    import json

    from sb3_td3x.benchmark.configs import canonical_overrides, trained_as_config

    # Earlier versions took the buffer's settings as algorithm arguments, and the runs record them so
    off = {"policy": "'MlpPolicy'", "prioritized_replay": "'none'", "n_steps": "1", "noise_schedule": "'constant'"}
    assert trained_as_config(CONFIGS["td3x_off"], "td3x", {**off, "alpha": "None"})
    recommended = {"prioritized_replay": "'lap'", "n_steps": "3", "lap_threshold": "'td_error'"}
    assert trained_as_config(CONFIGS["td3x_recommended"], "td3x", recommended)
    assert trained_as_config(
        CONFIGS["td3x_lap_reset"], "td3x", {"prioritized_replay": "'lap'", "n_steps": "3", "max_priority_reset": "250"}
    )
    # ... and a different value, or another algorithm, is another set
    assert not trained_as_config(CONFIGS["td3x_recommended"], "td3x", {**recommended, "lap_threshold": "'reward'"})
    assert not trained_as_config(CONFIGS["td3x_recommended"], "td3", recommended)
    assert canonical_overrides({"alpha": "0.5", "lap_threshold": "'fixed'"}) == {"replay_buffer_kwargs": {"alpha": 0.5}}
    # Every committed run is a run of its configuration as it is now
    records = sorted(Path(__file__).parents[1].glob("results/**/seed_*/run.json"))
    assert len(records) > 100
    for path in records:
        record = json.loads(path.read_text())
        config = CONFIGS[path.parent.parent.name]
        assert trained_as_config(config, record["algo"], record.get("hyperparams", {})), path


@pytest.mark.parametrize(
    "name, changed",
    [
        ("td3x_per", {"prioritized_replay": "'per'"}),
        ("td3x_lap", {"prioritized_replay": "'lap'"}),
        ("td3x_nstep3", {"n_steps": "3"}),
        ("td3x_noise_decay", {"noise_schedule": "'linear'", "noise_final_std": "0.02"}),
        ("td3x_noisy_factorized", {"policy": "'NoisyMlpPolicy'", "policy_kwargs": None, "noise_std": "0.0"}),
        ("td3x_noisy_independent", {"policy": "'NoisyMlpPolicy'", "policy_kwargs": None, "noise_std": "0.0"}),
    ],
)
def test_ablation_switches_exactly_one_extra(name, changed):
    config = CONFIGS[name]
    assert config.algo == "td3x"
    differing = {key for key in set(config.hyperparams) | set(TD3X_OFF) if config.hyperparams.get(key) != TD3X_OFF.get(key)}
    assert differing == set(changed)
    for key, value in changed.items():
        if value is not None:
            assert config.hyperparams[key] == value
    if "noisy" in name:
        kind = name.rsplit("_", 1)[1]
        kwargs = eval(config.hyperparams["policy_kwargs"])
        assert kwargs == {"net_arch": [400, 300], "noise_kind": kind}


@pytest.mark.parametrize("name", SCREENED + CANDIDATES)
def test_screening_candidates_build(name):
    from stable_baselines3.common.noise import NormalActionNoise

    from sb3_td3x import TD3X, TD7
    from sb3_td3x.zoo.noise import pop_noise_schedule, scheduled_noise

    kwargs = {key: eval(value) for key, value in CONFIGS[name].hyperparams.items()}
    policy = kwargs.pop("policy", "MlpPolicy")
    # RL Zoo's own keys become the action noise
    noise_std = kwargs.pop("noise_std", 0.1)
    noise = scheduled_noise(NormalActionNoise(np.zeros(1), noise_std * np.ones(1)), pop_noise_schedule(kwargs))
    algorithm = TD7 if CONFIGS[name].algo == "td7" else TD3X
    model = algorithm(policy, "Pendulum-v1", action_noise=noise, **kwargs)
    assert CONFIGS[name].algo == ("td7" if name.startswith("td7") else "td3x")
    if name.startswith("td7"):
        assert model.n_steps == 1 and isinstance(model.policy, TD7Policy) and model.policy.net_arch == [256, 256, 256]
        assert model.policy.zs_dim == (128 if name.endswith("z128") else 256)
        return
    else:
        assert model.n_steps == 3 and model.policy.net_arch == [400, 300]
    assert model.policy.critic_layer_norm is name.endswith("_layernorm")
    assert set(parse_args(["--configs", "screening"]).configs) == {"td3x_lap_tdscale", *CANDIDATES}
    assert parse_args(["--configs", "candidates", "td3"]).configs == [*CANDIDATES, "td3"]


def test_td7_set_is_td7s_hyperparameters():
    """The td7 configurations are the TD7 class with td7.yml; the screening's runs, trained as TD3X with TD7's
    overrides on td3x.yml, count as theirs (the same computation: seeded runs compared with
    the code before the split, commits 3a005dd and 58e7c7e)."""
    import yaml

    from sb3_td3x import TD7
    from sb3_td3x.benchmark.diagnose import zoo_hyperparams
    from sb3_td3x.zoo import hyperparams_file

    assert CONFIGS["td7"].algo == "td7" and CONFIGS["td7"].hyperparams == {}
    zoo = yaml.safe_load(hyperparams_file("td7").read_text())["Hopper-v4"]
    assert zoo == dict(n_timesteps=1e6, policy="MlpPolicy", learning_starts=25_000, noise_type="normal", noise_std=0.1)
    model = TD7("MlpPolicy", "Pendulum-v1")
    assert (model.learning_rate, model.batch_size, model.gamma, model.prioritized_replay) == (3e-4, 256, 0.99, "lap")
    assert (model.replay_buffer.max_priority_reset, model.target_update_interval, model.value_clipping) == (250, 250, True)
    assert model.policy_checkpoints and model.gradient_steps == -1 and model.n_steps == 1 and model.policy_delay == 2
    assert model.replay_buffer.alpha == 0.4 and model.replay_buffer.min_priority == 1.0
    assert (model.policy.net_arch, model.policy.zs_dim, model.policy.encoder_net_arch) == ([256] * 3, 256, [256] * 2)
    ((algo, overrides),) = CONFIGS["td7"].trained_as
    params = zoo_hyperparams("Hopper-v4", overrides)
    assert algo == "td3x"
    expected = dict(
        policy="SALEPolicy",
        learning_rate=3e-4,
        batch_size=256,
        learning_starts=25_000,
        gamma=0.99,
        noise_std=0.1,
        prioritized_replay="lap",
        lap_threshold="fixed",
        max_priority_reset=250,
        n_steps=1,
        target_update_interval=250,
        value_clipping=True,
        policy_checkpoints=True,
        train_freq=(1, "episode"),
        gradient_steps=-1,
    )
    assert {key: params[key] for key in expected} == expected
    assert params["policy_kwargs"] == dict(net_arch=[256, 256, 256], zs_dim=256, encoder_net_arch=[256, 256])
    assert params.get("policy_delay", 2) == 2 and params.get("alpha") is None  # LAP's default alpha, 0.4
    assert CONFIGS["td7"].relative_cost > 2
    ((_, small_overrides),) = CONFIGS["td7_z128"].trained_as
    small = zoo_hyperparams("Hopper-v4", small_overrides)
    assert small == {**params, "policy_kwargs": {**params["policy_kwargs"], "zs_dim": 128}}


def test_writeup_sets_are_the_writeups_extras():
    from sb3_td3x.benchmark.diagnose import zoo_hyperparams

    plain, noisy = (zoo_hyperparams("Hopper-v4", CONFIGS[name].hyperparams) for name in ("td3x_writeup", "td3x_writeup_noisy"))
    for params in (plain, noisy):
        assert (params["prioritized_replay"], params["n_steps"], params["replay_buffer_kwargs"]) == ("per", 3, {})
        assert (params["noise_std"], params["noise_schedule"], params["noise_final_std"]) == (0.2, "linear", 0.05)
    # The write-up's set differs from the screened td3x_nstep3_decay by PER alone
    decay = zoo_hyperparams("Hopper-v4", CONFIGS["td3x_nstep3_decay"].hyperparams)
    assert {key for key in plain if plain[key] != decay.get(key)} == {"prioritized_replay"}
    assert noisy["policy"] == "NoisyMlpPolicy"
    assert noisy["policy_kwargs"] == {"net_arch": [400, 300], "noise_kind": "factorized"}


@pytest.mark.parametrize("name", ["td3x_off", "td3x_per", *SCREENED, *CANDIDATES, "td3x_recommended"])
def test_configurations_build_from_the_mujoco_zoo_entry(name):
    # What rl_zoo3.train builds for Hopper-v4: the packaged td3x.yml entry with the configuration's overrides on top
    # (its LAP keys must not stop a configuration that switches LAP off)
    import warnings

    from stable_baselines3.common.noise import NormalActionNoise

    from sb3_td3x.benchmark.diagnose import zoo_hyperparams
    from sb3_td3x.zoo import ALGORITHMS
    from sb3_td3x.zoo.noise import pop_noise_schedule, scheduled_noise

    algo = CONFIGS[name].algo
    params = zoo_hyperparams("Hopper-v4", CONFIGS[name].hyperparams, algo)
    for key in ("n_timesteps", "noise_type"):
        params.pop(key)
    noise_std = params.pop("noise_std")
    schedule = pop_noise_schedule(params)  # RL Zoo keys, like noise_std
    params.update(buffer_size=1000, learning_starts=10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        noise = scheduled_noise(NormalActionNoise(np.zeros(1), noise_std * np.ones(1)), schedule)
        model = ALGORITHMS[algo](env="Pendulum-v1", action_noise=noise, **params)
    assert model.prioritized_replay == params.get("prioritized_replay", "lap")


def test_every_override_is_valid_python():
    # RL Zoo evaluates each value: a missing quote would turn a string into a NameError at run time
    for config in CONFIGS.values():
        for key, expression in config.hyperparams.items():
            value = eval(expression, {"__builtins__": {}, "dict": dict})
            assert isinstance(value, (str, int, float, bool, tuple, dict, type(None))), (config.name, key, value)
            # A string value carries its quotes: policy:'MlpPolicy' is the string, policy:MlpPolicy a NameError
            assert isinstance(value, str) == (expression[:1] in "'\"" and expression[:1] != ""), (config.name, key)


def test_command_line(tmp_path):
    (spec,) = runner.make_specs(["td3x_lap"], "Hopper-v4", [3], 100_000, tmp_path)
    command = spec.command("python")
    assert command[:3] == ["python", "-m", "sb3_td3x.benchmark.running.train"]
    joined = " ".join(command)
    for part in ["--algo td3x", "--env Hopper-v4", "--seed 3", "-n 100000", "--eval-freq 10000", "--eval-episodes 10"]:
        assert part in joined
    assert "--num-threads 1" in joined
    assert command[command.index("-f") + 1] == str(tmp_path / "Hopper-v4" / "td3x_lap" / "seed_3" / "zoo")
    assert command[command.index("--hyperparams") + 1 :] == CONFIGS["td3x_lap"].hyperparams_args()
    (stock,) = runner.make_specs(["td3"], "Hopper-v4", [0], 1000, tmp_path)
    assert stock.command("python")[:3] == ["python", "-m", "sb3_td3x.benchmark.running.train"]
    assert "--hyperparams" not in stock.command("python")
    # Checkpoints every N steps with the replay buffer; a resumed run trains the steps left after its checkpoint
    (long,) = runner.make_specs(["td3"], "Hopper-v4", [0], 500_000, tmp_path, checkpoint_freq=50_000)
    assert long.folder == tmp_path / "Hopper-v4-500k" / "td3" / "seed_0"
    assert long.result_folder == Path("results/runs/Hopper-v4-500k/td3/seed_0")
    resumed = long.command("python", resume=tmp_path / "rl_model_150000_steps.zip", done_steps=150_000)
    assert resumed[resumed.index("-n") + 1] == "350000"
    assert resumed[resumed.index("-i") + 1] == str(tmp_path / "rl_model_150000_steps.zip")
    assert resumed[resumed.index("--save-freq") + 1] == "50000" and "--save-replay-buffer" in resumed
    assert "-i" not in long.command("python") and "--save-freq" not in stock.command("python")


def test_make_specs_validation(tmp_path):
    with pytest.raises(ValueError, match="unknown"):
        runner.make_specs(["td4"], "Hopper-v4", [0], 1000, tmp_path)
    with pytest.raises(ValueError, match="n_timesteps"):
        runner.make_specs(["td3"], "Hopper-v4", [0], 0, tmp_path)
    specs = runner.make_specs(["td3", "td3x_recommended"], "Hopper-v4", [0, 1], 1000, tmp_path)
    # seed-major: every configuration gets its first seed before any second seed
    assert [(s.config.name, s.seed) for s in specs] == [
        ("td3", 0),
        ("td3x_recommended", 0),
        ("td3", 1),
        ("td3x_recommended", 1),
    ]


def test_cli_expands_groups():
    args = parse_args(["--configs", "ablation"])
    assert set(args.configs) == set(REQUIRED)
    assert parse_args(["--configs", "all"]).configs == list(CONFIGS)


def test_cli_500k_group_is_the_500k_tables_rows():
    """`--configs 500k` runs every configuration of the committed 500k report, and nothing else."""
    import csv

    with open(Path(__file__).parents[1] / "results" / "Hopper-v4-500k" / "summary.csv") as file:
        reported = [row["config"] for row in csv.DictReader(file)]
    assert parse_args(["--configs", "500k"]).configs == reported


FAKE_TRAIN = textwrap.dedent(
    """
    # Stands in for `python -m rl_zoo3.train`: writes an RL Zoo style evaluations.npz and exits.
    import os, sys
    import numpy as np
    args = sys.argv[3:]
    folder, algo, env = args[args.index("-f") + 1], args[args.index("--algo") + 1], args[args.index("--env") + 1]
    n, freq = int(args[args.index("-n") + 1]), int(args[args.index("--eval-freq") + 1])
    seed = int(args[args.index("--seed") + 1])
    mode = os.environ.get("FAKE_TRAIN_MODE", "ok")
    if mode == "fail":
        sys.exit(3)
    if mode == "slow":
        import time
        time.sleep(60)
    # RL Zoo numbers a new sub-folder when one exists: a stale folder would show as <env>_2
    run_id = 1
    while os.path.exists(os.path.join(folder, algo, f"{env}_{run_id}")):
        run_id += 1
    out = os.path.join(folder, algo, f"{env}_{run_id}")
    os.makedirs(out)
    timesteps = np.arange(freq, n + 1, freq)
    results = np.full((len(timesteps), 2), 10.0 * seed) + timesteps[:, None] / 100.0
    np.savez(os.path.join(out, "evaluations.npz"), timesteps=timesteps, results=results, ep_lengths=results * 0 + 1)
    os.makedirs(os.path.join(out, env))
    with open(os.path.join(out, env, "config.yml"), "w") as file:
        file.write(f"!!python/object/apply:collections.OrderedDict\\n- - - n_timesteps\\n    - {n}\\n")
    """
)


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch):
    # The runner's default results folder is relative: no test writes into the repository's results/
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_python(tmp_path):
    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAIN)
    python = tmp_path / "fake_python"
    # The runner calls `<python> -m <module> ...`
    python.write_text(f'#!/bin/sh\nexec {sys.executable} {script} "$@"\n')
    python.chmod(0o755)
    return str(python)


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_runner_runs_and_skips_finished(tmp_path, fake_python):
    specs = runner.make_specs(["td3", "td3_nstep3"], "Fake-v0", [0, 1], 4000, tmp_path / "runs", eval_freq=1000)
    events = []
    records = runner.run_all(specs, jobs=2, python=fake_python, on_event=events.append, poll_interval=0.01)
    assert len(records) == 4 and all(record["ok"] for record in records)
    for spec in specs:
        done = json.loads((spec.folder / runner.DONE_FILE).read_text())
        assert done["seed"] == spec.seed and done["env_steps_per_s"] == pytest.approx(4000 / done["wall_time_s"])
        assert not (spec.folder / runner.CLAIM_FILE).exists()
        assert (spec.folder / runner.LOG_FILE).read_text().startswith("$ ")
        # The committed part: evaluations, effective hyperparameters and the record
        # Filed under the env and its budget (4k steps), apart from runs of other budgets on the same seeds
        result = Path("results") / "runs" / "Fake-v0-4k" / spec.config.name / f"seed_{spec.seed}"
        assert spec.result_folder == result
        assert sorted(p.name for p in result.iterdir()) == ["config.yml", "evaluations.npz", "run.json"]
        assert json.loads((result / "run.json").read_text()) == done
        # what the run computed with: the package versions and the CPU
        environment = done["environment"]
        assert environment["packages"]["torch"] == th.__version__
        assert environment["packages"]["stable-baselines3"] == stable_baselines3.__version__
        assert environment["interpreter"] == fake_python and environment["same_interpreter_as_runner"] is False
        assert environment["cpu"] and environment["python"] == platform.python_version()
        assert "n_timesteps" in (result / "config.yml").read_text()
    marker = specs[0].folder / runner.DONE_FILE
    before = marker.stat().st_mtime_ns
    assert runner.run_all(specs, jobs=2, python=fake_python, poll_interval=0.01) == []
    assert marker.stat().st_mtime_ns == before
    # Another budget on the same seed trains in folders of its own and leaves the finished runs as they are
    (longer,) = runner.make_specs(["td3"], "Fake-v0", [0], 8000, tmp_path / "runs", eval_freq=1000)
    (record,) = runner.run_all([longer], jobs=1, python=fake_python, poll_interval=0.01)
    assert record["ok"] and record["n_timesteps"] == 8000
    assert longer.result_folder == Path("results/runs/Fake-v0-8k/td3/seed_0") and layout.has_result(longer.result_folder)
    assert longer.folder == tmp_path / "runs" / "Fake-v0-8k" / "td3" / "seed_0"
    assert marker.stat().st_mtime_ns == before
    assert json.loads((specs[0].result_folder / "run.json").read_text())["n_timesteps"] == 4000


def test_runner_skips_runs_with_committed_results(tmp_path, fake_python):
    # A clean checkout: result files, no scratch folder. Those runs are not repeated; the others run.
    specs = runner.make_specs(["td3"], "Fake-v0", [0, 1], 2000, tmp_path / "runs", eval_freq=1000)
    runner.run_all(specs[:1], jobs=1, python=fake_python, poll_interval=0.01)
    shutil.rmtree(tmp_path / "runs")
    assert runner.is_done(specs[0]) and not runner.is_done(specs[1])
    records = runner.run_all(specs, jobs=1, python=fake_python, poll_interval=0.01)
    assert [record["seed"] for record in records] == [1]
    assert not specs[0].folder.exists()


def test_runner_collects_runs_finished_by_an_older_runner(tmp_path, fake_python):
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 2000, tmp_path / "runs", eval_freq=1000)
    runner.run_all([spec], jobs=1, python=fake_python, poll_interval=0.01)
    shutil.rmtree("results")
    assert runner.collect_finished([spec]) == 1
    assert layout.has_result(spec.result_folder)
    assert runner.collect_finished([spec]) == 0
    assert not runner.collect_result(tmp_path / "nowhere", tmp_path / "dest") and not (tmp_path / "dest").exists()


def test_runner_does_not_start_runs_that_cannot_finish(tmp_path, fake_python):
    specs = runner.make_specs(["td3"], "Fake-v0", [0, 1], 2000, tmp_path / "runs", eval_freq=1000)
    # No finished run: the budget at the default rate (2000 steps / 50 per s = 40 s)
    assert runner.estimate_seconds(specs[0]) == pytest.approx(40.0)
    assert runner.estimate_seconds(specs[0], default_rate=1000.0) == pytest.approx(2.0)
    events = []
    assert runner.run_all(specs, jobs=1, python=fake_python, on_event=events.append, deadline=time.time() + 30) == []
    assert sum("not started: expected to take 0.7 min, 0.0 min left" in line for line in events) == 2
    # Once a run of that budget finished, its wall time is the estimate
    (record,) = runner.run_all(specs[:1], jobs=1, python=fake_python, poll_interval=0.01)
    assert runner.estimate_seconds(specs[1]) == pytest.approx(record["wall_time_s"])
    # A configuration without finished runs of its own scales the others' wall time by its relative cost
    (td7,) = runner.make_specs(["td7"], "Fake-v0", [0], 2000, tmp_path / "runs", eval_freq=1000)
    assert runner.estimate_seconds(td7) == pytest.approx(record["wall_time_s"] * CONFIGS["td7"].relative_cost)
    (record,) = runner.run_all(specs, jobs=1, python=fake_python, poll_interval=0.01, deadline=time.time() + 600)
    assert record["seed"] == 1
    with pytest.raises(ValueError, match="default_rate"):
        runner.run_all(specs, jobs=1, default_rate=0.0)


class _Killed(Exception):
    pass


def _kill_after_checkpoint(spec, steps):
    """An event hook that SIGKILLs the run's training process once its checkpoint of ``steps`` is written, then stops
    the runner as if it died with it."""

    def on_event(_line):
        if list(spec.folder.glob(f"zoo/*/*/rl_model_{steps}_steps.json")):
            os.kill(json.loads((spec.folder / runner.CLAIM_FILE).read_text())["child_pid"], signal.SIGKILL)
            raise _Killed

    return on_event


@pytest.mark.parametrize("algo", ["td3", "td3x"])
def test_killed_run_resumes_from_its_checkpoint(tmp_path, monkeypatch, algo):
    """A real RL Zoo run, SIGKILLed after its checkpoints at 400 and 800 steps: the newest is damaged, so the run
    resumes from the one before (with a log line), and its evaluations continue with no gap and no duplicate."""
    tiny = {"learning_starts": "100", "batch_size": "32", "policy_kwargs": "dict(net_arch=[32, 32])"}
    if algo == "td3x":  # with the replay's priorities and n-step state in the buffer, and the episodic checkpoints
        tiny.update(prioritized_replay="'lap'", n_steps="3", policy_checkpoints="True", train_freq="(1, 'episode')")
        tiny.update(gradient_steps="-1", checkpoint_kwargs="dict(healthy_reward=1.0)")
    monkeypatch.setitem(CONFIGS, "tiny", BenchmarkConfig("tiny", algo, tiny))
    (spec,) = runner.make_specs(["tiny"], "Pendulum-v1", [0], 1600, tmp_path / "runs", 200, 1, checkpoint_freq=400)
    with pytest.raises(_Killed):
        runner.run_all([spec], jobs=1, on_event=_kill_after_checkpoint(spec, 800), progress_interval=0.0, poll_interval=0.05)
    (segment,) = spec.folder.glob("zoo/*/*")
    buffer = segment / "rl_model_replay_buffer_800_steps.pkl"
    os.truncate(buffer, buffer.stat().st_size - 100)
    events = []
    (record,) = runner.run_all([spec], jobs=1, on_event=events.append, poll_interval=0.05)
    assert record["ok"], (spec.folder / runner.LOG_FILE).read_text()[-3000:]
    assert any("checkpoint at 800 steps is damaged" in line and "truncated" in line for line in events)
    assert any("resuming from the checkpoint at 400 of 1600 steps" in line for line in events)
    assert record["resumed"][0]["from_timestep"] == 400 and record["n_timesteps"] == 1600
    with np.load(spec.result_folder / "evaluations.npz") as data:
        assert list(data["timesteps"]) == list(range(200, 1601, 200))
        assert data["results"].shape == (8, 1)
    # The resumed segment trained the steps left after the checkpoint, and its log follows the first one's
    log = (spec.folder / runner.LOG_FILE).read_text()
    assert log.count("$ ") == 2 and "-n 1200 " in log and "rl_model_400_steps.zip" in log
    # A finished run's checkpoints and replay buffers are deleted, its models kept
    assert not list(spec.folder.rglob("*.pkl")) and not (spec.folder / runner.RESUME_FOLDER).exists()
    assert list(spec.folder.glob("zoo/*/*/Pendulum-v1.zip"))


@pytest.mark.parametrize("algo", ["td3", "td3x", "td7"])
def test_a_stopped_run_checkpoints_where_it_is_and_resumes_there(tmp_path, monkeypatch, algo):
    """A real RL Zoo run asked to stop (what --time-left's end or SIGUSR1 to the runner does) between two scheduled
    checkpoints: it writes one at the end of its iteration, exits without being counted as failed, and the next
    invocation resumes from that step, with no evaluation lost or repeated."""
    tiny = {"learning_starts": "100", "batch_size": "32", "policy_kwargs": "dict(net_arch=[32, 32])"}
    if algo == "td3x":  # trained per episode: the stop waits for the episode's end and its gradient steps
        tiny.update(prioritized_replay="'lap'", n_steps="3", train_freq="(1, 'episode')", gradient_steps="-1")
    if algo == "td7":  # per episode too, with the encoder, its fixed copies, the checkpoints and the value range
        tiny.update(policy_kwargs="dict(net_arch=[32, 32], zs_dim=8, encoder_net_arch=[32, 32])")
    monkeypatch.setitem(CONFIGS, "tiny", BenchmarkConfig("tiny", algo, tiny))
    (spec,) = runner.make_specs(["tiny"], "Pendulum-v1", [0], 1600, tmp_path / "runs", 200, 1, checkpoint_freq=1000)
    stop = threading.Event()

    def on_event(line):
        events.append(line)
        if runner.read_progress(spec) >= 500:
            stop.set()

    events = []
    assert runner.run_all([spec], jobs=1, on_event=on_event, progress_interval=0.0, poll_interval=0.05, stop=stop) == []
    (stopped,) = [line for line in events if "stopped; the next invocation resumes it from its checkpoint at" in line]
    steps = int(re.search(r"checkpoint at ([\d,]+) steps", stopped).group(1).replace(",", ""))
    assert 500 <= steps < 1000 and (algo == "td3" or steps % 200 == 0)  # not the scheduled one; else an episode's end
    assert not (spec.folder / runner.FAILED_FILE).exists() and not (spec.folder / runner.CLAIM_FILE).exists()
    assert runner.run_status(spec).state == "stopped" and runner.run_status(spec).checkpoint == steps
    events = []
    (record,) = runner.run_all([spec], jobs=1, on_event=events.append, poll_interval=0.05)
    assert record["ok"], (spec.folder / runner.LOG_FILE).read_text()[-3000:]
    assert any(f"resuming from the checkpoint at {steps} of 1600 steps" in line for line in events)
    assert record["resumed"][0]["from_timestep"] == steps
    with np.load(spec.result_folder / "evaluations.npz") as data:
        assert list(data["timesteps"]) == list(range(200, 1601, 200))
    assert f"-n {1600 - steps} " in (spec.folder / runner.LOG_FILE).read_text()


class _StopAt(BaseCallback):
    """Asks for a stop (as the SIGUSR1 handler of a run's training process does) at one call of ``_on_step``."""

    def __init__(self, step: int):
        super().__init__()
        self.step = step

    def _on_step(self) -> bool:
        if self.num_timesteps == self.step:
            StoppableCheckpointCallback.request_stop()
        return True


@pytest.mark.parametrize("train_freq", [1, (1, "episode")])
def test_a_stop_writes_a_checkpoint_at_the_end_of_the_iteration(tmp_path, monkeypatch, train_freq):
    monkeypatch.setattr(StoppableCheckpointCallback, "stop_requested", False)
    small = dict(learning_starts=10, batch_size=8, policy_kwargs=dict(net_arch=[16]), seed=0)
    model = TD3X("MlpPolicy", "Pendulum-v1", train_freq=train_freq, **small)
    checkpoint = StoppableCheckpointCallback(1000, str(tmp_path), save_replay_buffer=True)
    with pytest.raises(StoppedAtCheckpoint) as stopped:
        model.learn(1000, callback=[checkpoint, _StopAt(150)])
    # Step 150's iteration ends there with train_freq=1, at the episode's end (200 steps) with episodic training
    steps = 150 if train_freq == 1 else 200
    assert stopped.value.code == STOPPED_EXIT_CODE and stopped.value.saved and stopped.value.num_timesteps == steps
    assert model.num_timesteps == steps and model.replay_buffer.size() == steps
    ((checkpoint_steps, manifest),) = checkpoint_manifests(str(tmp_path))
    assert checkpoint_steps == steps and verify_checkpoint(manifest)["num_timesteps"] == steps
    # Asked to stop before it trained anything more, a run writes nothing: its last checkpoint is where it stands
    with pytest.raises(StoppedAtCheckpoint) as stopped:
        model.learn(1000, callback=[StoppableCheckpointCallback(1000, str(tmp_path))], reset_num_timesteps=False)
    assert not stopped.value.saved and model.num_timesteps == steps
    assert len(checkpoint_manifests(str(tmp_path))) == 1


def test_runs_stop_before_the_time_left_runs_out(tmp_path, fake_python, monkeypatch):
    # 3 minutes (STOP_MARGIN_S) before the deadline, the running run is asked to stop and no other starts; a
    # process that ends by SIGUSR1's default action (one that had not loaded its handler yet) counts as stopped
    monkeypatch.setenv("FAKE_TRAIN_MODE", "slow")
    # A run with checkpoints starts with MIN_SEGMENT_S to go before the stop, however long it takes as a whole
    monkeypatch.setattr(runner, "MIN_SEGMENT_S", 0.5)
    specs = runner.make_specs(["td3"], "Fake-v0", [0, 1], 10**6, tmp_path / "runs", eval_freq=500, checkpoint_freq=10**5)
    events = []
    start = time.time()
    deadline = start + runner.STOP_MARGIN_S + 1.0
    records = runner.run_all(specs, jobs=1, python=fake_python, on_event=events.append, poll_interval=0.02, deadline=deadline)
    assert records == [] and time.time() - start < 30
    assert [line.split()[0] for line in events if re.match(r"\S+ started: ", line)] == ["td3/seed_0"]
    assert any(line.startswith("stopping: 1 running run(s)") for line in events)
    assert any("td3/seed_0 stopped; the next invocation resumes it from step 0 (no checkpoint yet)" in line for line in events)
    assert not (specs[0].folder / runner.FAILED_FILE).exists() and not (specs[0].folder / runner.CLAIM_FILE).exists()
    # Without checkpoints there is nothing to keep: the run is terminated, and not counted as failed either
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [2], 1000, tmp_path / "runs", eval_freq=500)
    stop, events = threading.Event(), []

    def on_event(line):
        events.append(line)
        if " started: " in line:
            stop.set()

    assert runner.run_all([spec], jobs=1, python=fake_python, on_event=on_event, poll_interval=0.02, stop=stop) == []
    assert any("td3/seed_2 stopped; the next invocation resumes it from step 0" in line for line in events)
    assert not (spec.folder / runner.FAILED_FILE).exists() and not (spec.folder / runner.CLAIM_FILE).exists()


def test_a_checkpoint_at_the_full_budget_is_not_resumed_from(tmp_path):
    # A run whose training ended (checkpoint at the budget) but whose runner died before recording it: resuming
    # there would leave nothing to train (and RL Zoo reads -n 0 as the yml's budget): the one before is used
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 1000, tmp_path / "runs", eval_freq=500, checkpoint_freq=500)
    segment = spec.folder / "zoo" / "td3" / "Fake-v0_1"
    segment.mkdir(parents=True)
    for steps in (500, 1000):
        model = segment / f"rl_model_{steps}_steps.zip"
        model.write_bytes(b"model %d" % steps)
        write_manifest(str(model), steps, [str(model)])
    assert runner.find_checkpoint(spec.folder)[1] == 1000
    point = runner.prepare_resume(spec)
    assert point is not None and point.timesteps == 500 and point.model == spec.folder / "resume" / "rl_model_500_steps.zip"
    assert spec.command("python", point.model, point.timesteps)[spec.command("python").index("-n") + 1] == "500"


def test_progress_of_a_resumed_run_counts_from_its_checkpoint(tmp_path):
    # Before its training process has put the monitor file back, a resumed run is at its checkpoint, not at 0; and the
    # first rate must not count the steps before the checkpoint as done since the run (re)started
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 1000, tmp_path / "runs", eval_freq=500, checkpoint_freq=500)
    start = time.time() - 10.0
    running = types.SimpleNamespace(spec=spec, start_steps=600, last_progress=(start, 600))
    line = runner._progress_line([spec], [running])
    assert "td3/seed_0 600/1000 (0/s, eta nan min)" in line
    monitor = spec.folder / "zoo" / "td3" / "Fake-v0_1" / "0.monitor.csv"
    monitor.parent.mkdir(parents=True)
    monitor.write_text('#{"t_start": 0}\nr,l,t\n' + "".join(f"1.0,100,{i}\n" for i in range(7)))
    running.last_progress = (start, 600)
    line = runner._progress_line([spec], [running])
    steps, rate = re.search(r"td3/seed_0 (\d+)/1000 \((\d+)/s", line).groups()
    assert steps == "700" and 5 <= int(rate) <= 15  # 100 steps in about 10 s, not 700


def test_status_says_where_each_run_stands_without_touching_it(tmp_path, capsys):
    root, results = tmp_path / "runs", tmp_path / "results"
    finished, running, stopped, fresh, damaged = runner.make_specs(
        ["td3"], "Fake-v0", [0, 1, 2, 3, 4], 1000, root, eval_freq=500, results=results, checkpoint_freq=500
    )
    finished.result_folder.mkdir(parents=True)
    (finished.result_folder / layout.RESULT_FILE).write_text("{}")
    (finished.result_folder / layout.RESULT_EVALUATIONS).write_bytes(b"")

    def checkpoint(spec, steps, corrupt=False):
        segment = spec.folder / "zoo" / "td3" / "Fake-v0_1"
        segment.mkdir(parents=True, exist_ok=True)
        model = segment / f"rl_model_{steps}_steps.zip"
        model.write_bytes(b"model")
        write_manifest(str(model), steps, [str(model)])
        if corrupt:
            model.write_bytes(b"cut")
        return segment

    # running: a live process holds the claim; 600 steps in its monitor file, checkpoint at 500
    segment = checkpoint(running, 500)
    (segment / "0.monitor.csv").write_text('#{"t_start": 0}\nr,l,t\n' + "1.0,300,0\n" * 2)
    (running.folder / runner.CLAIM_FILE).write_text(json.dumps({"runner_pid": os.getpid()}))
    # stopped: its claimant is dead; the checkpoint at the budget does not count (nothing would be left to train)
    checkpoint(stopped, 500)
    checkpoint(stopped, 1000)
    (stopped.folder / runner.CLAIM_FILE).write_text(json.dumps({"runner_pid": _dead_pid()}))
    # a damaged checkpoint is reported as it stands and left for the runner to check
    segment = checkpoint(damaged, 500, corrupt=True)
    before = sorted(path.name for path in segment.iterdir())

    assert [runner.run_status(spec).state for spec in (finished, running, stopped, fresh, damaged)] == [
        "finished",
        "running",
        "stopped",
        "not started",
        "stopped",
    ]
    assert runner.run_status(running).steps == 600 and runner.run_status(stopped).steps == 500
    assert bench_main(["--env", "Fake-v0", "--configs", "td3", "--seeds", "0", "1", "2", "3", "4", "-n", "1000",
                       "--root", str(root), "--results", str(results), "--jobs", "2", "--status"]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "td3/seed_0: finished (result files)"
    assert lines[1] == f"td3/seed_1: running (pid {os.getpid()}), 600 of 1,000 steps, last checkpoint 500"
    assert lines[2] == "td3/seed_2: stopped, resumes from its checkpoint at 500 of 1,000 steps"
    assert lines[3] == "td3/seed_3: not started"
    assert lines[-1].startswith("5 runs: 1 finished, 1 running, 2 stopped, 1 not started; 2,400 of 5,000 env steps left")
    # nothing was moved, verified away or deleted
    assert sorted(path.name for path in segment.iterdir()) == before
    assert not (stopped.folder / runner.RESUME_FOLDER).exists()


def test_killed_run_without_a_checkpoint_starts_again(tmp_path, fake_python):
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 3000, tmp_path / "runs", eval_freq=1000, checkpoint_freq=1000)
    (spec.folder / "zoo" / "td3" / "Fake-v0_1").mkdir(parents=True)
    events = []
    (record,) = runner.run_all([spec], jobs=1, python=fake_python, on_event=events.append, poll_interval=0.01)
    assert record["ok"] and "resumed" not in record
    assert any("no checkpoint to resume from, starting again from step 0" in line for line in events)


def test_runner_restarts_killed_run_clean(tmp_path, fake_python):
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 3000, tmp_path / "runs", eval_freq=1000)
    # What a killed run leaves: a claim by a dead process, a partial RL Zoo folder, a half-written log
    partial = spec.folder / "zoo" / "td3" / "Fake-v0_1"
    partial.mkdir(parents=True)
    (partial / "junk.txt").write_text("partial")
    (spec.folder / runner.CLAIM_FILE).write_text(json.dumps({"runner_pid": _dead_pid(), "child_pid": _dead_pid()}))
    assert runner.claim_holder(spec.folder) is None
    (record,) = runner.run_all([spec], jobs=1, python=fake_python, poll_interval=0.01)
    assert record["ok"]
    assert sorted(p.name for p in (spec.folder / "zoo" / "td3").iterdir()) == ["Fake-v0_1"]
    assert not (partial / "junk.txt").exists()
    assert (partial / "evaluations.npz").exists()


def test_runner_failed_run_is_retried(tmp_path, fake_python, monkeypatch):
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 2000, tmp_path / "runs", eval_freq=1000)
    monkeypatch.setenv("FAKE_TRAIN_MODE", "fail")
    (record,) = runner.run_all([spec], jobs=1, python=fake_python, poll_interval=0.01)
    assert not record["ok"] and record["returncode"] == 3
    assert (spec.folder / runner.FAILED_FILE).exists() and not runner.is_done(spec)
    monkeypatch.setenv("FAKE_TRAIN_MODE", "ok")
    (record,) = runner.run_all([spec], jobs=1, python=fake_python, poll_interval=0.01)
    assert record["ok"] and runner.is_done(spec) and not (spec.folder / runner.FAILED_FILE).exists()


def test_interrupted_runner_stops_its_runs(tmp_path, fake_python, monkeypatch):
    (spec,) = runner.make_specs(["td3"], "Fake-v0", [0], 2000, tmp_path / "runs", eval_freq=1000)
    monkeypatch.setenv("FAKE_TRAIN_MODE", "slow")
    children = []

    def interrupt(line):
        if "started" in line:
            children.append(json.loads((spec.folder / runner.CLAIM_FILE).read_text())["child_pid"])
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.run_all([spec], jobs=1, python=fake_python, on_event=interrupt, poll_interval=0.01)
    assert len(children) == 1
    # The training process is gone (reaped by the runner) and the folder is free for a clean restart
    with pytest.raises(ProcessLookupError):
        os.kill(children[0], 0)
    assert runner.claim_holder(spec.folder) is None and not runner.is_done(spec)


def test_runner_leaves_runs_claimed_by_live_runner(tmp_path, fake_python):
    claimed, free = runner.make_specs(["td3", "td3_nstep3"], "Fake-v0", [0], 2000, tmp_path / "runs", eval_freq=1000)
    claimed.folder.mkdir(parents=True)
    (claimed.folder / runner.CLAIM_FILE).write_text(json.dumps({"runner_pid": os.getpid()}))
    records = runner.run_all([claimed, free], jobs=2, python=fake_python, poll_interval=0.01)
    assert [record["config"] for record in records] == ["td3_nstep3"]
    assert not runner.is_done(claimed) and (claimed.folder / runner.CLAIM_FILE).exists()


def test_runner_rejects_bad_jobs(tmp_path):
    with pytest.raises(ValueError, match="jobs"):
        runner.run_all(runner.make_specs(["td3"], "Fake-v0", [0], 10, tmp_path), jobs=0)


def test_rliable_statistics():
    rng = np.random.default_rng(0)
    scores = {"flat": np.full((5, 1), 7.0), "spread": rng.normal(100.0, 10.0, (10, 1))}
    estimates = stats.interval_estimates(scores, stats.iqm_and_mean, reps=500)
    # Constant scores: IQM = mean = the constant, and the CI collapses onto it
    for values in estimates["flat"]:
        assert values == pytest.approx([7.0, 7.0])
    (iqm, mean), (iqm_low, mean_low), (iqm_high, mean_high) = estimates["spread"]
    assert mean == pytest.approx(scores["spread"].mean())
    assert mean_low < mean < mean_high and iqm_low < iqm < iqm_high
    # rliable's IQM: the mean of the middle half of the runs
    assert stats.iqm_and_mean(np.array([[1.0], [2.0], [3.0], [1000.0]]))[0] == pytest.approx(2.5)
    # One run: no interval
    one = stats.interval_estimates({"one": np.array([[3.0]])}, stats.iqm_and_mean)["one"]
    assert [values[1] for values in one] == [3.0, 3.0, 3.0]


def test_probability_of_improvement_and_verdict():
    low_runs, high_runs = np.arange(10.0)[:, None], np.arange(100.0, 110.0)[:, None]
    overlapping = np.arange(5.0, 15.0)[:, None]
    result = stats.probability_of_improvement(
        {"td3": low_runs, "high": high_runs, "same": low_runs.copy(), "overlap": overlapping}, reps=500
    )
    assert set(result) == {"high", "same", "overlap"}
    assert result["high"] == (1.0, 1.0, 1.0)
    point, low, high = result["same"]
    assert point == 0.5 and low < 0.5 < high
    # P(X > Y) counted by hand over the 10 x 10 pairs, X = 5..14 against Y = 0..9, a tie counting one half
    pairs = [(x > y) + 0.5 * (x == y) for x in range(5, 15) for y in range(10)]
    assert result["overlap"][0] == pytest.approx(sum(pairs) / 100) == pytest.approx(0.875)
    assert stats.verdict(0.6, 0.9) == "better" and stats.verdict(0.1, 0.4) == "worse"
    assert stats.verdict(0.3, 0.7) == "no difference shown"
    # Fewer than 10 runs rank nothing, whatever the interval
    assert stats.verdict(0.6, 0.9, n_runs=3) == stats.verdict(0.0, 0.0, n_runs=9) == "too few runs (n < 10)"
    assert stats.verdict(0.6, 0.9, n_runs=3, min_runs=3) == "better"
    assert stats.probability_of_improvement({"high": high_runs}) == {}


def test_performance_profile():
    scores = {"a": np.array([[1.0], [2.0], [3.0], [4.0]])}
    ((profile, low, high),) = stats.performance_profile(scores, np.array([0.0, 2.5, 5.0]), reps=500).values()
    assert profile == pytest.approx([1.0, 0.5, 0.0])
    assert (low <= profile).all() and (profile <= high).all()


def _run(timesteps, means, lengths=None) -> "run_files.SeedRun":
    returns = np.repeat(np.asarray(means, dtype=float)[:, None], 4, axis=1)
    ep_lengths = np.full(returns.shape, 500) if lengths is None else np.asarray(lengths)
    return run_files.SeedRun(0, np.asarray(timesteps), returns, ep_lengths)


def test_completion_rate_and_stuck_runs():
    steps = [20_000, 40_000, 60_000, 80_000]
    lengths = np.array([[22] * 4, [22] * 4, [1000, 22, 22, 22], [1000, 1000, 1000, 400]])
    assert stats.completion_rate(_run(steps, [1, 2, 3, 4], lengths), 1000) == 0.75
    assert stats.completion_rate(_run(steps, [1, 2, 3, 4], lengths), 1000, index=2) == 0.25
    assert np.isnan(stats.completion_rate(_run(steps, [1, 2, 3, 4], lengths), None))
    # Stuck: nothing above 200 from 50k on, even if it was better before
    assert stats.is_stuck(_run(steps, [900, 300, 38, 39]), 200.0) is True
    assert stats.is_stuck(_run(steps, [38, 39, 38, 250]), 200.0) is False
    assert stats.is_stuck(_run(steps[:2], [38, 39]), 200.0) is None
    assert stats.max_episode_steps_of("Hopper-v4") == 1000 and stats.max_episode_steps_of("Nothing-v0") is None


def test_travelled_distance_and_hopped_through():
    # 1 per step alive plus dx/dt (dt = 0.008): 1000 steps standing still score 1000 and travel 0 m
    returns, lengths = np.array([1000.0, 1500.0, 3000.0, 1600.0]), np.array([1000, 1000, 1000, 700])
    np.testing.assert_allclose(tasks.travelled_distance(returns, lengths, 1.0, 0.008), [0.0, 4.0, 16.0, 7.2])
    assert tasks.completed(returns, lengths, 1000, "Hopper-v4").tolist() == [False, True, True, False]
    with pytest.raises(KeyError):
        tasks.completed(returns, lengths, 1000, "Pendulum-v1")


def test_auc_and_steps_to_threshold():
    steps = np.array([10_000, 20_000, 40_000, 50_000])
    assert stats.area_under_curve(steps, np.full(4, 7.0)) == pytest.approx(7.0)
    # Linear curve from 0 to 100 over the span: average 50
    assert stats.area_under_curve(np.array([0, 10]), np.array([0.0, 100.0])) == pytest.approx(50.0)
    assert stats.steps_to_threshold(steps, np.array([1.0, 5.0, 4.0, 9.0]), 5.0) == 20_000
    assert np.isnan(stats.steps_to_threshold(steps, np.array([1.0, 2.0, 3.0, 4.0]), 5.0))


def _synthetic_runs(
    runs_dir: Path, env_id: str, curves: dict[str, list[np.ndarray]], eval_freq: int = 10_000, lengths: int = 1000
) -> None:
    for name, per_seed in curves.items():
        for seed, curve in enumerate(per_seed):
            folder = runs_dir / env_id / name / f"seed_{seed}"
            folder.mkdir(parents=True)
            timesteps = eval_freq * np.arange(1, len(curve) + 1)
            results = np.repeat(np.asarray(curve, dtype=float)[:, None], 10, axis=1)
            np.savez(folder / "evaluations.npz", timesteps=timesteps, results=results, ep_lengths=results * 0 + lengths)
            record = {"seed": seed, "env_steps_per_s": 100.0 + seed, "n_timesteps": int(timesteps[-1])}
            if name in CONFIGS:  # what the runner records: the configuration's algorithm and overrides
                record.update(algo=CONFIGS[name].algo, hyperparams=CONFIGS[name].hyperparams)
            (folder / layout.RESULT_FILE).write_text(json.dumps(record))


def test_long_budget_report(tmp_path):
    """A 500k report: IQM at 100k / 300k / 500k with the published numbers beside, final against best, completion
    beside the write-up's 7/10, resumed runs and software stacks; --report-only -n 500000 writes it."""
    steps = 50
    rise = np.linspace(100.0, 3000.0, steps)
    peak = rise.copy()
    peak[-1] = 1000.0  # best 2941 at 490k, ends at 1000
    runs_dir = Path("results") / "runs"
    _synthetic_runs(runs_dir, "Hopper-v4-500k", {"td3": [rise, rise + 100.0, peak], "td3x_writeup": [rise + 200.0] * 3})
    td3_0 = runs_dir / "Hopper-v4-500k" / "td3" / "seed_0" / layout.RESULT_FILE
    record = json.loads(td3_0.read_text())
    record.update(resumed=[{"from_timestep": 150_000}, {"from_timestep": 400_000}], environment=runner.environment_record())
    td3_0.write_text(json.dumps(record))
    assert bench_main(["--env", "Hopper-v4", "-n", "500000", "--report-only"]) == 0
    text = Path("results/Hopper-v4-500k/summary.md").read_text()
    table = text[text.index("## IQM at the budgets") :]
    # Three identical runs: the IQM at each budget is the curve's value there
    row = next(line for line in table.splitlines() if line.startswith("| `td3x_writeup`"))
    for budget in (100_000, 300_000, 500_000):
        value = rise[budget // 10_000 - 1] + 200.0
        assert f"{value:.0f} [{value:.0f}, {value:.0f}]" in row
    assert "IQM @1M" not in table  # no run went that far
    # Each set's chance of scoring above td3 at each budget: three runs of each, too few for a verdict
    chance = table[table.index("| config | seeds | P(better than td3) @100k") :].splitlines()[2]
    assert chance.startswith("| `td3x_writeup` | 3 | ")
    assert chance.count("too few runs (n < 10)") == 3
    # summary.csv carries the same probabilities before the final budget (the final one is p_improvement itself)
    summary = pd.read_csv("results/Hopper-v4-500k/summary.csv").set_index("config")
    assert [column for column in summary.columns if column.startswith("p_improvement_")] == [
        "p_improvement_low",
        "p_improvement_high",
        "p_improvement_100k",
        "p_improvement_100k_low",
        "p_improvement_100k_high",
        "p_improvement_300k",
        "p_improvement_300k_low",
        "p_improvement_300k_high",
    ]
    writeup = summary.loc["td3x_writeup"]
    cell_300k = chance.split(" | ")[3]
    assert cell_300k.startswith(
        f"{writeup['p_improvement_300k']:.2f} [{writeup['p_improvement_300k_low']:.2f}, "
        f"{writeup['p_improvement_300k_high']:.2f}] "
    )
    # td3x_writeup's runs lie 200 above td3's two rising runs and its third, so above all three at 300k
    assert writeup["p_improvement_300k"] == 1.0 and np.isnan(summary.loc["td3", "p_improvement_300k"])
    assert "| TD3 (sfujim/TD3, paper code) | Hopper-v1 | 500k | 2933 +- 682 | 3133 | 10 |" in text
    assert "| TD7 (sfujim/TD7) | Hopper-v4 | 300k | 2948 +- 464 | - | ? |" in text
    assert "2: 1000 (best 2941 @490k)" in text and "(1/3 ended >10% below their best)" in text
    # seed 2 ends standing (1000 over 1000 steps): not hopped through
    assert "7 of 10" in text and "`td3` 20/30 (67%)" in text and "`td3x_writeup` 30/30 (100%)" in text
    assert "`td3` seed 0 (from 150,000, 400,000)" in text
    assert f"torch {th.__version__}" in text and "- 1 run: Python" in text and "- 5 runs: not recorded" in text
    # The standard budget's report has none of it
    _synthetic_runs(runs_dir, "Hopper-v4", {"td3": [rise[:10]] * 3})
    assert bench_main(["--env", "Hopper-v4", "--report-only"]) == 0
    assert "## IQM at the budgets" not in Path("results/Hopper-v4/summary.md").read_text()
    # A budget with no runs says so and fails, instead of writing nothing silently
    assert bench_main(["--env", "Hopper-v4", "-n", "300000", "--report-only"]) == 1
    assert not Path("results/Hopper-v4-300k").exists()


def test_iqm_at_a_budget_is_bootstrapped_like_the_final_iqm():
    """The budget table's CI at the final budget is the main table's final-IQM CI, not the curve's joint band."""
    from sb3_td3x.benchmark.analysis.long_budget import iqm_at_budgets_table
    from sb3_td3x.benchmark.analysis.stats import Curve, interval_estimates, iqm_and_mean

    # Five runs evaluated 50 times (a 500k run's curve), ending at 2818, 3573, 3425, 2629 and 3387; the curve's bands
    # are left unknown (NaN): the table must not read them
    n = 50
    per_seed = np.random.default_rng(0).uniform(0.0, 3500.0, size=(5, n))
    per_seed[:, -1] = [2818.0, 3573.0, 3425.0, 2629.0, 3387.0]
    unknown = np.full(n, np.nan)
    timesteps = np.arange(1, n + 1) * 10_000
    curve = Curve(timesteps, per_seed.mean(axis=0), unknown, unknown, unknown, unknown, unknown, per_seed)
    ((final, final_low, final_high),) = interval_estimates({"c": per_seed[:, -1:]}, iqm_and_mean).values()
    row = iqm_at_budgets_table({"c": curve}, (100_000, 500_000)).splitlines()[-1]
    assert row.endswith(f"| {final[0]:.0f} [{final_low[0]:.0f}, {final_high[0]:.0f}] |")


def test_probability_of_improvement_at_each_budget():
    """At every reported budget the table compares the runs' scores there with the baseline's, and says better or
    worse only with ten runs of each."""
    from sb3_td3x.benchmark.analysis.long_budget import improvement_at_budgets_table
    from sb3_td3x.benchmark.analysis.stats import Curve

    timesteps = np.arange(1, 51) * 10_000
    unknown = np.full(timesteps.size, np.nan)

    def curve(per_seed: np.ndarray) -> Curve:
        return Curve(timesteps, per_seed.mean(axis=0), unknown, unknown, unknown, unknown, unknown, per_seed)

    rng = np.random.default_rng(0)
    base = rng.uniform(1000.0, 2000.0, size=(10, timesteps.size))
    ahead = base + 5000.0  # every run above every baseline run at every budget ...
    ahead[:, 49] = 0.0  # ... but at 500k, where all are below
    table = improvement_at_budgets_table(
        {"td3": curve(base), "early": curve(ahead), "few": curve(ahead[:5])},
        "td3",
        (100_000, 300_000, 500_000, 10**6),
        reps=200,
    )
    lines = table.splitlines()
    assert lines[0] == "| config | seeds | P(better than td3) @100k | P(better than td3) @300k | P(better than td3) @500k |"
    early = next(line for line in lines if line.startswith("| `early`"))
    assert early == ("| `early` | 10 | 1.00 [1.00, 1.00] better | 1.00 [1.00, 1.00] better | 0.00 [0.00, 0.00] worse |")
    few = next(line for line in lines if line.startswith("| `few`"))
    assert few.count("too few runs (n < 10)") == 3 and few.startswith("| `few` | 5 | 1.00 ")
    assert not any(line.startswith("| `td3`") for line in lines)
    # An interval that straddles 0.5 shows no difference; without the baseline there is no table
    mixed = improvement_at_budgets_table({"td3": curve(base), "same": curve(base[::-1].copy())}, "td3", (300_000,), reps=200)
    assert mixed.splitlines()[-1].endswith("no difference shown |")
    assert improvement_at_budgets_table({"early": curve(ahead)}, "td3") == ""


def test_report_on_synthetic_runs(tmp_path):
    steps = 10
    ramp = np.linspace(100.0, 1000.0, steps)
    runs_dir = tmp_path / "results" / "runs"
    _synthetic_runs(
        runs_dir,
        "Hopper-v4",
        {
            "td3": [np.full(steps, 500.0)] * 3 + [np.full(steps, 30.0)],
            "td3x_recommended": [ramp, ramp + 300.0, ramp + 600.0],
        },
    )
    # RL Zoo's config.yml (an OrderedDict) gives the hyperparameters each configuration actually used
    (runs_dir / "Hopper-v4" / "td3x_recommended" / "seed_0" / "config.yml").write_text(
        "!!python/object/apply:collections.OrderedDict\n- - - n_steps\n    - 3\n  - - prioritized_replay\n    - lap\n"
    )
    # An unfinished run (no run.json) is ignored
    (runs_dir / "Hopper-v4" / "td3" / "seed_9").mkdir(parents=True)
    runs = run_files.load_runs(runs_dir, "Hopper-v4")
    assert list(runs) == ["td3", "td3x_recommended"] and [r.seed for r in runs["td3"]] == [0, 1, 2, 3]
    assert run_files.effective_hyperparams(runs["td3x_recommended"]) == {"n_steps": 3, "prioritized_replay": "lap"}

    paths = report.write_report(runs_dir, "Hopper-v4", tmp_path / "out", command="python -m x --report-only", reps=500)
    names = ["curves.png", "profile.png", "ablation.png", "summary.csv", "summary.md", "wallclock.png"]
    assert [p.name for p in paths] == names
    assert all(p.stat().st_size > 0 for p in paths)
    summary = pd.read_csv(paths[3]).set_index("config")
    td3, td3x = summary.loc["td3"], summary.loc["td3x_recommended"]
    # Final scores 500, 500, 500, 30: IQM of the middle two runs = 500, mean = 382.5
    assert td3["final_iqm"] == pytest.approx(500.0) and td3["final_return"] == pytest.approx(382.5)
    assert td3["final_return_low"] < 382.5 < td3["final_return_high"]
    assert np.isnan(td3["return_300k"]) and np.isnan(td3["return_1M"])
    assert td3["seeds_reaching_threshold"] == 0 and np.isnan(td3["steps_to_threshold_median"])
    # The 30-return run never passes 200 after 50k: stuck; every final episode lasted the 1000-step limit
    assert td3["stuck_runs"] == 1 and td3["stuck_checked"] == 4
    assert td3["completion_rate"] == 1.0 and td3["completed_episodes"] == 40
    # Ramp: final mean over seeds = 1000 + 300; every td3x run ends above every td3 run
    assert td3x["final_return"] == pytest.approx(1300.0)
    assert td3x["final_return_low"] <= 1300.0 <= td3x["final_return_high"]
    assert td3x["p_improvement"] == 1.0 and td3x["vs_baseline"] == "too few runs (n < 10)"
    assert td3x["auc"] == pytest.approx(ramp.mean() + 300.0)
    # Threshold 1000 (Hopper default): seed 0 at the last eval (100k), seed 1 at 70k, seed 2 at 40k
    assert td3x["threshold"] == 1000.0 and td3x["seeds_reaching_threshold"] == 3
    assert td3x["steps_to_threshold_median"] == 70_000
    assert td3x["env_steps_per_s"] == pytest.approx(101.0)
    markdown = paths[4].read_text()
    assert "python -m x --report-only" in markdown and "seeds: 0-3" in markdown and "100,000" in markdown
    assert "| `td3x_recommended` | 3 |" in markdown and "1.00 [1.00, 1.00] | too few runs (n < 10) |" in markdown
    # Survived and hopped through: every synthetic episode lasts 1000 steps; td3's return 500 means it went backwards,
    # the ramp's runs end at 1000-1600: (return - 1000) x 0.008 = 0-4.8 m, so only the run ending at 1600 hopped
    assert "100% (40/40) | 0% (0/40) | 1/4 |" in markdown
    assert td3x["hopped_episodes"] == 10 and "| 100% (30/30) | 33% (10/30) |" in markdown
    assert "- `td3x_recommended`: n_steps=3, prioritized_replay=lap" in markdown
    assert "- `td3`: 0: 500, 1: 500, 2: 500, 3: 30" in markdown


def test_report_merges_runs_folders(tmp_path):
    _synthetic_runs(tmp_path / "a", "Hopper-v4", {"td3": [np.full(3, 1.0)]})
    _synthetic_runs(tmp_path / "b", "Hopper-v4", {"td3": [np.full(3, 2.0), np.full(3, 5.0)], "td3_nstep3": [np.ones(3)]})
    runs = run_files.load_runs([tmp_path / "a", tmp_path / "b"], "Hopper-v4")
    # seed 0 from the first folder, seed 1 from the second
    assert [run.returns[-1, 0] for run in runs["td3"]] == [1.0, 5.0] and len(runs["td3_nstep3"]) == 1
    assert list(run_files.load_runs([tmp_path / "a", tmp_path / "b"], "Hopper-v4", seeds=lambda seed: seed > 0)) == ["td3"]


def test_report_only_cli_rebuilds_from_result_files(tmp_path):
    curves = {"td3": [np.full(3, 100.0 * (i + 1)) for i in range(3)], "td3_nstep3": [np.full(3, 50.0)] * 3}
    _synthetic_runs(tmp_path / "results" / "runs", "Hopper-v4", curves)
    # Screening seeds (>= 100) go to their own report
    screening = tmp_path / "results" / "runs" / "Hopper-v4" / "td3x_lap" / "seed_100"
    shutil.copytree(tmp_path / "results" / "runs" / "Hopper-v4" / "td3" / "seed_0", screening)
    record = json.loads((screening / "run.json").read_text())
    lap = CONFIGS["td3x_lap"]
    (screening / "run.json").write_text(json.dumps({**record, "seed": 100, "algo": lap.algo, "hyperparams": lap.hyperparams}))
    assert bench_main(["--env", "Hopper-v4", "--report-only"]) == 0
    head = pd.read_csv(tmp_path / "results" / "Hopper-v4" / "summary.csv")
    assert list(head["config"]) == ["td3", "td3_nstep3"] and list(head["n_seeds"]) == [3, 3]
    screen = pd.read_csv(tmp_path / "results" / "Hopper-v4" / "screening" / "summary.csv")
    assert list(screen["config"]) == ["td3x_lap"] and list(screen["seeds"].astype(str)) == ["100"]
    with pytest.raises(SystemExit):
        parse_args(["--time-left", "0"])


def test_runs_of_an_older_set_are_never_mixed_in(tmp_path, fake_python, monkeypatch, capsys):
    """When a configuration's overrides change, its finished runs of the old set stop everything before training."""
    specs = runner.make_specs(["td3x_recommended"], "Fake-v0", [0, 1], 2000, tmp_path / "runs", eval_freq=1000)
    runner.run_all(specs[:1], jobs=1, python=fake_python, poll_interval=0.01)
    old = dict(CONFIGS["td3x_recommended"].hyperparams)
    changed = BenchmarkConfig(
        "td3x_recommended", "td3x", {**old, "replay_buffer_kwargs": "dict(threshold_scale='td_error', max_priority_reset=250)"}
    )
    monkeypatch.setitem(CONFIGS, "td3x_recommended", changed)
    new_specs = runner.make_specs(["td3x_recommended"], "Fake-v0", [0, 1], 2000, tmp_path / "runs", eval_freq=1000)
    assert new_specs[0].config is changed
    for scratch in (True, False):  # found in the scratch folder, then in the committed result files only
        with pytest.raises(layout.MixedResultsError, match=r"seed_0 was trained as --algo td3x --hyperparams") as info:
            runner.run_all(new_specs, jobs=1, python=fake_python, poll_interval=0.01)
        trained = " ".join(f"{key}:{value}" for key, value in old.items())
        assert f"{trained}, but configuration td3x_recommended is now" in str(info.value)
        assert "max_priority_reset=250)" in str(info.value)
        assert not new_specs[1].folder.exists()  # nothing was trained
        if scratch:
            shutil.rmtree(tmp_path / "runs")
    # The command line says it in one line, and so does the report
    assert bench_main(["--env", "Fake-v0", "--configs", "td3x_recommended", "--seeds", "1", "-n", "2000"]) == 2
    assert bench_main(["--env", "Fake-v0", "--report-only", "-n", "2000"]) == 2
    assert capsys.readouterr().err.count("error: results/runs/Fake-v0-2k/td3x_recommended/seed_0 was trained as") == 2
    # Moved to a configuration of its own, it is that configuration's run
    monkeypatch.setitem(CONFIGS, "td3x_old", BenchmarkConfig("td3x_old", "td3x", old))
    shutil.move("results/runs/Fake-v0-2k/td3x_recommended", "results/runs/Fake-v0-2k/td3x_old")
    assert list(run_files.load_runs("results/runs", "Fake-v0", runs_key="Fake-v0-2k")) == ["td3x_old"]


def test_report_refuses_runs_of_one_config_with_different_hyperparameters(tmp_path):
    _synthetic_runs(tmp_path / "runs", "Hopper-v4", {"td3": [np.full(3, 1.0)] * 3})
    for seed, learning_rate in ((0, 0.001), (1, 0.001), (2, 0.0003)):
        (tmp_path / "runs" / "Hopper-v4" / "td3" / f"seed_{seed}" / "config.yml").write_text(
            f"!!python/object/apply:collections.OrderedDict\n- - - learning_rate\n    - {learning_rate}\n"
        )
    with pytest.raises(layout.MixedResultsError, match=r"seed_2 and .*seed_0 are runs of td3 trained with different"):
        run_files.load_runs(tmp_path / "runs", "Hopper-v4")
    assert [run.seed for run in run_files.load_runs(tmp_path / "runs", "Hopper-v4", seeds=lambda seed: seed < 2)["td3"]] == [
        0,
        1,
    ]


def test_report_takes_the_buffers_own_n_steps_and_gamma_as_the_same_set(tmp_path):
    """A config.yml that lists the n_steps / gamma the algorithm gives its buffer anyway is the same set; another
    value of them there is not."""
    _synthetic_runs(tmp_path / "runs", "Hopper-v4", {"td3": [np.full(3, 1.0)] * 3})
    buffer_args = {
        0: "{threshold_scale: td_error}",
        1: "{gamma: 0.99, n_steps: 3, threshold_scale: td_error}",
        2: "{gamma: 0.99, n_steps: 5, threshold_scale: td_error}",
    }
    for seed, args in buffer_args.items():
        (tmp_path / "runs" / "Hopper-v4" / "td3" / f"seed_{seed}" / "config.yml").write_text(
            "!!python/object/apply:collections.OrderedDict\n- - - gamma\n    - 0.99\n  - - n_steps\n    - 3\n"
            f"  - - replay_buffer_kwargs\n    - {args}\n"
        )
    runs = run_files.load_runs(tmp_path / "runs", "Hopper-v4", seeds=lambda seed: seed < 2)["td3"]
    expected = {"gamma": 0.99, "n_steps": 3, "replay_buffer_kwargs": {"threshold_scale": "td_error"}}
    assert [run.hyperparams for run in runs] == [expected, expected]
    assert run_files.effective_hyperparams(runs) == expected
    with pytest.raises(layout.MixedResultsError, match=r"seed_2 and .*seed_0 are runs of td3 trained with different"):
        run_files.load_runs(tmp_path / "runs", "Hopper-v4")


def test_report_takes_sb3s_own_use_sde_in_policy_kwargs_as_the_same_set(tmp_path):
    """SB3 writes use_sde into the policy_kwargs of the algorithms with gSDE (a freshly started run's config.yml lists
    it, a resumed one's does not): the same set while it equals the run's use_sde (default False), another otherwise."""
    _synthetic_runs(tmp_path / "runs", "Hopper-v4", {"crossq": [np.full(3, 1.0)] * 4})
    configs = {
        0: "  - - policy_kwargs\n    - {net_arch: [256, 256]}\n",
        1: "  - - policy_kwargs\n    - {net_arch: [256, 256], use_sde: false}\n",
        2: "  - - policy_kwargs\n    - {net_arch: [256, 256], use_sde: true}\n  - - use_sde\n    - true\n",
        3: "  - - policy_kwargs\n    - {net_arch: [256, 256], use_sde: true}\n",
    }
    for seed, text in configs.items():
        (tmp_path / "runs" / "Hopper-v4" / "crossq" / f"seed_{seed}" / "config.yml").write_text(
            "!!python/object/apply:collections.OrderedDict\n- - - learning_rate\n    - 0.001\n" + text
        )
    runs = run_files.load_runs(tmp_path / "runs", "Hopper-v4", seeds=lambda seed: seed < 2)["crossq"]
    expected = {"learning_rate": 0.001, "policy_kwargs": {"net_arch": [256, 256]}}
    assert [run.hyperparams for run in runs] == [expected, expected]
    with_sde = run_files.load_runs(tmp_path / "runs", "Hopper-v4", seeds=lambda seed: seed == 2)["crossq"]
    assert with_sde[0].hyperparams == {"learning_rate": 0.001, "policy_kwargs": {"net_arch": [256, 256]}, "use_sde": True}
    for odd_one in (2, 3):
        with pytest.raises(layout.MixedResultsError, match=rf"seed_{odd_one} and .*seed_0 are runs of crossq trained"):
            run_files.load_runs(tmp_path / "runs", "Hopper-v4", seeds=lambda seed, odd_one=odd_one: seed in (0, 1, odd_one))


def test_report_threshold_fallback(tmp_path):
    _synthetic_runs(tmp_path, "Unknown-v0", {"td3": [np.array([1.0, 3.0]), np.array([2.0, 5.0])]})
    runs = run_files.load_runs(tmp_path, "Unknown-v0")
    assert stats.resolve_threshold("Unknown-v0", runs, None) == (4.0, "final mean return of td3")
    assert stats.resolve_threshold("Unknown-v0", runs, 7.0)[0] == 7.0
    assert report.write_report(tmp_path, "Nothing-v0", tmp_path / "results") == []


def test_memory_per_transition():
    obs = spaces.Box(-1, 1, (3,), np.float32)
    act = spaces.Box(-1, 1, (1,), np.float32)
    memory = throughput.memory_per_transition(obs, act, buffer_size=1000)
    # SB3: obs + next_obs (2 x 12 B) + action 4 B + reward, done, timeout (4 B each)
    assert memory["sb3"] == pytest.approx(40.0)
    assert memory["sb3_optimize_memory_usage"] == pytest.approx(28.0)
    # PER adds a sum tree and a min tree of 2 * 1024 float64 nodes over 1000 transitions
    assert memory["per"] - memory["sb3"] == pytest.approx(2 * 2 * 1024 * 8 / 1000)


def test_sample_update_timing_smoke():
    obs = spaces.Box(-1, 1, (3,), np.float32)
    act = spaces.Box(-1, 1, (1,), np.float32)
    for kind in ("sb3", "per", "lap"):
        timing = throughput.time_sample_update(kind, obs, act, buffer_size=500, batch_size=32, iterations=3)
        assert timing["sample_ms"] > 0
        if kind == "sb3":  # no priorities to update: the total is the sampling alone
            assert timing["update_ms"] == 0.0 and timing["total_ms"] == timing["sample_ms"]
        else:  # the median of the sums is at least either median
            assert 0 < timing["update_ms"] <= timing["total_ms"] and timing["sample_ms"] <= timing["total_ms"]
    with pytest.raises(ValueError, match="kind"):
        throughput.make_buffer("fifo", obs, act, 10)


def test_throughput_smoke():
    # Step-wise training variants only: an episodic one (TD7's) would train a whole 200-step Pendulum episode of
    # 256-wide updates per call, which made this smoke test take minutes on a loaded machine
    names = ["td3", "td3x_off", "td3x_all_per"]
    rounds = []
    rates = throughput.measure_throughput(
        names,
        "Pendulum-v1",
        chunk=20,
        rounds=2,
        learning_starts=50,
        buffer_size=1000,
        on_round=lambda i, r: rounds.append((i, dict(r))),
    )
    assert sorted(rates) == sorted(names)
    assert [(index, sorted(rates_of_round)) for index, rates_of_round in rounds] == [(0, sorted(names)), (1, sorted(names))]
    # Step-wise variants make exactly `chunk` steps a round: the rate is over both rounds' steps and time, not a mean
    for name in names:
        first, second = (rates_of_round[name] for _, rates_of_round in rounds)
        assert rates[name] == pytest.approx(2 / (1 / first + 1 / second))
    with pytest.raises(ValueError, match="unknown"):
        throughput.measure_throughput(["ddpg"])


def test_throughput_variants_of_the_candidates_are_their_configurations():
    td7, small = throughput.VARIANTS["td7"], throughput.VARIANTS["td7_z128"]
    assert td7.algo == small.algo == "td7" and td7.kwargs == {"policy_kwargs": {}}
    assert small.kwargs == {"policy_kwargs": {"zs_dim": 128}}
    model = throughput.build_model(small, "Pendulum-v1", 0, 1000, 100)
    assert type(model).__name__ == "TD7" and model.policy.zs_dim == 128 and model.policy.net_arch == [256, 256, 256]
    writeup = throughput.VARIANTS["td3x_writeup"]
    assert writeup.noise_std == 0.2 and writeup.kwargs["prioritized_replay"] == "per"
    assert writeup.kwargs["policy_kwargs"] == {"net_arch": [400, 300]}


@pytest.mark.parametrize("prefix", ["td3x_crossq", "crossq"])
def test_throughput_renorm_variants_are_past_the_warm_up(prefix):
    from sb3_contrib.common.torch_layers import BatchRenorm1d

    for width in (256, 512):
        warm, renorm = throughput.VARIANTS[f"{prefix}{width}"], throughput.VARIANTS[f"{prefix}{width}_renorm"]
        assert renorm.algo == warm.algo and renorm.noise_std == warm.noise_std
        assert renorm.kwargs == {**warm.kwargs, "policy_kwargs": {**warm.kwargs["policy_kwargs"], "renorm_warmup_steps": 0}}
    model = throughput.build_model(throughput.VARIANTS[f"{prefix}256_renorm"], "Pendulum-v1", 0, 1000, 100)
    layers = [module for module in model.policy.modules() if isinstance(module, BatchRenorm1d)]
    assert layers and all(layer.warmup_steps == 0 for layer in layers)
    assert model.policy.critic.qf0[1].out_features == 256


def test_throughput_cli_smoke(tmp_path, capsys):
    markdown = tmp_path / "throughput.md"
    argv = ["--env", "Pendulum-v1", "--variants", "td3", "--chunk", "10", "--rounds", "1", "--learning-starts", "50"]
    argv += ["--buffer-size", "500", "--per-buffer-size", "500", "--iterations", "2", "--markdown", str(markdown)]
    throughput.main(argv)
    printed = capsys.readouterr().out
    text = markdown.read_text()
    for expected in ("ratio to td3", "td3 ", "PER n_steps=1", "target: PER sample + update < 1 ms", "sb3 ", "per "):
        assert expected in printed and expected in text
    assert "--per-buffer-size 500" in text


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 40])
def test_shards_split_the_runs(tmp_path, count):
    specs = runner.make_specs(["td3", "td3_nstep3", "td3x_recommended"], "Hopper-v4", range(7), 1000, tmp_path)
    shards = [runner.select_shard(specs, index, count) for index in range(count)]
    names = [[spec.name for spec in shard] for shard in shards]
    # Disjoint, complete, balanced
    assert sorted(name for shard in names for name in shard) == sorted(spec.name for spec in specs)
    assert len({name for shard in names for name in shard}) == len(specs)
    assert max(map(len, names)) - min(map(len, names)) <= 1
    # The same split whatever order the runs were listed in (another machine may list configs differently)
    shuffled = runner.make_specs(["td3x_recommended", "td3", "td3_nstep3"], "Hopper-v4", range(6, -1, -1), 1000, tmp_path)
    for index in range(count):
        assert {spec.name for spec in runner.select_shard(shuffled, index, count)} == set(names[index])


@pytest.mark.parametrize("text", ["3/2", "0/0", "a/b", "-1/2", "1/2/3", "2", "1/-3", " /2"])
def test_bad_shard_is_rejected(text, capsys):
    with pytest.raises(SystemExit):
        parse_args([f"--shard={text}"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--shard must be I/K" in error and repr(text) in error
    with pytest.raises(ValueError, match="--shard"):
        runner.parse_shard(text)
    assert runner.parse_shard("2/5") == (2, 5) and parse_args(["--shard", "0/1"]).shard == (0, 1)


def test_sharded_runs_merge_into_one_report(tmp_path, fake_python):
    # Two machines, two shards, two results folders; one report over both
    for index in range(2):
        specs = runner.make_specs(
            ["td3", "td3_nstep3"], "Hopper-v4", [0, 1, 2], 3000, tmp_path / f"scratch_{index}", 1000, results=f"shard_{index}"
        )
        runner.run_all(runner.select_shard(specs, index, 2), jobs=2, python=fake_python, poll_interval=0.01)
    counts = [len(list(Path(f"shard_{index}/runs/Hopper-v4-3k").glob("*/seed_*"))) for index in range(2)]
    assert counts == [3, 3]
    assert bench_main(["--env", "Hopper-v4", "-n", "3000", "--report-only", "--runs", "shard_0/runs", "shard_1/runs"]) == 0
    summary = pd.read_csv("results/Hopper-v4-3k/summary.csv")
    assert list(summary["config"]) == ["td3", "td3_nstep3"] and list(summary["n_seeds"]) == [3, 3]


def test_slurm_example_submits_shards_and_report(tmp_path):
    # Stand-ins for sbatch and python that record their arguments
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, output in (("sbatch", "4242"), ("python", "")):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / name}.calls\necho {output}\n')
        stub.chmod(0o755)
    script = Path(__file__).resolve().parents[1] / "examples" / "slurm_benchmark.sh"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "SHARDS": "3", "CPUS": "4"}
    subprocess.run(["bash", str(script)], check=True, env=env, cwd=tmp_path, capture_output=True)
    array_call, report_call = (tmp_path / "sbatch.calls").read_text().splitlines()
    assert "--array=0-2" in array_call and "--cpus-per-task=4" in array_call and array_call.endswith(" task")
    assert "--dependency=afterok:4242" in report_call and report_call.endswith(" report")
    # Each array task runs its own shard into its own results folder; the report merges them
    for index in range(3):
        subprocess.run(["bash", str(script), "task"], check=True, env={**env, "SLURM_ARRAY_TASK_ID": str(index)}, cwd=tmp_path)
    subprocess.run(["bash", str(script), "report"], check=True, env=env, cwd=tmp_path)
    calls = (tmp_path / "python.calls").read_text().splitlines()
    for index in range(3):
        args = calls[index].split()
        assert args[args.index("--shard") + 1] == f"{index}/3" and args[args.index("--jobs") + 1] == "4"
        assert args[args.index("--results") + 1] == f"results/shard_{index}"
        assert parse_args(args[2:]).shard == (index, 3)
    assert calls[3].split()[-2:] == ["--runs", "results/shard_*/runs"] and "--report-only" in calls[3]


def test_diagnose_table_from_logger_files(tmp_path):
    from sb3_td3x.benchmark import diagnose

    # SB3's CSV logger: one row per episode; rows before training have no train/ values
    folder = tmp_path / "logs" / "Hopper-v4" / "td3x_recommended"
    folder.mkdir(parents=True)
    frame = pd.DataFrame(
        {
            "time/total_timesteps": [500, 1500, 4000, 6000, 9000],
            "train/critic_loss": [np.nan, 2.0, 4.0, 6.0, 8.0],
            "train/huber_linear_frac": [np.nan, 0.2, 0.4, 0.6, 0.8],
        }
    )
    frame.to_csv(folder / "progress.csv", index=False)
    rows = diagnose.summarize(folder / "progress.csv", window=5000)
    assert [row["steps"] for row in rows] == [5000, 10000]
    assert rows[0]["train/critic_loss"] == pytest.approx(3.0) and rows[1]["train/huber_linear_frac"] == pytest.approx(0.7)
    assert np.isnan(rows[0]["train/sampling_ess"])  # not logged: not in the table
    args = ["--configs", "td3x_recommended", "--window", "5000", "--report-only", "--logs", str(tmp_path / "logs")]
    assert diagnose.main([*args, "--out", str(tmp_path / "out")]) == 0
    table = (tmp_path / "out" / "Hopper-v4.md").read_text()
    assert "| `td3x_recommended` | 10k | - | - | 0.7 | - | - | - | - | 7 |" in table
    with pytest.raises(SystemExit):
        diagnose.main(["--configs", "td3"])  # stock TD3 logs none of these


def test_confidence_intervals_are_the_same_on_every_rebuild():
    # rliable resamples with NumPy's global generator: the report seeds it, and leaves the caller's state alone
    scores = {"a": np.array([[973.0], [816], [2424], [695], [243], [700], [33], [1543], [426], [640]])}
    np.random.seed(7)
    before = np.random.get_state()[1].copy()
    first = stats.interval_estimates(scores, stats.iqm_and_mean)["a"]
    assert np.array_equal(np.random.get_state()[1], before)
    np.random.rand(5)
    second = stats.interval_estimates(scores, stats.iqm_and_mean)["a"]
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert first[1][0] < first[0][0] < first[2][0]


def test_td7_reference_timing_with_a_stand_in_reference(tmp_path, capsys):
    from sb3_td3x.benchmark import td7_reference

    # A stand-in with the reference's interface (Agent(state_dim, action_dim, max_action), replay_buffer.add, train)
    (tmp_path / "TD7.py").write_text(
        "class _Buffer:\n"
        "    def __init__(self):\n        self.rows = []\n"
        "    def add(self, *row):\n        self.rows.append(row)\n"
        "class Agent:\n"
        "    made = []\n"
        "    def __init__(self, state_dim, action_dim, max_action):\n"
        "        self.replay_buffer, self.updates = _Buffer(), 0\n        Agent.made.append(self)\n"
        "        self.dims = (state_dim, action_dim, max_action)\n"
        "    def train(self):\n        self.updates += 1\n"
    )
    markdown = tmp_path / "out.md"
    argv = ["--td7-path", str(tmp_path), "--env", "Pendulum-v1", "--transitions", "300", "--updates", "3", "--rounds", "2"]
    assert td7_reference.main([*argv, "--markdown", str(markdown)]) == 0
    import TD7  # the stand-in, imported by the script

    (agent,) = TD7.Agent.made
    assert agent.dims == (3, 1, 2.0) and len(agent.replay_buffer.rows) == 300
    assert agent.updates == 20 + 2 * 3  # warm-up, then every round
    printed = capsys.readouterr().out
    for name in ("td3 (SB3, [400, 300])", "TD7 reference", "TD7 (sb3_td3x, zs 256)", "TD7 (sb3_td3x, zs 128)"):
        assert f"| {name} |" in printed and f"| {name} |" in markdown.read_text()
    with pytest.raises(FileNotFoundError, match="td7-path"):
        td7_reference.load_reference(str(tmp_path / "nowhere"))


def test_prioritized_evidence_compares_with_the_sb3_parent(tmp_path):

    assert parse_args(["--configs", "prioritized-dqn"]).configs == ["dqn", "dqnx_per", "dqnx_per_nstep3"]
    assert parse_args(["--configs", "prioritized-sac"]).configs == ["sac", "sacx_lap_nstep3"]
    assert stats.baseline_of(["dqnx_per", "dqn"]) == "dqn" and stats.baseline_of(["td3x_off", "td3"]) == "td3"
    # The report of DQN's evidence compares with dqn
    steps = 5
    _synthetic_runs(
        tmp_path / "runs", "CartPole-v1", {"dqn": [np.full(steps, 100.0)] * 3, "dqnx_per": [np.full(steps, 300.0)] * 3}
    )
    paths = report.write_report(tmp_path / "runs", "CartPole-v1", tmp_path / "out", reps=200)
    summary = pd.read_csv(paths[3]).set_index("config")
    assert summary.loc["dqnx_per", "p_improvement"] == 1.0 and np.isnan(summary.loc["dqn", "p_improvement"])
    assert "P(better than dqn)" in paths[4].read_text()


def test_report_reads_per_episode_training_from_config_yml(tmp_path):
    # RL Zoo writes train_freq=(1, "episode") (policy checkpoints, TD7) as a python tuple
    _synthetic_runs(tmp_path / "runs", "Hopper-v4", {"td3x_ckpt": [np.full(3, 10.0)]})
    (tmp_path / "runs" / "Hopper-v4" / "td3x_ckpt" / "seed_0" / "config.yml").write_text(
        "!!python/object/apply:collections.OrderedDict\n- - - train_freq\n    - !!python/tuple\n      - 1\n      - episode\n"
    )
    (run,) = run_files.load_runs(tmp_path / "runs", "Hopper-v4")["td3x_ckpt"]
    assert run.hyperparams == {"train_freq": (1, "episode")}


def _logger_table(steps: int, checkpoints: int) -> str:
    return (
        "-----------------------------------\n| time/                |          |\n"
        f"|    total_timesteps   | {steps:<8d} |\n| train/               |          |\n"
        f"|    n_checkpoints     | {checkpoints:<8d} |\n|    n_updates         | 5        |\n"
        "-----------------------------------\n"
    )


def test_checkpoint_counts_follow_the_log_through_a_resume(tmp_path):
    log = tmp_path / "train.log"
    # A first segment logged up to 12k; the second resumed from a checkpoint at 8k and logged on from there
    first = [(2000, 1), (4000, 2), (6000, 2), (9000, 3), (12000, 5)]
    second = [(8500, 3), (11000, 4), (14000, 4), (16000, 6)]
    log.write_text("Using cpu device\n" + "".join(_logger_table(*row) for row in first + second) + "Summary: ...\n")
    assert runner.checkpoint_counts(log, every=1) == [
        [2000, 1],
        [4000, 2],
        [6000, 2],
        [8500, 3],
        [11000, 4],
        [14000, 4],
        [16000, 6],
    ]
    # The last row of each 5k span, and the last row
    assert runner.checkpoint_counts(log, every=5000) == [[4000, 2], [8500, 3], [14000, 4], [16000, 6]]
    # A run without checkpoints logs no n_checkpoints: nothing recorded
    log.write_text(_logger_table(1000, 0).replace("n_checkpoints", "critic_loss  "))
    assert runner.checkpoint_counts(log) == []
    assert runner.checkpoint_counts(tmp_path / "missing.log") == []


def test_deployment_table_compares_final_with_best_and_counts_late_checkpoints():
    timesteps = np.array([100_000, 200_000, 300_000])
    returns = np.array([[1000.0, 1200.0], [3000.0, 3400.0], [2000.0, 2000.0]])
    counts = [[50_000, 3], [150_000, 9], [200_000, 12], [250_000, 14], [300_000, 15]]
    recorded = run_files.SeedRun(0, timesteps, returns, np.full(returns.shape, 1000), record={"checkpoint_counts": counts})
    unrecorded = run_files.SeedRun(1, timesteps, returns[::-1].copy(), np.full(returns.shape, 1000))
    table = report.deployment_table({"td7": [recorded, unrecorded], "td3": [unrecorded]}, window=100_000)
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    # Seed 0: final 2000 against its best 3200 at 200k; checkpoints 15 - 12 (the count at 200k) = 3 in the last 100k
    assert rows[0] == "| `td7` | 0 | 2000 | 3200 @200,000 | 0.62 | 3 |"
    assert rows[1] == "| `td7` | 1 | 1100 | 3200 @200,000 | 0.34 | not recorded |"
    assert len(rows) == 2  # td3 keeps no checkpoints
    assert report.deployment_table({"td3": [unrecorded]}) == ""
