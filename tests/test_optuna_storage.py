"""
``--optimize`` on a shared database: a real PostgreSQL server started by the tests, several ``rl_zoo3.train``
workers as separate processes, a worker killed with SIGKILL in the middle of a trial, and bad ``--storage`` input.
"""

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from sb3_td3x.zoo.storage import (
    GRACE_PERIOD_VARIABLE,
    HEARTBEAT_VARIABLE,
    MAX_RETRY_VARIABLE,
    StorageError,
    heartbeat_settings,
    is_database_url,
    open_storage,
)

TIMEOUT = 600
STUDY = "td3x-pendulum"
# Short trials on Pendulum (RL Zoo's TD3X entry, training after 100 steps), one evaluation each
WORKER_ARGS = [
    "-m",
    "rl_zoo3.train",
    "--algo",
    "td3x",
    "--env",
    "Pendulum-v1",
    "--num-threads",
    "1",
    "-f",
    "logs",
    "--optimize",
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
    "--no-optim-plots",
    "-params",
    "learning_starts:100",
    "buffer_size:2000",
]


def _server_bindir() -> Path | None:
    initdb = shutil.which("initdb")
    if initdb is not None:
        return Path(initdb).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _run(command: list[str], user: list[str]) -> None:
    result = subprocess.run([*user, *command], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own, on a Unix socket in a temporary folder (no TCP port), with a database."""
    bindir = _server_bindir()
    if bindir is None:
        reason = "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (.ci/run installs it; under CI a missing server is a failure)")
        pytest.skip(reason)
    base = Path(tempfile.mkdtemp(prefix="td3x-pg-"))
    user: list[str] = []
    if os.geteuid() == 0:
        # initdb refuses to run as root: the server runs as the postgres user of Debian's package
        shutil.chown(base, "postgres")
        user = ["runuser", "-u", "postgres", "--"]
    data = base / "data"
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "td3x", "--auth=trust", "-E", "UTF8"], user)
    options = f"-k {base} -c listen_addresses='' -p 5432"
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-o", options, "-w", "start"], user)
    try:
        import psycopg

        with psycopg.connect(host=str(base), port=5432, user="td3x", dbname="postgres", autocommit=True) as connection:
            connection.execute("CREATE DATABASE optuna")
        yield f"postgresql://td3x@/optuna?host={base}&port=5432"
    finally:
        subprocess.run([*user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def _start_worker(cwd: Path, name: str, args: list[str], **env: str) -> tuple[subprocess.Popen, Path]:
    log = cwd / f"{name}.log"
    with open(log, "w") as file:
        process = subprocess.Popen(
            [sys.executable, *WORKER_ARGS, *args], cwd=cwd, env=_env(**env), stdout=file, stderr=subprocess.STDOUT
        )
    return process, log


def _finish(process: subprocess.Popen, log: Path) -> None:
    process.wait(timeout=TIMEOUT)
    assert process.returncode == 0, log.read_text()[-6000:]


def _new_study(url: str, name: str) -> None:
    # Created once up front, as for any distributed Optuna study; the workers load it
    optuna.create_study(storage=url, study_name=name, direction="maximize")


def test_two_workers_share_a_study_on_postgresql(postgres_url, tmp_path):
    _new_study(postgres_url, STUDY)
    args = ["-n", "300", "--n-trials", "2", "--storage", postgres_url, "--study-name", STUDY]
    workers = [_start_worker(tmp_path, f"worker_{seed}", [*args, "--seed", str(seed)]) for seed in (1, 2)]
    for process, log in workers:
        _finish(process, log)
    # Read back from the database: every trial of both workers finished with its hyperparameters and value
    trials = optuna.load_study(storage=postgres_url, study_name=STUDY).get_trials()
    assert len(trials) == 4 and {trial.state for trial in trials} == {TrialState.COMPLETE}
    assert {trial.user_attrs["worker"].rsplit(":", 1)[1] for trial in trials} == {str(p.pid) for p, _ in workers}
    for trial in trials:
        assert {"learning_rate", "batch_size_pow", "net_arch", "n_steps", "prioritized_replay", "exploration"} <= set(
            trial.params
        )
        assert trial.value is not None and trial.value == trial.value  # not NaN


def _trials_of(url: str, study: str, pid: int, state: TrialState) -> list[optuna.trial.FrozenTrial]:
    trials = optuna.load_study(storage=url, study_name=study).get_trials(states=(state,))
    return [trial for trial in trials if trial.user_attrs.get("worker", "").endswith(f":{pid}")]


def test_a_killed_worker_does_not_poison_the_study(postgres_url, tmp_path):
    study, total = "td3x-killed-worker", 5
    _new_study(postgres_url, study)
    heartbeat = {HEARTBEAT_VARIABLE: "1", GRACE_PERIOD_VARIABLE: "3"}
    args = ["-n", "1500", "--max-total-trials", str(total), "--storage", postgres_url, "--study-name", study]
    victim, victim_log = _start_worker(tmp_path, "victim", [*args, "--seed", "1"], **heartbeat)
    # Let the victim complete one trial, then kill it in the middle of its second
    deadline = time.time() + TIMEOUT
    while not (
        _trials_of(postgres_url, study, victim.pid, TrialState.COMPLETE)
        and _trials_of(postgres_url, study, victim.pid, TrialState.RUNNING)
    ):
        assert victim.poll() is None and time.time() < deadline, victim_log.read_text()[-6000:]
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=60)
    (completed_before,) = _trials_of(postgres_url, study, victim.pid, TrialState.COMPLETE)
    (killed,) = _trials_of(postgres_url, study, victim.pid, TrialState.RUNNING)

    survivors = [_start_worker(tmp_path, f"worker_{seed}", [*args, "--seed", str(seed)], **heartbeat) for seed in (2, 3)]
    for process, log in survivors:
        _finish(process, log)

    trials = optuna.load_study(storage=postgres_url, study_name=study).get_trials()
    by_number = {trial.number: trial for trial in trials}
    # The killed trial was marked FAIL (not RUNNING for ever) and run again, with its hyperparameters, by a survivor
    assert by_number[killed.number].state == TrialState.FAIL
    retry_callback = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", optuna.storages.RetryFailedTrialCallback)
    retries = [trial for trial in trials if retry_callback.retried_trial_number(trial) == killed.number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE and retries[0].params == killed.params
    assert retries[0].user_attrs["worker"] != killed.user_attrs["worker"]
    # Every requested trial is COMPLETE, the killed one is the only failure, and nothing completed was lost
    assert sum(trial.state == TrialState.COMPLETE for trial in trials) == total
    assert [trial.number for trial in trials if trial.state != TrialState.COMPLETE] == [killed.number]
    assert by_number[completed_before.number].state == TrialState.COMPLETE
    assert by_number[completed_before.number].value == completed_before.value


def test_heartbeat_settings(monkeypatch):
    for variable in (HEARTBEAT_VARIABLE, GRACE_PERIOD_VARIABLE, MAX_RETRY_VARIABLE):
        monkeypatch.delenv(variable, raising=False)
    assert heartbeat_settings() == (60, 120, 3)
    monkeypatch.setenv(HEARTBEAT_VARIABLE, "5")
    assert heartbeat_settings() == (5, 10, 3)
    monkeypatch.setenv(GRACE_PERIOD_VARIABLE, "7")
    monkeypatch.setenv(MAX_RETRY_VARIABLE, "1")
    assert heartbeat_settings() == (5, 7, 1)
    for variable, value in ((HEARTBEAT_VARIABLE, "0"), (HEARTBEAT_VARIABLE, "1.5"), (MAX_RETRY_VARIABLE, "x")):
        with monkeypatch.context() as context:
            context.setenv(variable, value)
            with pytest.raises(StorageError, match=variable):
                heartbeat_settings()
    monkeypatch.setenv(GRACE_PERIOD_VARIABLE, "5")
    with pytest.raises(StorageError, match=f"{GRACE_PERIOD_VARIABLE}=5 must be longer"):
        heartbeat_settings()


def test_storage_urls(tmp_path):
    assert is_database_url("sqlite:///x.db") and is_database_url("postgresql://h/db")
    assert not is_database_url(None) and not is_database_url("optuna.log")
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    assert storage.heartbeat_interval == 60 and storage.grace_period == 120
    with pytest.raises(StorageError, match="--storage 'not a url' is not a database URL"):
        open_storage("not a url")
    # Unreachable server: refused at once, and the password is not shown
    with pytest.raises(StorageError, match=r"--storage postgresql://td3x:\*\*\*@127.0.0.1:1/optuna: cannot open") as info:
        open_storage("postgresql://td3x:secret@127.0.0.1:1/optuna")
    assert "secret" not in str(info.value)


@pytest.mark.parametrize(
    "storage, message",
    [
        ("nonsense", "error: --storage 'nonsense' is not a database URL"),
        (
            "postgresql://td3x:secret@127.0.0.1:1/optuna",
            "error: --storage postgresql://td3x:***@127.0.0.1:1/optuna: cannot open",
        ),
    ],
)
def test_bad_storage_is_one_error_line_before_training(tmp_path, storage, message):
    result = subprocess.run(
        [sys.executable, *WORKER_ARGS, "-n", "300", "--storage", storage, "--study-name", STUDY],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith(message)
    assert "Traceback" not in result.stderr and "secret" not in result.stdout + result.stderr
    assert "Optimizing hyperparameters" not in result.stdout and not (tmp_path / "logs" / "td3x").exists()
