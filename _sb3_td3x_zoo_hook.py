"""
Start-up hook that registers TD3X with RL Baselines3 Zoo, loaded by ``sb3_td3x_zoo_hook.pth``.

RL Zoo has no plugin entry point, and ``rl_zoo3.train`` builds the choices of ``--algo`` from
``rl_zoo3.utils.ALGOS`` as soon as it is imported, before any ``--gym-packages`` module is loaded. So this
module, imported at interpreter start-up by the ``.pth`` file that pip puts into site-packages, adds a
finder to ``sys.meta_path`` that waits for three of RL Zoo's own modules. Right after one of them has been
executed, and before any code can read from it, it hands the module to ``sb3_td3x.zoo``:

- ``rl_zoo3.utils``: ``"td3x"`` enters ``ALGOS``
- ``rl_zoo3.hyperparams_opt``: the Optuna sampler enters ``HYPERPARAMS_SAMPLER`` and ``HYPERPARAMS_CONVERTER``
- ``rl_zoo3.exp_manager``: ``--algo td3x`` finds ``hyperparams/td3x.yml`` shipped in ``sb3_td3x``, and
  checkpoints carry their replay buffer for resuming

Nothing else happens at start-up: this file imports only ``os`` and ``sys``, and neither torch nor
``sb3_td3x`` is imported until RL Zoo itself is. Set ``SB3_TD3X_NO_ZOO_HOOK=1`` to switch the hook off
(``python -m sb3_td3x.train`` registers explicitly and works either way).

This module lives outside the ``sb3_td3x`` package on purpose: importing anything inside it would run
``sb3_td3x/__init__.py``, and so import torch, at every interpreter start.
"""

import os
import sys
from typing import Any

# RL Zoo module -> name of the function of sb3_td3x.zoo that receives it once executed
WATCHED_MODULES = {
    "rl_zoo3.utils": "patch_utils",
    "rl_zoo3.hyperparams_opt": "patch_hyperparams_opt",
    "rl_zoo3.exp_manager": "patch_exp_manager",
}
DISABLE_VARIABLE = "SB3_TD3X_NO_ZOO_HOOK"


def _hand_over(module: Any) -> None:
    """Pass a freshly executed RL Zoo module to ``sb3_td3x.zoo``; a failure must not break RL Zoo itself."""
    try:
        from sb3_td3x import zoo

        getattr(zoo, WATCHED_MODULES[module.__name__])(module)
    except Exception as error:
        import warnings

        warnings.warn(
            f"sb3_td3x could not register TD3X with RL Zoo when {module.__name__} was imported: {error!r}",
            stacklevel=2,
        )


class _HandOverLoader:
    """Wraps the real loader of a watched module: executes the module, then hands it over."""

    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        # From now on the module only knows its real loader (reload, resources, get_code)
        module.__loader__ = self.loader
        if getattr(module, "__spec__", None) is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _hand_over(module)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.loader, name)


class RLZooFinder:
    """Meta path finder that only watches ``WATCHED_MODULES`` and leaves finding them to the other finders."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in WATCHED_MODULES:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _HandOverLoader(spec.loader)
                return spec
        return None


def install() -> None:
    """Put the finder first on ``sys.meta_path`` (once); hand over the watched modules already imported."""
    if os.environ.get(DISABLE_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on"):
        return
    if not any(isinstance(finder, RLZooFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, RLZooFinder())
    for name in WATCHED_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            _hand_over(module)
