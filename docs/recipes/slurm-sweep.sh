#!/usr/bin/env bash
# Runs a pvlockfs experiment as a Slurm array job: the plan, one cell per array task (at most
# MAX at once), then a collect job that starts when every task has ended.
#
#   docs/recipes/slurm-sweep.sh PLAN_DIR MAX [EXPERIMENT OPTIONS …]
#   e.g. docs/recipes/slurm-sweep.sh /shared/sweeps/rfc-1 32 --reps 10
#
# PLAN_DIR must be on a filesystem every node sees. The table ends up in PLAN_DIR/collect.out
# (the missing cells, if any, in collect.err); the RFC table's report.md, results.json and
# pictures in PLAN_DIR.
# PVLOCKFS names the pvlockfs command on the nodes (default: pvlockfs on PATH); TASKS=T runs the
# cells as T array tasks (each every T-th cell) instead of one task per cell. Extra sbatch
# options (a partition, an account, a time limit) go in SBATCH_OPTIONS, split on spaces.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 PLAN_DIR MAX [EXPERIMENT OPTIONS …]" >&2; exit 2; }
dir=$1
max=$2
shift 2
case "$max" in '' | *[!0-9]*) echo "$0: MAX must be a whole number" >&2; exit 2 ;; esac
pvlockfs=${PVLOCKFS:-pvlockfs}
read -r -a extra <<< "${SBATCH_OPTIONS:-}"

# The plan: every run as a numbered cell (its JSON line says how many).
n=$("$pvlockfs" experiment "$@" --plan "$dir" --json | sed -n 's/.*"cells":\([0-9][0-9]*\).*/\1/p')
[ -n "$n" ] || { echo "$0: the plan was not made" >&2; exit 1; }

# One task per cell, each running `pvlockfs experiment --plan DIR` with its SLURM_ARRAY_TASK_ID;
# or, with TASKS=T below the cell count, T tasks each running every T-th cell (fewer, longer
# tasks: less start-up per cell). sbatch passes the arguments to the batch script without a
# shell in between.
tasks=${TASKS:-$n}
case "$tasks" in '' | *[!0-9]* | 0) echo "$0: TASKS must be a whole number above 0" >&2; exit 2 ;; esac
stride=()
if [ "$tasks" -lt "$n" ]; then stride=(--stride "$tasks"); else tasks=$n; fi
task=$(mktemp "${TMPDIR:-/tmp}/pvlockfs-task.XXXXXX")
trap 'rm -f -- "$task"' EXIT
printf '#!/bin/sh\nexec "$@"\n' > "$task"
cells=$(sbatch --parsable "${extra[@]}" --array="0-$((tasks - 1))%$max" --job-name=pvlockfs-cells \
  --output="$dir/slurm-%A_%a.out" "$task" "$pvlockfs" experiment --plan "$dir" "${stride[@]}")
cells=${cells%%;*}
# The collect job: after every task has ended, successfully or not (it names any missing cell).
sbatch --parsable "${extra[@]}" --dependency="afterany:$cells" --job-name=pvlockfs-collect \
  --output="$dir/collect.out" --error="$dir/collect.err" "$task" "$pvlockfs" experiment --collect "$dir"
echo "array job $cells: $n cells; the table will be in $dir/collect.out" >&2
