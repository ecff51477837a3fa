"""
Prioritized replay for SB3's off-policy algorithms: the one mechanism behind TD3X, DQNX, SACX, DDPGX and TD7.

PER: Prioritized Experience Replay, Schaul et al. 2016, https://arxiv.org/abs/1511.05952
LAP: An Equivalence between Loss Functions and Non-Uniform Sampling in Experience Replay, Fujimoto et al. 2020,
https://arxiv.org/abs/2007.06049, reference implementation https://github.com/sfujim/LAP-PAL

The replay is chosen the SB3 way, ``replay_buffer_class`` and ``replay_buffer_kwargs``, with one short form,
``prioritized_replay="per"`` or ``"lap"`` for :class:`~sb3_td3x.common.buffers.PrioritizedReplayBuffer` or
:class:`~sb3_td3x.common.buffers.LAPReplayBuffer`; every setting of a kind of replay is a keyword of its buffer,
documented there once. The buffers own what differs between the kinds (:mod:`sb3_td3x.common.buffers`: the loss of a
batch, the priorities written back, what is logged). :class:`PrioritizedReplayMixin` goes before the SB3 algorithm in
the bases (``class DQNX(PrioritizedReplayMixin, DQN)``) and owns what is the same for every algorithm: the checks,
the choice of the buffer, and the replay each ``train()`` talks to (:attr:`~PrioritizedReplayMixin._replay`, called
twice per gradient step: ``batch_loss`` and ``after_update``).
"""

from __future__ import annotations

import functools
import io
import pathlib
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer

from sb3_td3x.common.buffers import (
    PRIORITIZED_BUFFERS,
    adopt_earlier_buffer,
    check_buffer_keywords,
    package_buffer,
    replay_buffer_defaults,
    replay_kind,
    resolve_kind,
)
from sb3_td3x.common.indexed_buffer import ReplayHooks, replay_hooks
from sb3_td3x.common.replay_args import (
    PRIORITIZED_REPLAY_KINDS,
    check_is_weight_normalization,
    check_n_steps,
    check_priority_args,
    check_threshold_scale,
)

# Arguments of earlier versions of the algorithms, now keywords of the buffers (name -> the buffer's keyword)
RENAMED_REPLAY_ARGS = {
    "alpha": "alpha",
    "beta0": "beta0",
    "priority_eps": "priority_eps",
    "min_priority": "min_priority",
    "lap_threshold": "threshold_scale",
    "max_priority_reset": "max_priority_reset",
    "is_weight_normalization": "is_weight_normalization",
}
# Arguments of earlier versions of TD3X, now the action noise's own (DecayingNormalActionNoise)
RENAMED_NOISE_ARGS = {"noise_schedule": "schedule", "noise_final_std": "final_sigma", "noise_decay_steps": "decay_steps"}

InitT = TypeVar("InitT", bound=Callable[..., None])


def renamed_argument_message(algorithm: str, name: str, value: Any) -> str | None:
    """
    :param algorithm: The algorithm's name.
    :param name: An argument name given to its constructor.
    :param value: Its value.
    :return: one line saying how the argument is spelled now, or None when it is not one of the renamed arguments.
    """
    if name in RENAMED_REPLAY_ARGS:
        return (
            f"{algorithm}: {name} is a setting of the replay buffer now: "
            f"replay_buffer_kwargs=dict({RENAMED_REPLAY_ARGS[name]}={value!r})"
        )
    if name in RENAMED_NOISE_ARGS:
        return (
            f"{algorithm}: {name} is a setting of the action noise now: action_noise=DecayingNormalActionNoise(mean, "
            f"sigma, {RENAMED_NOISE_ARGS[name]}={value!r}) (RL Zoo keeps {name} in its hyperparameters)"
        )
    return None


