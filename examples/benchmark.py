"""
Head-to-head benchmark of TD3X against stock TD3 through RL Zoo (same as ``python -m sb3_td3x.benchmark``).

Train stock TD3, TD3 with 3-step returns and the recommended TD3X on Hopper-v4, 3 seeds of 100k steps,
one process per run on every core, then write results/Hopper-v4/{curves.png, ablation.png, summary.csv, summary.md}::

    python examples/benchmark.py --env Hopper-v4 --configs td3 td3_nstep3 td3x_recommended --seeds 0 1 2 -n 100000

Every TD3X extra alone as well: ``--configs ablation``. The command is resumable: run it again after an
interruption and the finished runs are skipped. Throughput and memory: ``python -m sb3_td3x.benchmark.throughput``.
"""

import sys

from sb3_td3x.benchmark.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
