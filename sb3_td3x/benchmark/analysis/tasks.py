"""
What finishing an episode means on the benchmark's tasks that have a rule for it, so that a report can say how many
episodes got through, not only their return.

On Gymnasium's Hopper the reward is 1 per step alive, plus the forward velocity, minus a small control cost: a policy
that stands still for the whole 1000-step episode scores about 1000 and "survives" every episode without going
anywhere. An episode is *hopped through* when it lasts the time limit and travels at least 4 m forward; the distance
comes from the return, ``(return - 1 x length) x 0.008 s`` (the forward reward is ``dx / dt`` with ``dt = 0.008``; the
control cost makes it an underestimate by at most 0.001 x 3 x 1000 x 0.008 = 0.024 m; checked against
``info["x_position"]``: 17.73 m against 17.72 m on a 1000-step episode).
4 m is half the shortest distance of the full-length hopping episodes seen in this project's runs (all at or above
8 m; standing ones under 1 m).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Completion:
    """
    The completion rule of a locomotion task.

    :param name: What a completed episode is called (``"hopped through"``).
    :param alive_reward: Reward per step alive.
    :param dt: Seconds per env step (the forward reward is the velocity).
    :param distance: Metres an episode must travel forward, besides lasting the time limit.
    """

    name: str
    alive_reward: float
    dt: float
    distance: float


COMPLETION: dict[str, Completion] = {
    "Hopper-v4": Completion("hopped through", 1.0, 0.008, 4.0),
    "Hopper-v5": Completion("hopped through", 1.0, 0.008, 4.0),
}


def travelled_distance(returns: np.ndarray, lengths: np.ndarray, alive_reward: float, dt: float) -> np.ndarray:
    """
    :param returns: Episode returns.
    :param lengths: Their lengths (steps).
    :param alive_reward: Reward per step alive.
    :param dt: Seconds per env step.
    :return: metres each episode travelled forward, from its return (the forward reward is the velocity ``dx / dt``).
    """
    return (np.asarray(returns, dtype=np.float64) - alive_reward * np.asarray(lengths, dtype=np.float64)) * dt


def completed(returns: np.ndarray, lengths: np.ndarray, max_episode_steps: int, env_id: str) -> np.ndarray:
    """
    :return: for each episode, whether it lasted ``max_episode_steps`` and travelled the env's :data:`COMPLETION`
        distance.
    :raises KeyError: for an environment without a completion rule.
    """
    rule = COMPLETION[env_id]
    lengths = np.asarray(lengths)
    return (lengths >= max_episode_steps) & (travelled_distance(returns, lengths, rule.alive_reward, rule.dt) >= rule.distance)
