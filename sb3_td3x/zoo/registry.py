"""
The RL Zoo door's registry: which ``--algo`` names the package adds, where their yml files are, and :func:`register`,
which hands RL Zoo's modules to the ``patch_*`` functions (what the start-up hook ``_sb3_td3x_zoo_hook`` does by
itself when RL Zoo is imported).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from stable_baselines3.common.base_class import BaseAlgorithm

from sb3_td3x.ddpgx import DDPGX
from sb3_td3x.dqnx import DQNX
from sb3_td3x.sacx import SACX
from sb3_td3x.td3x import TD3X
from sb3_td3x.td7 import TD7
from sb3_td3x.zoo.rendering import select_headless_rendering

ALGO_NAME = "td3x"
#: ``--algo`` names of the package's algorithms
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"td3x": TD3X, "td7": TD7, "dqnx": DQNX, "sacx": SACX, "ddpgx": DDPGX}
#: The SB3 algorithm whose RL Zoo sampler each prioritized variant extends (TD3X has a sampler of its own)
SB3_PARENTS = {"dqnx": "dqn", "sacx": "sac", "ddpgx": "ddpg"}


def hyperparams_file(algo: str) -> Path:
    """
    :return: the hyperparameter file that ``--algo <algo>`` reads without ``--conf-file``: in the package
        ``sb3_td3x.hyperparams``, which the build makes of the repository's top-level ``hyperparams/`` folder.
    """
    import sb3_td3x.hyperparams

    return Path(sb3_td3x.hyperparams.__file__).parent / f"{algo}.yml"


#: The hyperparameter file that ``--algo td3x`` reads without ``--conf-file``
HYPERPARAMS_FILE = hyperparams_file(ALGO_NAME)


def patch_utils(module: ModuleType) -> None:
    """
    Add TD3X to RL Zoo's ``ALGOS`` table, from which ``--algo`` takes its choices and models are created and loaded;
    select headless MuJoCo rendering where there is no display (:func:`select_headless_rendering`).

    :param module: ``rl_zoo3.utils``
    """
    for name, algorithm in ALGORITHMS.items():
        module.ALGOS.setdefault(name, algorithm)
    select_headless_rendering()


def register() -> None:
    """
    Register TD3X with RL Baselines3 Zoo in this process: what the start-up hook does by itself when RL Zoo is
    imported. Calling it again changes nothing.

    .. code-block:: python

        import sb3_td3x.zoo
        sb3_td3x.zoo.register()
        from rl_zoo3.train import train
        train()  # accepts --algo td3x
    """
    import rl_zoo3.exp_manager
    import rl_zoo3.hyperparams_opt
    import rl_zoo3.utils

    from sb3_td3x.zoo.exp_manager import patch_exp_manager
    from sb3_td3x.zoo.samplers import patch_hyperparams_opt

    patch_utils(rl_zoo3.utils)
    patch_hyperparams_opt(rl_zoo3.hyperparams_opt)
    patch_exp_manager(rl_zoo3.exp_manager)
