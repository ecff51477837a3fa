"""
Head-to-head benchmark of TD3X against stock TD3 through RL Zoo: runner, report and throughput measurement.

Its statistics, plots and GIF tool need the ``benchmark`` extra (``pip install "sb3_td3x[benchmark]"``): rliable and
arch (bootstrap CIs), pandas < 3 (which that arch needs), pillow and imageio (GIFs). The library itself does not.
"""

import importlib.util

from sb3_td3x.benchmark.configs import ABLATION, CONFIGS, HEAD_TO_HEAD, BenchmarkConfig

__all__ = ["ABLATION", "CONFIGS", "HEAD_TO_HEAD", "BenchmarkConfig", "require_extra"]

# What the benchmark extra brings, by import name
EXTRA_MODULES = ("rliable", "arch", "PIL", "imageio")


def require_extra(modules: tuple[str, ...] = EXTRA_MODULES) -> None:
    """
    :param modules: Import names the command needs.
    :raises SystemExit: with one line naming the extra to install, when one of them is missing.
    """
    missing = [name for name in modules if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"error: the benchmark needs the 'benchmark' extra (missing: {', '.join(missing)}): "
            'pip install "sb3_td3x[benchmark]"'
        )
