"""
pytest plugin: run SB3's own tests with this package's algorithms in place of SB3's.

Loaded with ``-p swap_plugin`` (this folder on ``PYTHONPATH``), it is imported while pytest reads its configuration,
before any of SB3's test modules is collected, so their ``from stable_baselines3 import TD3, ...`` (and the module
lists they build from those names, such as ``MODEL_LIST``) get ``TD3X``, ``DQNX``, ``SACX`` and ``DDPGX``.

What is swapped, for each algorithm: the attribute of the top-level package (``stable_baselines3.TD3``), of its
sub-package (``stable_baselines3.td3.TD3``) and of its module (``stable_baselines3.td3.td3.TD3``). SB3 keeps no other
registry of its algorithm classes: ``stable_baselines3/__init__.py`` only imports them and lists their names in
``__all__``, which needs no change. SB3's own classes are not modified (SB3's ``DDPG`` still subclasses SB3's
``TD3``). ``TD3X``, ``DQNX`` and ``SACX`` subclass SB3's class of the same name, so ``isinstance`` with the original
class still holds; ``DDPGX`` subclasses ``TD3X`` (and so SB3's ``TD3``) but not SB3's ``DDPG``: the report header
says so. The tests themselves only see the swapped names, and SB3's library code has no ``isinstance(..., DDPG)``.

Used by ``run_sb3_tests.py``; not a test module (no ``test_`` prefix), so ``pytest tests`` does not collect it.
"""

from __future__ import annotations

import importlib

import stable_baselines3

from sb3_td3x import DDPGX, DQNX, SACX, TD3X

# SB3 name -> (our class, SB3 sub-package, SB3 module)
SWAPS = {
    "TD3": (TD3X, "stable_baselines3.td3", "stable_baselines3.td3.td3"),
    "DQN": (DQNX, "stable_baselines3.dqn", "stable_baselines3.dqn.dqn"),
    "SAC": (SACX, "stable_baselines3.sac", "stable_baselines3.sac.sac"),
    "DDPG": (DDPGX, "stable_baselines3.ddpg", "stable_baselines3.ddpg.ddpg"),
}

# name -> SB3's original class, kept for the checks below and for the report header
ORIGINALS: dict[str, type] = {}
NOT_SUBCLASSES: list[str] = []


def _swap() -> None:
    for name, (ours, package_name, module_name) in SWAPS.items():
        original = getattr(stable_baselines3, name)
        if original is ours:  # already swapped (the plugin imported twice)
            continue
        if not issubclass(ours, original):
            # DDPGX subclasses TD3X (SB3's DDPG is a TD3 subclass too, but not a base of TD3X): the tests only ever see
            # the swapped name, and SB3's library code has no isinstance check on DDPG, so this is reported, not refused
            mro = [c.__name__ for c in ours.__mro__]
            NOT_SUBCLASSES.append(f"{ours.__name__} is not a subclass of SB3's {name} (MRO: {mro})")
        ORIGINALS[name] = original
        for owner in (stable_baselines3, importlib.import_module(package_name), importlib.import_module(module_name)):
            if getattr(owner, name) is not original:
                raise RuntimeError(f"{owner.__name__}.{name} is not SB3's {name} class")
            setattr(owner, name, ours)


_swap()


def pytest_report_header(config) -> list[str]:
    return _swap_lines()


def pytest_terminal_summary(terminalreporter) -> None:
    """The same lines at the end, where ``-q`` (which hides the header) still shows them."""
    for line in _swap_lines():
        terminalreporter.write_line(line)


def _swap_lines() -> list[str]:
    lines = []
    for name, (ours, package_name, module_name) in SWAPS.items():
        owners = [stable_baselines3, importlib.import_module(package_name), importlib.import_module(module_name)]
        swapped = all(getattr(owner, name) is ours for owner in owners)
        lines.append(f"swap_plugin: {name} -> {ours.__module__}.{ours.__name__} ({'ok' if swapped else 'NOT SWAPPED'})")
    return lines + [f"swap_plugin: note: {line}" for line in NOT_SUBCLASSES]


def pytest_collection_finish(session) -> None:
    """Fail loudly if a test module got hold of SB3's original classes (imported before the swap)."""
    for item in session.items:
        module = getattr(item, "module", None)
        if module is None:
            continue
        for name, original in ORIGINALS.items():
            if getattr(module, name, None) is original:
                raise RuntimeError(f"{module.__name__}.{name} is SB3's original class: the swap came too late")