def reject_renamed_arguments(init: InitT) -> InitT:
    """
    Decorate an algorithm's ``__init__``: an argument of an earlier version (``alpha=0.6``, ``lap_threshold=...``,
    ``noise_schedule=...``) raises a ``TypeError`` whose one line says the new spelling, instead of Python's
    "unexpected keyword argument".

    :param init: The constructor.
    :return: the constructor, checking its keyword arguments first.
    """

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        for name, value in kwargs.items():
            message = renamed_argument_message(type(self).__name__, name, value)
            if message is not None:
                raise TypeError(message)
        init(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class UnsupportedSpaceError(ValueError, AssertionError):
    """
    An environment space the algorithm cannot learn on, refused before anything is built, with a message that names
    it. A ``ValueError`` like every other bad argument of the package, and an ``AssertionError`` as SB3's own check of
    the same thing raises (SB3's ``assert isinstance(self.action_space, supported_action_spaces)``), so code that
    catches either keeps working.
    """


def check_action_space(algorithm: str, env: Any) -> None:
    """
    :param algorithm: The algorithm's name (for the message).
    :param env: The environment.
    :raises UnsupportedSpaceError: when its action space is not a continuous ``Box``.
    """
    if not isinstance(env.action_space, spaces.Box):
        raise UnsupportedSpaceError(
            f"env: {algorithm} needs a continuous gymnasium.spaces.Box action space, got {env.action_space}"
        )


def check_prioritized_replay_args(
    prioritized_replay: str,
    replay_buffer_class: type[ReplayBuffer] | None,
    replay_buffer_kwargs: dict[str, Any] | None,
) -> None:
    """
    Check the replay arguments of an algorithm before anything is built.

    :param prioritized_replay: ``"none"``, ``"per"`` or ``"lap"``, the short form of ``replay_buffer_class``.
    :param replay_buffer_class: The user's ``replay_buffer_class``, or None.
    :param replay_buffer_kwargs: The user's ``replay_buffer_kwargs``, or None.
    :raises ValueError: naming the first argument out of its range, or two arguments that conflict.
    """
    if prioritized_replay not in PRIORITIZED_REPLAY_KINDS:
        raise ValueError(f"prioritized_replay must be one of {PRIORITIZED_REPLAY_KINDS}, got {prioritized_replay!r}")
    class_kind = replay_kind(replay_buffer_class)
    if prioritized_replay != "none" and replay_buffer_class is not None and class_kind != prioritized_replay:
        raise ValueError(
            f"prioritized_replay={prioritized_replay!r} conflicts with replay_buffer_class="
            f"{replay_buffer_class.__name__}: pass one or the other"
        )
    if replay_buffer_kwargs is not None and not isinstance(replay_buffer_kwargs, dict):
        raise ValueError(f"replay_buffer_kwargs must be a dict or None, got {replay_buffer_kwargs!r}")
    kwargs = replay_buffer_kwargs or {}
    buffer_class = replay_buffer_class or PRIORITIZED_BUFFERS.get(prioritized_replay)
    if buffer_class is None:
        # SB3 picks its own buffer, which takes none of the prioritized-replay settings
        given = [name for name in kwargs if name in set(RENAMED_REPLAY_ARGS.values())]
        if given:
            raise ValueError(
                f"replay_buffer_kwargs[{given[0]!r}] is a prioritized-replay setting: it needs prioritized_replay="
                f"'per' or 'lap' (or a prioritized replay_buffer_class), got prioritized_replay='none'"
            )
        return
    check_buffer_keywords(buffer_class, kwargs)
    check_priority_args(
        alpha=kwargs.get("alpha"),
        beta0=kwargs.get("beta0"),
        priority_eps=kwargs.get("priority_eps"),
        min_priority=kwargs.get("min_priority"),
        max_priority_reset=kwargs.get("max_priority_reset"),
    )
    if "threshold_scale" in kwargs:
        check_threshold_scale(kwargs["threshold_scale"])
    if "is_weight_normalization" in kwargs:
        check_is_weight_normalization(kwargs["is_weight_normalization"])


def check_replay_support(
    env: Any,
    prioritized_replay: str,
    replay_buffer_class: type[ReplayBuffer] | None,
    n_steps: int,
    optimize_memory_usage: bool,
) -> None:
    """
    What SB3's n-step buffer refuses, and the package's buffers built on it: one clear error before anything is
    built, instead of an assertion or a buffer error halfway through the setup. A buffer class of the user's that is
    not the package's takes no ``n_steps`` (SB3 warns that it is ignored), so nothing is refused for it here.

    :param env: The (built) environment.
    :raises UnsupportedSpaceError: for Dict observations with prioritized replay or ``n_steps > 1`` (a ``ValueError``
        and SB3's ``AssertionError``).
    :raises ValueError: for ``optimize_memory_usage`` with prioritized replay or ``n_steps > 1``.
    """
    prioritized = resolve_kind(prioritized_replay, replay_buffer_class) != "none"
    if not prioritized and (n_steps == 1 or (replay_buffer_class is not None and not package_buffer(replay_buffer_class))):
        return
    what = "prioritized replay" if prioritized else f"n_steps={n_steps}"
    if isinstance(env.observation_space, spaces.Dict):
        raise UnsupportedSpaceError(
            f"observation_space: {what} does not support Dict observation spaces (SB3's n-step buffer does not either)"
        )
    if optimize_memory_usage:
        raise ValueError(f"optimize_memory_usage=True is not supported with {what} (SB3's n-step buffer refuses it too)")


class PrioritizedReplayMixin:
    """
    Prioritized replay (PER or LAP) for an SB3 off-policy algorithm; see the module docstring. The algorithm's
    constructor calls :meth:`_init_prioritized_replay` first (it checks the arguments before anything is built), then
    its SB3 parent with ``_init_setup_model=False``, then ``_setup_model()``.

    The replay arguments of every algorithm of the package (TD3X, DQNX, SACX, DDPGX, TD7), besides SB3's ``n_steps``
    (SB3's n-step returns, also applied to a prioritized buffer):

    :param prioritized_replay: ``"none"`` (uniform replay), ``"per"`` (proportional prioritized replay with
        importance-sampling weights, :class:`~sb3_td3x.common.buffers.PrioritizedReplayBuffer`) or ``"lap"``
        (loss-adjusted prioritized replay with a Huber loss, :class:`~sb3_td3x.common.buffers.LAPReplayBuffer`): the
        short form of ``replay_buffer_class``
    :param replay_buffer_class: SB3's way to choose the buffer: ``PrioritizedReplayBuffer`` or ``LAPReplayBuffer``
        (or a subclass) switch prioritized replay on exactly as ``prioritized_replay`` does; ``None``: chosen from
        ``prioritized_replay`` and ``n_steps``
    :param replay_buffer_kwargs: Keyword arguments of the buffer: the settings of a kind of prioritized replay are
        its buffer's (``alpha``, ``beta0``, ``priority_eps``, ``is_weight_normalization`` and ``max_priority_reset``
        for PER; ``alpha``, ``min_priority``, ``threshold_scale`` and ``max_priority_reset`` for LAP), documented
        once, in those classes. ``n_steps`` and ``gamma`` come from the algorithm
    """

    # Set by the SB3 algorithm this mixin goes with
    replay_buffer: ReplayBuffer | None
    replay_buffer_class: type[ReplayBuffer] | None
    replay_buffer_kwargs: dict[str, Any]
    n_steps: int
    gamma: float
    _n_updates: int
    _current_progress_remaining: float
    logger: Any
    _vec_normalize_env: Any

    def _init_prioritized_replay(
        self,
        prioritized_replay: str,
        replay_buffer_class: type[ReplayBuffer] | None,
        replay_buffer_kwargs: dict[str, Any] | None,
        n_steps: int,
    ) -> None:
        """
        Check the replay arguments and keep the kind of replay on the algorithm (``save`` keeps it). Called first in
        the constructor, before anything is built. (The user's ``replay_buffer_kwargs`` go to the SB3 parent as they
        are: :meth:`_setup_model` fills a copy of them.)
        """
        check_n_steps(n_steps)
        check_prioritized_replay_args(prioritized_replay, replay_buffer_class, replay_buffer_kwargs)
        # One source of truth: a prioritized replay_buffer_class names its kind, prioritized_replay is its short form
        self.prioritized_replay = resolve_kind(prioritized_replay, replay_buffer_class)

    def _setup_model(self) -> None:
        """
        Choose the buffer (``prioritized_replay`` or ``replay_buffer_class``), give every n-step buffer the algorithm's
        ``n_steps`` / ``gamma`` (SB3 wires ``n_steps`` only into its own buffer choice), then SB3's setup.
        """
        # The constructor, and load(), put the caller's own replay_buffer_kwargs dict on the model: the defaults below,
        # and SB3's own for its n-step buffer, go into a copy, never into that dict
        self.replay_buffer_kwargs = dict(self.replay_buffer_kwargs or {})
        self._upgrade_saved_settings()
        if self.replay_buffer_class is None and self.prioritized_replay in PRIORITIZED_BUFFERS:
            self.replay_buffer_class = PRIORITIZED_BUFFERS[self.prioritized_replay]
        defaults = replay_buffer_defaults(self.replay_buffer_class, self.n_steps, self.gamma)
        for name, value in defaults.items():
            self.replay_buffer_kwargs.setdefault(name, value)
        with warnings.catch_warnings():
            if defaults:
                # SB3 warns that a custom buffer ignores n_steps: the package's buffers have just been given it
                warnings.filterwarnings("ignore", message=r"`n_steps=\d+` is ignored because a custom")
            super()._setup_model()  # type: ignore[misc]
        # A new buffer of a loaded model counts on from the model's updates (max_priority_reset stays in phase)
        self._replay.n_updates = self._n_updates

    def _upgrade_saved_settings(self) -> None:
        """
        A model saved by an earlier version kept the replay settings as its own attributes (``alpha``,
        ``lap_threshold``, ``max_priority_reset``, ...): those given were also in its ``replay_buffer_kwargs``, except
        ``max_priority_reset``, which goes there now; the attributes go.
        """
        saved = {name: self.__dict__.pop(name) for name in RENAMED_REPLAY_ARGS if name in self.__dict__}
        reset = saved.get("max_priority_reset")
        if reset is not None and replay_kind(self.replay_buffer_class) != "none":
            self.replay_buffer_kwargs.setdefault("max_priority_reset", reset)

    @property
    def _replay(self) -> ReplayHooks:
        """The replay ``train()`` talks to: the buffer itself for the package's buffers, uniform replay's hooks
        (one instance per algorithm) for SB3's own."""
        uniform = self.__dict__.get("_uniform_replay")
        if uniform is None:
            uniform = self._uniform_replay = ReplayHooks()
        return replay_hooks(self.replay_buffer, uniform)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_uniform_replay"]  # type: ignore[misc]

    def load_replay_buffer(self, path: str | pathlib.Path | io.BufferedIOBase, truncate_last_traj: bool = True) -> None:
        """
        SB3's ``load_replay_buffer``. A buffer pickled by an earlier version (which left the update count and
        ``max_priority_reset`` to the algorithm) gets them from the model.

        :param path: Path to the pickled replay buffer.
        :param truncate_last_traj: As SB3's (``HerReplayBuffer`` only).
        """
        super().load_replay_buffer(path, truncate_last_traj)  # type: ignore[misc]
        adopt_earlier_buffer(self.replay_buffer, self._n_updates, self.replay_buffer_kwargs.get("max_priority_reset"))

    def _on_step(self) -> None:
        """After each env step: PER's ``beta`` goes from ``beta0`` to 1 over the training run, and the replay logs what
        it did in the updates since the last step."""
        super()._on_step()  # type: ignore[misc]
        replay = self._replay
        replay.set_progress(1.0 - self._current_progress_remaining)
        replay.record(self.logger)
