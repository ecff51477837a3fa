"""
Head-to-head benchmark of TD3X against stock TD3 through RL Zoo (same as ``python -m sb3_td3x.benchmark``).

Train stock TD3, TD3 with 3-step returns and the recommended TD3X on Hopper-v4, seeds 0-9 of 100k steps,
one process per run on every core; each finished run's result files go to results/runs/Hopper-v4/, and the report
to results/Hopper-v4/{curves.png, profile.png, ablation.png, summary.csv, summary.md}::

    python examples/benchmark.py --env Hopper-v4 -n 100000

Every TD3X extra alone as well: ``--configs ablation``; the screening candidates on screening seeds:
``--configs screening --seeds 100 101 102 103 104``. The command is resumable: run it again after an interruption
(or on another checkout with the same results/runs) and the finished runs are skipped. Several machines:
``--shard I/K`` (examples/slurm_benchmark.sh). Throughput and memory: ``python -m sb3_td3x.benchmark.throughput``.
"""

import sys

from sb3_td3x.benchmark.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
