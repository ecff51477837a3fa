"""
``python -m sb3_td3x.benchmark.running.train``: the training process of one benchmark run. It is RL Zoo's
``python -m rl_zoo3.train`` with the same arguments, for every ``--algo`` (SB3's own too), with the package's
resumable checkpoints (:func:`sb3_td3x.zoo.resume_all_algorithms`): with ``--save-freq N --save-replay-buffer``
every checkpoint holds the model, the replay buffer, the evaluations and the monitor so far, and ``-i`` on one
carries the run on from it. One argument of its own, read before RL Zoo's:

- ``--keep-checkpoints K``: keep the newest ``K`` checkpoints of the run only (each holds a replay buffer).

What the run computes is RL Zoo's: checkpoints are written between two iterations and change nothing in training.

``SIGUSR1`` asks the run to stop without losing what it trained (the runner's stop protocol,
:mod:`~sb3_td3x.benchmark.running.stop`): with ``--save-freq``, it writes a checkpoint at the end of the iteration in
progress and exits with status 75 (:data:`~sb3_td3x.benchmark.running.stop.STOPPED_EXIT_CODE`); ``-i`` on that
checkpoint carries it on later. The runner sends it when its ``--time-left`` runs out or when it gets ``SIGUSR1`` itself
(a batch system's warning).
"""

from __future__ import annotations

import argparse
import signal
import sys


def main(argv: list[str] | None = None) -> None:
    """:param argv: the command line (default ``sys.argv[1:]``): ``--keep-checkpoints`` and RL Zoo's arguments."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--keep-checkpoints", type=int, default=None)
    args, zoo_args = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.keep_checkpoints is not None and args.keep_checkpoints < 1:
        raise SystemExit(f"error: --keep-checkpoints must be >= 1, got {args.keep_checkpoints}")

    from sb3_td3x.benchmark.running.stop import StoppableCheckpointCallback
    from sb3_td3x.zoo import resume_all_algorithms

    # Before this, SIGUSR1 ends the process (its default action) before it has trained anything: nothing is lost
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: StoppableCheckpointCallback.request_stop())
    resume_all_algorithms(keep_last=args.keep_checkpoints, callback_class=StoppableCheckpointCallback)
    from rl_zoo3.train import train

    sys.argv = [sys.argv[0], *zoo_args]
    train()


if __name__ == "__main__":
    main()
