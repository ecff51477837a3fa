"""
Everything about the package is declared in setup.cfg, except what this file adds: the start-up file
``sb3_td3x_zoo_hook.pth``, which registers TD3X with RL Baselines3 Zoo (see ``_sb3_td3x_zoo_hook.py``), and the
top-level ``hyperparams/`` folder installed as the package ``sb3_td3x.hyperparams``.

A ``.pth`` file is only read from the root of site-packages, where no package file goes. ``data_files`` cannot
put it there for an editable install (setuptools' ``editable_wheel`` skips ``data_files``), so ``build_py``
writes it: into the build folder for a wheel, whose root is installed into site-packages, and straight into
the wheel being assembled for an editable (PEP 660) install, which takes nothing from the build folder.
"""

import os

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

PTH_NAME = "sb3_td3x_zoo_hook.pth"
# One line starting with "import": site.py executes it at every interpreter start, so it stays this small
PTH_CONTENT = "import _sb3_td3x_zoo_hook; _sb3_td3x_zoo_hook.install()\n"


class BuildPyWithPth(build_py):
    """``build_py`` that also writes ``sb3_td3x_zoo_hook.pth`` at the root of what gets installed."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            # editable_wheel points install_lib at the unpacked editable wheel
            target_dir = self.get_finalized_command("install").install_lib
        else:
            target_dir = self.build_lib
        os.makedirs(target_dir, exist_ok=True)
        with open(os.path.join(target_dir, PTH_NAME), "w", encoding="utf-8") as file:
            file.write(PTH_CONTENT)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not getattr(self, "editable_mode", False):
            outputs.append(os.path.join(self.build_lib, PTH_NAME))
        return outputs


setup(
    cmdclass={"build_py": BuildPyWithPth},
    # The top-level hyperparams/ folder (RL Zoo's yml files, one copy) is installed as the package sb3_td3x.hyperparams
    packages=[*find_packages(include=["sb3_td3x", "sb3_td3x.*"]), "sb3_td3x.hyperparams"],
    package_dir={"sb3_td3x.hyperparams": "hyperparams"},
)
