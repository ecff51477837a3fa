"""Gaussian exploration noise whose standard deviation decays over the training run."""

import copy
import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise

NOISE_DECAY_SCHEDULES = ("linear", "exponential")


class _StepCounter:
    """Env steps taken so far; one object shared by all the copies of a noise (one copy per env)."""

    def __init__(self, value: int = 0) -> None:
        self.value = value


class DecayingNormalActionNoise(ActionNoise):
    """
    Gaussian action noise ``N(mean, sigma(t))`` whose standard deviation goes from ``sigma`` to ``final_sigma``
    over ``decay_steps`` env steps ``t``, then stays at ``final_sigma``:

    - ``"linear"``: ``sigma(t) = sigma + (final_sigma - sigma) * min(t / decay_steps, 1)``
    - ``"exponential"``: ``sigma(t) = sigma * (final_sigma / sigma) ** min(t / decay_steps, 1)``
      (geometric interpolation, both ends > 0)

    ``t`` counts the calls (one per env step) and is not touched by :meth:`reset` (SB3 resets the noise at every
    episode end). With several envs, SB3 wraps the noise in a ``VectorizedActionNoise`` that deep-copies it once per
    env: the copies share one step counter, so ``t`` counts the env steps of all envs together (as
    ``num_timesteps`` does). Pickling keeps that sharing when the copies are pickled together (as ``model.save``
    does), and :meth:`set_step` puts the schedule at a given step, e.g. ``model.num_timesteps``.

    :param mean: Mean value of the noise
    :param sigma: Initial scale of the noise (std), >= 0; a scalar or an array broadcastable to ``mean``'s shape
    :param final_sigma: Final scale of the noise (std), >= 0; a scalar or an array broadcastable to ``mean``'s shape
    :param decay_steps: Number of env steps over which the scale decays, >= 1. ``None``: the whole training run, set
        by the package's algorithms (TD3X, DDPGX, TD7) when ``learn()`` starts; give it for SB3's own algorithms
    :param schedule: ``"linear"`` or ``"exponential"`` (the latter needs ``sigma > 0`` and ``final_sigma > 0``)
    :param dtype: Type of the output noise
    """

    def __init__(
        self,
        mean: ArrayLike,
        sigma: ArrayLike,
        final_sigma: ArrayLike,
        decay_steps: int | None = None,
        schedule: str = "linear",
        dtype: DTypeLike = np.float32,
    ) -> None:
        super().__init__()
        self._mu = np.asarray(mean, dtype=np.float64)
        self._sigma = self._check_sigma("sigma", sigma, self._mu.shape)
        self._final_sigma = self._check_sigma("final_sigma", final_sigma, self._mu.shape)
        if not np.all(np.isfinite(self._mu)):
            raise ValueError(f"mean must be finite, got {mean!r}")
        if decay_steps is not None and (
            not isinstance(decay_steps, numbers.Integral) or isinstance(decay_steps, bool) or decay_steps < 1
        ):
            raise ValueError(f"decay_steps must be an integer >= 1 or None (the whole run), got {decay_steps!r}")
        if schedule not in NOISE_DECAY_SCHEDULES:
            raise ValueError(f"schedule must be one of {NOISE_DECAY_SCHEDULES}, got {schedule!r}")
        if schedule == "exponential":
            for name, value in (("sigma", self._sigma), ("final_sigma", self._final_sigma)):
                if not np.all(value > 0):
                    raise ValueError(f"{name} must be > 0 with schedule='exponential', got {value}")
        self.decay_steps: int | None = None if decay_steps is None else int(decay_steps)
        self.schedule: str = schedule
        self._dtype: DTypeLike = dtype
        self._counter: _StepCounter = _StepCounter()

    @classmethod
    def from_normal(
        cls, noise: NormalActionNoise, final_sigma: ArrayLike, decay_steps: int | None = None, schedule: str = "linear"
    ) -> "DecayingNormalActionNoise":
        """
        :param noise: A Gaussian action noise: its mean, and its sigma where the decay starts.
        :param final_sigma: Final scale of the noise (std), >= 0
        :param decay_steps: Number of env steps over which the scale decays (``None``: the whole run)
        :param schedule: ``"linear"`` or ``"exponential"``
        :return: the decaying noise that starts as ``noise``.
        """
        return cls(
            mean=noise._mu,
            sigma=noise._sigma,
            final_sigma=np.full_like(noise._sigma, final_sigma),
            decay_steps=decay_steps,
            schedule=schedule,
        )

    @staticmethod
    def _check_sigma(name: str, value: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
        array = np.asarray(value, dtype=np.float64)
        try:
            broadcast_ok = np.broadcast_shapes(array.shape, shape) == shape
        except ValueError:
            broadcast_ok = False
        if not broadcast_ok:
            raise ValueError(f"{name} must be a scalar or broadcastable to the shape of mean {shape}, got shape {array.shape}")
        if not np.all(np.isfinite(array) & (array >= 0)):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
        return np.broadcast_to(array, shape).copy()

    @property
    def step(self) -> int:
        """Env steps taken so far (by all the copies of this noise together)."""
        return self._counter.value

    def set_step(self, step: int) -> None:
        """
        Put the schedule at env step ``step`` (for all the copies sharing the step counter).

        :param step: Number of env steps taken so far, >= 0
        """
        if not isinstance(step, numbers.Integral) or isinstance(step, bool) or step < 0:
            raise ValueError(f"step must be an integer >= 0, got {step!r}")
        self._counter.value = int(step)

    @property
    def progress(self) -> float:
        """Fraction of the decay done, in [0, 1]."""
        if self.decay_steps is None:
            raise ValueError(
                "decay_steps=None (the whole run) is set when a TD3X, DDPGX or TD7 starts learning; with another "
                "algorithm, give decay_steps"
            )
        return min(self.step / self.decay_steps, 1.0)

    @property
    def current_sigma(self) -> np.ndarray:
        """Standard deviation of the noise at the current step."""
        fraction = self.progress
        if self.schedule == "linear":
            return self._sigma + (self._final_sigma - self._sigma) * fraction
        return self._sigma * (self._final_sigma / self._sigma) ** fraction

    def __call__(self) -> np.ndarray:
        noise = np.random.normal(self._mu, self.current_sigma).astype(self._dtype)
        self._counter.value += 1
        return noise

    def reset(self) -> None:
        """
        End of episode: nothing to do. The schedule runs over the whole training run, not per episode,
        and the noise has no state between steps.
        """

    def __deepcopy__(self, memo: dict[int, Any]) -> "DecayingNormalActionNoise":
        # Everything is copied but the step counter, which the copies share: VectorizedActionNoise deep-copies the
        # noise once per env, and the schedule must follow the env steps of all of them.
        new = self.__class__.__new__(self.__class__)
        memo[id(self)] = new
        for key, value in self.__dict__.items():
            setattr(new, key, value if key == "_counter" else copy.deepcopy(value, memo))
        return new

    def __repr__(self) -> str:
        return (
            f"DecayingNormalActionNoise(mu={self._mu}, sigma={self._sigma}, final_sigma={self._final_sigma}, "
            f"decay_steps={self.decay_steps}, schedule={self.schedule!r}, step={self.step})"
        )
