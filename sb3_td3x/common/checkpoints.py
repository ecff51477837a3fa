"""
Policy checkpoints, as in TD7: For SALE: State-Action Representation Learning for Deep Reinforcement Learning,
Fujimoto et al. 2023, https://arxiv.org/abs/2306.02451 (section 5, "Policy checkpoints"), reference implementation
https://github.com/sfujim/TD7 (``maybe_train_and_checkpoint``).

An off-policy agent's latest policy is whatever the last gradient step left, and its return can swing by
thousands from one evaluation to the next. With checkpoints, training waits at the end of each episode while the
current policy is assessed on the episodes it plays (exploration included); the assessment's score is the
*minimum* return over its episodes. An assessment that falls below the best score so far ends at once; one that
completes at or above it makes the current policy the checkpoint. Either way, the agent then makes all the gradient
steps the assessment's episodes earned. Deterministic prediction (evaluation, ``enjoy``, ``record_video``) uses the
checkpoint.

A minimum of returns prefers a policy that stays alive to one that moves and sometimes falls early, on tasks that
pay a reward for every step alive: on Hopper (1 per step), a policy that stands still for 1000 steps scores about
1000, more than most early hopping policies' worst episode. ``healthy_reward`` leaves that reward out of the score:
each episode then scores ``return - healthy_reward * length``, its progress rather than its survival.

:class:`PolicyCheckpoints` holds the bookkeeping (plain Python, pickled with the model, so that ``save`` / ``load``
and a resumed run continue the assessment where it was); :class:`CheckpointPolicyMixin` gives a TD3 policy a frozen
copy of its actor to act with.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import torch as th
from torch import nn

# TD7's defaults: 1 episode per assessment, 20 once 750k gradient steps are done (then the best score is lowered
# by 10% once, since the longer assessment's minimum is harder to reach)
# healthy_reward 0: the score is the return, as TD7's
DEFAULT_CHECKPOINT_KWARGS: dict[str, Any] = dict(
    episodes=1, late_episodes=20, late_start=750_000, reset_weight=0.9, healthy_reward=0.0
)


def check_checkpoint_kwargs(checkpoint_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """
    :param checkpoint_kwargs: The user's ``checkpoint_kwargs`` (keys of :data:`DEFAULT_CHECKPOINT_KWARGS`).
    :return: the complete keyword arguments of :class:`PolicyCheckpoints`.
    :raises ValueError: naming the key and its allowed range.
    """
    kwargs = dict(DEFAULT_CHECKPOINT_KWARGS)
    unknown = set(checkpoint_kwargs or {}) - set(kwargs)
    if unknown:
        raise ValueError(f"checkpoint_kwargs: unknown keys {sorted(unknown)}, known: {sorted(kwargs)}")
    kwargs.update(checkpoint_kwargs or {})
    for name in ("episodes", "late_episodes"):
        value = kwargs[name]
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"checkpoint_kwargs[{name!r}] must be an integer >= 1, got {value!r}")
    late_start = kwargs["late_start"]
    if late_start is not None and (
        not isinstance(late_start, numbers.Integral) or isinstance(late_start, bool) or late_start < 0
    ):
        raise ValueError(f"checkpoint_kwargs['late_start'] must be an integer >= 0 or None (never), got {late_start!r}")
    reset_weight = kwargs["reset_weight"]
    if isinstance(reset_weight, bool) or not isinstance(reset_weight, numbers.Real) or not 0.0 < float(reset_weight) <= 1.0:
        raise ValueError(f"checkpoint_kwargs['reset_weight'] must be in (0, 1], got {reset_weight!r}")
    healthy_reward = kwargs["healthy_reward"]
    valid = isinstance(healthy_reward, numbers.Real) and not isinstance(healthy_reward, bool)
    if not valid or not 0.0 <= float(healthy_reward) < math.inf:
        raise ValueError(f"checkpoint_kwargs['healthy_reward'] must be a finite number >= 0, got {healthy_reward!r}")
    return kwargs


class PolicyCheckpoints:
    """
    When the current policy becomes the checkpoint, and when training runs (TD7's ``maybe_train_and_checkpoint``).

    Call :meth:`end_of_episode` once per finished episode, with the gradient steps that episode earns; it says whether
    the current policy becomes the checkpoint now (before it is trained further) and how many gradient steps to make
    now (0 while the assessment goes on).

    :param episodes: Episodes per assessment until ``late_start`` gradient steps are done (TD7: 1).
    :param late_episodes: Episodes per assessment from then on (TD7: 20).
    :param late_start: Gradient steps after which assessments last ``late_episodes`` (TD7: 750,000);
        None: never.
    :param reset_weight: The best score is multiplied by this once, when the assessments get longer (TD7: 0.9).
    :param healthy_reward: Reward per step alive that the score leaves out: an episode scores its return minus
        ``healthy_reward`` times its length (Gymnasium's Hopper, Walker2d and Ant pay 1 per step alive, Humanoid 5).
        0 (TD7): the score is the return.
    """

    def __init__(
        self,
        episodes: int = 1,
        late_episodes: int = 20,
        late_start: int | None = 750_000,
        reset_weight: float = 0.9,
        healthy_reward: float = 0.0,
    ):
        check_checkpoint_kwargs(
            dict(
                episodes=episodes,
                late_episodes=late_episodes,
                late_start=late_start,
                reset_weight=reset_weight,
                healthy_reward=healthy_reward,
            )
        )
        self.healthy_reward = float(healthy_reward)
        self.late_episodes = late_episodes
        self.late_start = late_start
        self.reset_weight = reset_weight
        # Episodes of the current assessment; the best score (minimum return of the assessment that made the checkpoint)
        self.max_episodes = episodes
        self.best_score = -math.inf
        self.n_checkpoints = 0
        self.late = False
        self._new_assessment()

    def _new_assessment(self) -> None:
        self.episodes = 0
        self.pending_steps = 0
        self.score = math.inf

    def end_of_episode(
        self, episode_return: float, gradient_steps: int, n_updates: int, episode_length: int = 0
    ) -> tuple[bool, int]:
        """
        :param episode_return: Return of the episode that just ended, played by the current policy.
        :param gradient_steps: Gradient steps this episode earns (its length, for TD7).
        :param n_updates: Gradient steps made so far.
        :param episode_length: Env steps of the episode (used with ``healthy_reward``).
        :return: whether the current policy becomes the checkpoint now, and how many gradient steps to make now.
        """
        self.episodes += 1
        self.pending_steps += gradient_steps
        self.score = min(self.score, float(episode_return) - self.healthy_reward * episode_length)
        if self.score < self.best_score:
            # Below the checkpoint already: no need to play the rest of the assessment
            take = False
        elif self.episodes >= self.max_episodes:
            take = True
            self.best_score = self.score
            self.n_checkpoints += 1
        else:
            return False, 0
        steps = self.pending_steps
        self._new_assessment()
        if not self.late and self.late_start is not None and n_updates + steps > self.late_start:
            self.late = True
            self.max_episodes = self.late_episodes
            self.best_score *= self.reset_weight
        return take, steps


class CheckpointPolicyMixin:
    """
    Gives a TD3 policy (``actor``, ``make_actor``) a frozen copy of its actor, ``checkpoint_actor``, made by
    :meth:`add_checkpoint` and refreshed by :meth:`take_checkpoint`. Both live in the policy's ``state_dict``
    (with the flag saying whether a checkpoint was taken), so ``save`` / ``load`` keep them. Until the first
    checkpoint, the policy acts with its current actor.
    """

    checkpoint_actor: nn.Module
    checkpoint_taken: th.Tensor

    def add_checkpoint(self) -> None:
        """Build ``checkpoint_actor`` (a copy of the actor, without gradients) and the ``checkpoint_taken`` flag."""
        checkpoint = self.make_actor(features_extractor=None)  # type: ignore[attr-defined]
        checkpoint.load_state_dict(self.actor.state_dict())  # type: ignore[attr-defined]
        checkpoint.set_training_mode(False)
        checkpoint.requires_grad_(False)
        self.checkpoint_actor = checkpoint
        self.register_buffer("checkpoint_taken", th.zeros((), dtype=th.bool, device=self.device))  # type: ignore[attr-defined]

    @property
    def has_checkpoint(self) -> bool:
        """Whether the policy holds a checkpoint it acts with when deterministic."""
        return hasattr(self, "checkpoint_taken") and bool(self.checkpoint_taken)

    def take_checkpoint(self) -> None:
        """The current actor becomes the checkpoint."""
        self.checkpoint_actor.load_state_dict(self.actor.state_dict())  # type: ignore[attr-defined]
        self.checkpoint_taken.fill_(True)
