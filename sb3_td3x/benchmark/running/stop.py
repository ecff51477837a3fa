"""
The runner's stop protocol: a run asked to stop (``SIGUSR1`` to its training process, which the runner sends when its
``--time-left`` runs out or when it gets ``SIGUSR1`` itself) writes a checkpoint at the end of the iteration in progress
and exits with :data:`STOPPED_EXIT_CODE`; the runner counts it as stopped, not failed, and a later invocation resumes it
from that checkpoint (``-i``): nothing trained is lost when a machine's time runs out.
"""

from __future__ import annotations

from typing import ClassVar

from sb3_td3x.zoo.checkpoints import ResumableCheckpointCallback

# Exit status of a run stopped on request after writing its checkpoint (EX_TEMPFAIL: try again later, it resumes)
STOPPED_EXIT_CODE = 75


class StoppedAtCheckpoint(SystemExit):
    """Ends a run that was asked to stop, once its checkpoint is written (exit status :data:`STOPPED_EXIT_CODE`)."""

    def __init__(self, num_timesteps: int, saved: bool) -> None:
        super().__init__(STOPPED_EXIT_CODE)
        self.num_timesteps = num_timesteps
        self.saved = saved


class StoppableCheckpointCallback(ResumableCheckpointCallback):
    """
    :class:`~sb3_td3x.zoo.checkpoints.ResumableCheckpointCallback` (same arguments, same checkpoints) that also ends its
    run when asked to: after :meth:`request_stop` (a signal handler may call it), the run writes a checkpoint at the end
    of the iteration in progress, as at ``save_freq``, and raises :class:`StoppedAtCheckpoint`. A run that has trained
    nothing since it (re)started writes none: its last checkpoint is where it stands.
    """

    #: Set by :meth:`request_stop`: every such callback of the process stops its run at the next checkpoint
    stop_requested: ClassVar[bool] = False

    @classmethod
    def request_stop(cls) -> None:
        """Ask every run of this process to write a checkpoint at the end of its current iteration and stop there."""
        StoppableCheckpointCallback.stop_requested = True

    def _on_training_start(self) -> None:
        super()._on_training_start()
        self._start_timesteps = self.num_timesteps

    def _on_rollout_start(self) -> None:
        if not StoppableCheckpointCallback.stop_requested:
            super()._on_rollout_start()
            return
        # A stop before any step of this segment: the checkpoint it started from is where it stands
        saved = self.checkpoint_due or self.num_timesteps > self._start_timesteps
        if saved:
            self.save_checkpoint()
        raise StoppedAtCheckpoint(self.num_timesteps, saved)
