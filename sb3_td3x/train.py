"""
``python -m sb3_td3x.train``: RL Baselines3 Zoo's ``python -m rl_zoo3.train``, with the same arguments,
after registering TD3X explicitly (:func:`sb3_td3x.zoo.register`).

``python -m rl_zoo3.train --algo td3x`` works on its own once the package is installed (the start-up hook
registers TD3X when RL Zoo is imported); this entry point does not depend on that hook, e.g. in an
environment where ``.pth`` files are not processed (``python -S``) or with ``SB3_TD3X_NO_ZOO_HOOK=1``.

.. code-block:: bash

    python -m sb3_td3x.train --algo td3x --env Hopper-v4
"""

from sb3_td3x.zoo import register


def main() -> None:
    """Register TD3X with RL Zoo, then run RL Zoo's training script on ``sys.argv``."""
    register()
    from rl_zoo3.train import train

    train()


if __name__ == "__main__":
    main()
