#!/bin/bash
# The Hopper-v4 benchmark on a Slurm cluster: K array tasks each train a disjoint shard of the runs, then one job
# merges every shard's result files into the report.
#
#   bash examples/slurm_benchmark.sh              # submit: 8 shards + the report job (runs after all of them)
#   SHARDS=16 CPUS=4 bash examples/slurm_benchmark.sh
#
# Each task trains its runs in its own scratch folder (runs/td3x-benchmark-<I>, or under $SCRATCH_ROOT) and writes the
# small result files to results/shard_<I>/runs/ on the shared file system; the report job reads them all
# (--runs results/shard_*/runs) and writes results/Hopper-v4/. Runs write a checkpoint every 50k steps, and 13 minutes
# before the task's time limit (--time-left less the runner's 3-minute margin) each running run writes one more and
# exits: a task that is re-run (requeued, or the array submitted again) skips the runs whose result files exist and
# resumes the others where they stopped, as long as the scratch folder is on storage that outlives the job (not a
# node-local $TMPDIR). Adapt the partition, account and modules to your site.
set -euo pipefail

SHARDS=${SHARDS:-8}                 # K: array tasks
CPUS=${CPUS:-2}                     # cores per task = concurrent runs per task
ENV_ID=${ENV_ID:-Hopper-v4}
CONFIGS=${CONFIGS:-"td3 td3_nstep3 td3x_recommended"}
SEEDS=${SEEDS:-"0 1 2 3 4 5 6 7 8 9"}
STEPS=${STEPS:-100000}
HOURS=${HOURS:-12}                  # wall-time limit of one task
SCRIPT=$(realpath "$0")

case "${1:-submit}" in
submit)
  # One array task per shard, then the report once every task has ended well
  array_job=$(sbatch --parsable --array=0-$((SHARDS - 1)) --cpus-per-task="$CPUS" --time="$HOURS:00:00" \
    --job-name=td3x-bench --output=slurm-td3x-bench-%A_%a.out \
    --export=ALL,SHARDS="$SHARDS",CPUS="$CPUS",ENV_ID="$ENV_ID",CONFIGS="$CONFIGS",SEEDS="$SEEDS",STEPS="$STEPS",HOURS="$HOURS" \
    "$SCRIPT" task)
  sbatch --dependency=afterok:"$array_job" --cpus-per-task=1 --time=00:30:00 --job-name=td3x-report \
    --output=slurm-td3x-report-%j.out --export=ALL,ENV_ID="$ENV_ID",STEPS="$STEPS" "$SCRIPT" report
  echo "submitted array job $array_job ($SHARDS shards) and its report job"
  ;;
task)
  index=${SLURM_ARRAY_TASK_ID:?run by Slurm as an array task}
  # shellcheck disable=SC2086
  python -m sb3_td3x.benchmark --env "$ENV_ID" --configs $CONFIGS --seeds $SEEDS -n "$STEPS" \
    --shard "$index/$SHARDS" --jobs "$CPUS" --root "${SCRATCH_ROOT:-runs}/td3x-benchmark-$index" \
    --results "results/shard_$index" --time-left $((HOURS * 60 - 10)) --no-report
  ;;
report)
  python -m sb3_td3x.benchmark --env "$ENV_ID" -n "$STEPS" --report-only --runs results/shard_*/runs
  ;;
*)
  echo "usage: $0 [submit|task|report]" >&2
  exit 2
  ;;
esac
