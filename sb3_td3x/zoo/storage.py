"""
Optuna storage for ``python -m rl_zoo3.train --algo td3x --optimize --storage <database URL>`` on several machines.

RL Zoo hands a ``--storage`` URL straight to ``optuna.create_study``: a worker killed in the middle of a trial
(SIGKILL, a node lost, a job past its time limit) leaves that trial RUNNING for ever, and a wrong URL fails deep
inside Optuna. For ``--algo td3x`` the study is opened here instead (``sb3_td3x.zoo`` wires it in):

- the URL is checked and the database opened before any environment or model is built: a malformed URL, a
  missing driver or an unreachable server is one error line naming ``--storage``;
- the storage records a heartbeat of each running trial (``RDBStorage(heartbeat_interval=..., grace_period=...)``):
  a trial whose worker stopped beating for ``grace_period`` seconds is marked FAIL by the next worker that starts a
  trial, and ``RetryHeartbeatStaleTrialCallback`` (``RetryFailedTrialCallback`` before Optuna 4.9) puts a copy of
  it (same hyperparameters) back in the queue, which the surviving workers run.

The heartbeat interval is ``SB3_TD3X_OPTUNA_HEARTBEAT`` seconds (default 60) and the grace period
``SB3_TD3X_OPTUNA_GRACE_PERIOD`` seconds (default twice the interval, as Optuna's); a failed trial is retried at
most ``SB3_TD3X_OPTUNA_MAX_RETRY`` times (default 3).
"""

from __future__ import annotations

import os
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import optuna

HEARTBEAT_VARIABLE = "SB3_TD3X_OPTUNA_HEARTBEAT"
GRACE_PERIOD_VARIABLE = "SB3_TD3X_OPTUNA_GRACE_PERIOD"
MAX_RETRY_VARIABLE = "SB3_TD3X_OPTUNA_MAX_RETRY"
DEFAULT_HEARTBEAT_INTERVAL = 60
DEFAULT_MAX_RETRY = 3
# Seconds a PostgreSQL / MySQL client waits for the server before giving up (an unreachable host)
CONNECT_TIMEOUT = 10


class StorageError(ValueError):
    """The ``--storage`` URL or the heartbeat settings cannot be used; the message is one line for the user."""


def is_database_url(storage: str | None) -> bool:
    """
    :param storage: RL Zoo's ``--storage`` value.
    :return: whether RL Zoo would hand it to Optuna as a database URL (``None`` is in-memory, ``*.log`` a journal
        file, anything else a database).
    """
    return storage is not None and not storage.endswith(".log")


def _positive_int(variable: str, default: int) -> int:
    text = os.environ.get(variable, "")
    if not text.strip():
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise StorageError(f"{variable} must be a whole number of seconds (or trials) >= 1, got {text!r}")
    return value


def heartbeat_settings() -> tuple[int, int, int]:
    """
    :return: heartbeat interval, grace period (seconds) and maximum retries of a failed trial, from the environment.
    :raises StorageError: naming the variable that is not a whole number >= 1, or a grace period not longer than
        the interval.
    """
    interval = _positive_int(HEARTBEAT_VARIABLE, DEFAULT_HEARTBEAT_INTERVAL)
    grace = _positive_int(GRACE_PERIOD_VARIABLE, 2 * interval)
    if grace <= interval:
        raise StorageError(
            f"{GRACE_PERIOD_VARIABLE}={grace} must be longer than the heartbeat interval ({HEARTBEAT_VARIABLE}={interval})"
        )
    return interval, grace, _positive_int(MAX_RETRY_VARIABLE, DEFAULT_MAX_RETRY)


def open_storage(url: str) -> optuna.storages.RDBStorage:
    """
    Open the database of a study with heartbeats and retries of failed trials.

    :param url: SQLAlchemy database URL, e.g. ``postgresql://user:password@host:5432/optuna`` or ``sqlite:///optuna.db``.
    :return: the storage, its tables created if needed.
    :raises StorageError: one line naming ``--storage`` (password hidden): malformed URL, driver not installed,
        database not reachable; or a bad heartbeat setting.
    """
    import optuna
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    interval, grace, max_retry = heartbeat_settings()
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise StorageError(
            f"--storage {url!r} is not a database URL (expected e.g. postgresql://user:password@host:5432/optuna, "
            f"sqlite:///optuna.db, or a journal file ending in .log): {error}"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    engine_kwargs = {"connect_args": {"connect_timeout": CONNECT_TIMEOUT}} if parsed.get_backend_name() != "sqlite" else {}
    try:
        with warnings.catch_warnings():
            # Optuna marks the heartbeat API experimental
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # Optuna >= 4.9 names the retry of a stale trial apart from other failures; older ones only have the latter
            retry: dict[str, Any] = (
                {"heartbeat_stale_trial_callback": optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=max_retry)}
                if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback")
                else {"failed_trial_callback": optuna.storages.RetryFailedTrialCallback(max_retry=max_retry)}
            )
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine_kwargs, heartbeat_interval=interval, grace_period=grace, **retry
            )
    except (ImportError, ModuleNotFoundError) as error:
        hint = " (pip install 'sb3_td3x[postgres]')" if parsed.get_backend_name() == "postgresql" else ""
        cause = error.__cause__ or error  # Optuna's own message hides which module is missing
        raise StorageError(f"--storage {shown}: the database driver is not installed{hint}: {cause}") from None
    except Exception as error:
        reason = " ".join(str(error).split("\n")[0].split()) or type(error).__name__
        raise StorageError(f"--storage {shown}: cannot open the database: {reason}") from None


class OptunaWithStorage:
    """
    Stands in for the ``optuna`` module inside ``rl_zoo3.exp_manager`` during one ``hyperparameters_optimization``:
    ``create_study`` with the ``--storage`` URL gets the storage opened by :func:`sb3_td3x.zoo.storage.open_storage`;
    every other name is Optuna's own.
    """

    def __init__(self, optuna_module: ModuleType, url: str, storage: Any) -> None:
        self._optuna = optuna_module
        self._url = url
        self._storage = storage

    def create_study(self, *args: Any, **kwargs: Any) -> optuna.Study:
        if kwargs.get("storage") == self._url:
            kwargs["storage"] = self._storage
        return self._optuna.create_study(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optuna, name)
