"""
The benchmark of the package's algorithms against their SB3 parents through RL Zoo, one part per job; the library
(everything outside this folder) never imports it.

- ``python -m sb3_td3x.benchmark`` (:mod:`~sb3_td3x.benchmark.__main__`): trains configurations and writes the report;
- :mod:`~sb3_td3x.benchmark.configs`: the configurations, shared by every part;
- :mod:`~sb3_td3x.benchmark.layout`: where runs and their result files are filed, shared by the part that writes them
  and those that read them;
- :mod:`~sb3_td3x.benchmark.running`: the runner (a resumable process pool) and the training process of one run;
- :mod:`~sb3_td3x.benchmark.analysis`: the report from the committed result files (statistics, plots, each task's
  completion rule); it does not import the runner;
- micro-benchmarks: :mod:`~sb3_td3x.benchmark.throughput` (env steps/s, memory, FLOPs) and
  :mod:`~sb3_td3x.benchmark.td7_reference` (one update against TD7's reference code);
- :mod:`~sb3_td3x.benchmark.diagnose` (the critic's and the replay's diagnostics in a short run) and
  :mod:`~sb3_td3x.benchmark.video` (side-by-side GIFs of finished runs).

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
