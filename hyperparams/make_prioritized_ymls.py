"""
Writes ``dqnx.yml``, ``sacx.yml`` and ``ddpgx.yml`` next to this file: RL Zoo's own entries of ``dqn.yml``,
``sac.yml`` and ``ddpg.yml`` for the classic-control, Box2D and MuJoCo environments, with the prioritized replay
on top. Run it again after an RL Zoo upgrade: ``python -m sb3_td3x.hyperparams.make_prioritized_ymls``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

# Entries RL Zoo's files have that need other simulators or hardware (Atari, PyBullet, robotics, donkey car, ...)
SKIPPED = ("atari", "Bullet", "Fetch", "donkey", "Neck", "CarRacing")
# What each algorithm gets on top of RL Zoo's hyperparameters
EXTRAS: dict[str, tuple[str, dict[str, object], str]] = {
    "dqnx": ("dqn", {"prioritized_replay": "per"}, "proportional PER (alpha 0.6, beta 0.4 annealed to 1)"),
    "sacx": ("sac", {"prioritized_replay": "lap"}, "LAP (alpha 0.4, Huber threshold and priority floor 1)"),
    "ddpgx": ("ddpg", {"prioritized_replay": "lap"}, "LAP (alpha 0.4, Huber threshold and priority floor 1)"),
}


def entries(parent: str) -> dict[str, dict[str, object]]:
    """:return: RL Zoo's entries for ``parent`` (anchors resolved), without the skipped environments."""
    import rl_zoo3

    path = Path(rl_zoo3.__file__).parent / "hyperparams" / f"{parent}.yml"
    loaded = yaml.safe_load(path.read_text())
    return {env_id: dict(params) for env_id, params in loaded.items() if not any(word in env_id for word in SKIPPED)}


def write(algo: str, folder: Path) -> Path:
    parent, extras, described = EXTRAS[algo]
    table = {env_id: {**params, **extras} for env_id, params in entries(parent).items()}
    header = (
        f"# {algo.upper()} hyperparameters for RL Baselines3 Zoo: python -m rl_zoo3.train --algo {algo} --env ENV\n"
        f"#\n# RL Zoo's own {parent}.yml entries (classic control, Box2D, MuJoCo), with {described} on top.\n"
        "# Every key is an argument of the algorithm or one of RL Zoo's keys. prioritized_replay ('none' | 'per' | 'lap')\n"
        "# chooses the buffer (PrioritizedReplayBuffer or LAPReplayBuffer), whose settings go in replay_buffer_kwargs,\n"
        '# e.g. "dict(alpha=0.5, max_priority_reset=250)"; n_steps composes with them. Override on the command line,\n'
        "# e.g. --hyperparams prioritized_replay:\"'none'\" n_steps:3\n"
        "# Written by python -m sb3_td3x.hyperparams.make_prioritized_ymls (do not edit by hand).\n\n"
    )
    path = folder / f"{algo}.yml"
    path.write_text(header + yaml.safe_dump(table, sort_keys=False, default_flow_style=False))
    return path


def main() -> int:
    folder = Path(__file__).parent
    for algo in EXTRAS:
        print(f"wrote {write(algo, folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
