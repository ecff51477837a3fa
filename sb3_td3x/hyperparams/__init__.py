"""RL Baselines3 Zoo hyperparameter files of sb3_td3x (``td3x.yml``), found by ``--algo td3x`` without ``--conf-file``."""
