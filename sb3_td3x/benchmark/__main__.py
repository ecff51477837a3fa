"""
Command line of the benchmark: train the configurations through RL Zoo, then write the report.

Example::

    python -m sb3_td3x.benchmark --env Hopper-v4 --configs td3 td3_nstep3 td3x_recommended \
        --seeds 0 1 2 -n 100000 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sb3_td3x.benchmark.configs import (
    ABLATION,
    BUDGET_500K,
    CANDIDATES,
    CONFIGS,
    CROSSQ_SCREENING,
    HEAD_TO_HEAD,
    PRIORITIZED_DQN,
    PRIORITIZED_SAC,
    SCREENING_SEED_START,
)
from sb3_td3x.benchmark.layout import DEFAULT_ROOT, MixedResultsError, budget_key

if TYPE_CHECKING:
    from sb3_td3x.benchmark.running.runner import RunSpec


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sb3_td3x.benchmark", description=__doc__.split("\n\n")[0].strip())
    parser.add_argument("--env", default="Hopper-v4", help="Gymnasium environment id")
    parser.add_argument(
        "--configs",
        nargs="+",
        default=None,
        help=f"configurations to run, or 'all' / 'ablation' / 'screening' / 'candidates' (known: {', '.join(CONFIGS)}); "
        "'screening' is round 2's candidates and the recommended set under its screening name, "
        "'candidates' those candidates alone; 'crossq-screening' round 3 (td3, the TD3X CrossQ candidates, "
        "sb3-contrib's CrossQ); '500k' the sets of the 500k experiment; "
        "'prioritized-dqn' / 'prioritized-sac': DQN / SAC against DQNX / SACX; default: "
        f"{' '.join(HEAD_TO_HEAD)} for training, every configuration with finished runs for the report",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=None,
        help=f"random seeds (default 0-9); seeds >= {SCREENING_SEED_START} are screening seeds, reported apart "
        "(<results>/<env>/screening/); default for the report: every finished seed",
    )
    parser.add_argument("-n", "--n-timesteps", type=int, default=100_000, help="training budget per run (env steps)")
    parser.add_argument("--eval-freq", type=int, default=10_000, help="evaluate every N env steps")
    parser.add_argument("--eval-episodes", type=int, default=10, help="deterministic episodes per evaluation")
    parser.add_argument(
        "--device", default="cpu", help="PyTorch device of the training processes (cpu, cuda, auto); default cpu"
    )
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="concurrent runs (default: all cores)")
    parser.add_argument(
        "--root",
        default=DEFAULT_ROOT,
        help="scratch folder of the runs (checkpoints, RL Zoo's logs; never committed), outside the work tree so that "
        "a later checkout of the repository resumes the runs (default: %(default)s)",
    )
    parser.add_argument(
        "--checkpoint-freq",
        type=int,
        default=50_000,
        help="each run writes a checkpoint every N env steps (model, replay buffer, evaluations so far), from which "
        "a later invocation resumes it if it was killed; 0: none (default %(default)s)",
    )
    parser.add_argument(
        "--results",
        default="results",
        help="results folder: finished runs' result files go to <results>/runs/<env>/, the report to <results>/<env>/",
    )
    parser.add_argument(
        "--runs",
        nargs="+",
        default=None,
        help="folders of finished runs' result files that the report reads and merges (default: <results>/runs)",
    )
    parser.add_argument("--threshold", type=float, default=None, help="return threshold for steps-to-threshold")
    parser.add_argument(
        "--time-left",
        type=float,
        default=None,
        help="minutes this machine has left: 3 minutes before the end the running runs write a checkpoint and exit, "
        "so that the next invocation resumes them losing nothing (SIGUSR1 to the runner does the same at once, e.g. a "
        "batch system's warning before its time limit); no run starts with less than 2 minutes to go before that, "
        "nor a run without checkpoints (--checkpoint-freq 0) that would not finish, judged from the wall time of "
        "finished runs of the same budget",
    )
    parser.add_argument(
        "--shard",
        default=None,
        help="I/K: run only shard I (0 <= I < K) of the runs, split deterministically, so that K machines "
        "(e.g. a Slurm job array: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT) each run a disjoint part",
    )
    parser.add_argument("--report-only", action="store_true", help="skip training, only write the report")
    parser.add_argument("--no-report", action="store_true", help="skip the report")
    parser.add_argument("--list", action="store_true", help="list the configurations and exit")
    parser.add_argument(
        "--status",
        action="store_true",
        help="say where each run stands (finished, running, stopped at a checkpoint, not started) and how many env "
        "steps are left, then exit; reads the folders without changing them, also while the runs go on",
    )
    parser.add_argument("--progress-interval", type=float, default=60.0, help="seconds between progress lines")
    args = parser.parse_args(argv)
    if args.checkpoint_freq < 0:
        parser.error(f"--checkpoint-freq must be >= 0 env steps (0: no checkpoints), got {args.checkpoint_freq}")
    if args.time_left is not None and not args.time_left > 0:
        parser.error(f"--time-left must be > 0 minutes, got {args.time_left}")
    if args.shard is not None:
        from sb3_td3x.benchmark.running.runner import parse_shard

        try:
            args.shard = parse_shard(args.shard)
        except ValueError as error:
            parser.error(str(error))
    args.report_configs = None if args.configs is None else _expand(args.configs)
    args.configs = _expand(args.configs or list(HEAD_TO_HEAD))
    unknown = [name for name in args.configs if name not in CONFIGS]
    if unknown:
        parser.error(f"--configs: unknown configuration(s) {', '.join(unknown)} (--list says what each one is)")
    args.report_seeds = args.seeds
    args.seeds = args.seeds if args.seeds is not None else list(range(10))
    return args


def _expand(names: list[str]) -> list[str]:
    expanded: list[str] = []
    for name in names:
        if name == "all":
            expanded += list(CONFIGS)
        elif name == "ablation":
            expanded += ["td3", "td3_nstep3", *ABLATION, "td3x_recommended"]
        elif name == "500k":
            expanded += list(BUDGET_500K)
        elif name == "screening":
            expanded += ["td3x_lap_tdscale", *CANDIDATES]
        elif name == "crossq-screening":
            expanded += list(CROSSQ_SCREENING)
        elif name == "candidates":
            expanded += list(CANDIDATES)
        elif name == "prioritized-dqn":
            expanded += list(PRIORITIZED_DQN)
        elif name == "prioritized-sac":
            expanded += list(PRIORITIZED_SAC)
        else:
            expanded.append(name)
    return list(dict.fromkeys(expanded))


def _specs(args: argparse.Namespace) -> list[RunSpec]:
    """:return: the runs of the command line (of its shard, with ``--shard``)."""
    from sb3_td3x.benchmark.running.runner import make_specs, select_shard

    specs = make_specs(
        args.configs,
        args.env,
        args.seeds,
        args.n_timesteps,
        args.root,
        args.eval_freq,
        args.eval_episodes,
        args.device,
        args.results,
        args.checkpoint_freq,
    )
    return specs if args.shard is None else select_shard(specs, *args.shard)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.list and not args.no_report and not args.status:
        from sb3_td3x.benchmark import require_extra

        require_extra(("rliable", "arch"))
    if args.list:
        for config in CONFIGS.values():
            overrides = " ".join(config.hyperparams_args()) or "(zoo file as is)"
            print(f"{config.name:24s} {config.algo:5s} {config.description}\n{'':31s}{overrides}")
        return 0

    if args.status:
        from sb3_td3x.benchmark.running.runner import status_report

        for line in status_report(_specs(args), args.jobs):
            print(line)
        return 0
    failed = 0
    # A plain `kill` of the runner unwinds through run_all, which stops its training processes: a killed
    # benchmark leaves no orphan behind, and its unfinished runs restart cleanly on the next invocation.
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(143))
    # SIGUSR1 (a batch system's warning before its time limit, or a person): stop at a checkpoint, resume later
    stop = threading.Event()
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: stop.set())
    if not args.report_only:
        from sb3_td3x.benchmark.running.runner import run_all

        specs = _specs(args)
        shard = "" if args.shard is None else f" (shard {args.shard[0]}/{args.shard[1]})"
        print(
            f"{len(specs)} runs{shard}: {', '.join(args.configs)} x seeds {args.seeds} on {args.env}, {args.n_timesteps} steps"
        )
        start = time.time()
        try:
            records = run_all(
                specs,
                jobs=args.jobs,
                on_event=lambda line: print(line, flush=True),
                progress_interval=args.progress_interval,
                deadline=None if args.time_left is None else start + 60.0 * args.time_left,
                stop=stop,
            )
        except MixedResultsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        failed = sum(not record["ok"] for record in records)
        print(f"finished {len(records) - failed} runs, {failed} failed, in {(time.time() - start) / 60:.1f} min")
    if not args.no_report:
        from sb3_td3x.benchmark.analysis.report import write_report

        command = "python -m sb3_td3x.benchmark " + " ".join(shlex.quote(arg) for arg in (argv or sys.argv[1:]))
        key = budget_key(args.env, args.n_timesteps)
        runs_dirs = args.runs or [os.path.join(args.results, "runs")]
        chosen = set(args.report_seeds) if args.report_seeds is not None else None

        def in_group(screening: bool) -> Callable[[int], bool]:
            return lambda seed: (seed >= SCREENING_SEED_START) == screening and (chosen is None or seed in chosen)

        # Head-to-head seeds and screening seeds never share a table
        groups = [("", "TD3X against stock TD3", False), ("screening", "screening of candidate configurations", True)]
        written = 0
        for sub, title, screening in groups:
            try:
                paths = write_report(
                    runs_dirs,
                    args.env,
                    os.path.join(args.results, key, sub),
                    configs=args.report_configs,
                    seeds=in_group(screening),
                    threshold=args.threshold,
                    command=command,
                    title=title,
                    runs_key=key,
                )
            except MixedResultsError as error:
                print(f"error: {error}", file=sys.stderr)
                return 2
            for path in paths:
                print(f"wrote {path}")
            written += len(paths)
        if not written:
            print(
                f"error: no finished {args.env} runs of {args.n_timesteps:,} steps under {', '.join(runs_dirs)}: "
                "no report written (-n chooses the budget whose runs are read)",
                file=sys.stderr,
            )
            return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
