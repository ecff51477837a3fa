"""
RL Baselines3 Zoo integration: ``--algo td3x`` (and ``td7``, ``dqnx``, ``sacx``, ``ddpgx``) for ``rl_zoo3.train``, ``enjoy``,
``record_video`` and ``--optimize``.

RL Zoo has no plugin entry point, so TD3X is added to its tables right after RL Zoo's own modules are executed,
by the start-up hook ``_sb3_td3x_zoo_hook`` (installed with the package as ``sb3_td3x_zoo_hook.pth``), or
explicitly by :func:`register` (``python -m sb3_td3x.train``). Each ``patch_*`` function receives one RL Zoo module:

- :func:`patch_utils`: ``ALGOS["td3x"] = TD3X``, and ``DQNX``, ``SACX``, ``DDPGX`` as ``dqnx``, ``sacx``, ``ddpgx``
- :func:`patch_hyperparams_opt`: :func:`sample_td3x_params` and :func:`convert_td3x_params` for ``--optimize``;
  for the others, RL Zoo's sampler of their SB3 parent with the replay's search space on top
  (:func:`prioritized_sampler`)
- :func:`patch_exp_manager`: for the package's algorithms only, ``ExperimentManager``

  - reads ``hyperparams/<algo>.yml`` shipped in this package when no ``--conf-file`` is given
    (and RL Zoo has no file of that name),
  - accepts ``noise_type: null`` to switch RL Zoo's action noise off (for the NoisyNet policy),
  - writes checkpoints (``--save-freq``) that carry the replay buffer with ``--save-replay-buffer``
    (:class:`ResumableCheckpointCallback`: taken between two iterations, each file written whole or not at all),
  - resumes from such a checkpoint (``-i .../rl_model_<steps>_steps.zip``) with the replay buffer
    (priorities included) and the ``VecNormalize`` statistics saved with it, ends the trajectories of the
    loaded buffer there (``--truncate-last-trajectory``, on by default), and keeps counting timesteps from
    the checkpoint, so beta annealing and the noise schedule go on where they were.

  ``PrioritizedReplayBuffer`` and ``LAPReplayBuffer`` also become names that ``replay_buffer_class`` can take
  in a yml file (RL Zoo evaluates that string in its ``exp_manager`` module).

On a Linux machine without a display, ``MUJOCO_GL`` is set to ``egl`` (or ``osmesa``) unless it is set already,
so that ``rl_zoo3.record_video`` renders MuJoCo headless (:func:`select_headless_rendering`).

Nothing in RL Zoo is changed on disk, and every other ``--algo`` runs exactly as before.

One module per job: :mod:`~sb3_td3x.zoo.registry` (the ``--algo`` names, the yml files, :func:`register`),
:mod:`~sb3_td3x.zoo.samplers` (Optuna samplers), :mod:`~sb3_td3x.zoo.exp_manager` (the ``ExperimentManager`` patch),
:mod:`~sb3_td3x.zoo.checkpoints` (resumable checkpoints), :mod:`~sb3_td3x.zoo.storage` (Optuna studies on a database),
:mod:`~sb3_td3x.zoo.rendering` (headless video). This module only re-exports.
"""

from sb3_td3x.zoo.exp_manager import check_hyperparams, patch_exp_manager, resume_all_algorithms, run_summary
from sb3_td3x.zoo.registry import ALGO_NAME, ALGORITHMS, HYPERPARAMS_FILE, SB3_PARENTS, hyperparams_file, patch_utils, register
from sb3_td3x.zoo.rendering import select_headless_rendering
from sb3_td3x.zoo.samplers import (
    REPLAY_PARAMS,
    convert_replay_params,
    convert_td3x_params,
    convert_td7_params,
    patch_hyperparams_opt,
    prioritized_converter,
    prioritized_sampler,
    sample_replay_params,
    sample_td3x_params,
    sample_td7_params,
)

__all__ = [
    "ALGORITHMS",
    "ALGO_NAME",
    "HYPERPARAMS_FILE",
    "REPLAY_PARAMS",
    "SB3_PARENTS",
    "check_hyperparams",
    "convert_replay_params",
    "convert_td3x_params",
    "convert_td7_params",
    "hyperparams_file",
    "patch_exp_manager",
    "patch_hyperparams_opt",
    "patch_utils",
    "prioritized_converter",
    "prioritized_sampler",
    "register",
    "resume_all_algorithms",
    "run_summary",
    "sample_replay_params",
    "sample_td3x_params",
    "sample_td7_params",
    "select_headless_rendering",
]
