"""
RL Baselines3 Zoo hyperparameter files of sb3_td3x (``td3x.yml``, ``td7.yml``, ``dqnx.yml``, ``sacx.yml``,
``ddpgx.yml``), found by ``--algo <algo>`` without ``--conf-file``. This folder is the package ``sb3_td3x.hyperparams``:
the build maps it there (``setup.py``), so the repository's files are the ones installed, in a wheel and in an editable
install alike.
"""
