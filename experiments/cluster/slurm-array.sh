#!/bin/bash
# Runs one experiment as a Slurm job array: task i of N runs shard i/N of the grid (method × setting × class ×
# seed), each into its own folder; a dependent job merges the shards into the final tables.
#
#   sbatch --array=0-7 experiments/cluster/slurm-array.sh table1 cpu 3
#   # after it is queued, the merge (or run it by hand when all tasks are done):
#   sbatch --dependency=afterok:<array job id> --wrap "npx uniad experiment merge runs/cluster/table1-cpu/shard-* --out runs/cluster/table1-cpu/merged"
#
# Arguments: <experiment> [budget=cpu] [seeds=1]. Run from the repository root (after `npm run setup`).
#SBATCH --job-name=uniad
#SBATCH --cpus-per-task=4
#SBATCH --mem=16G
#SBATCH --time=04:00:00
#SBATCH --output=runs/cluster/slurm-%A_%a.log
set -euo pipefail

EXPERIMENT=${1:?usage: sbatch --array=0-<N-1> slurm-array.sh <experiment> [budget] [seeds]}
BUDGET=${2:-cpu}
SEEDS=${3:-1}
INDEX=${SLURM_ARRAY_TASK_ID:-0}
COUNT=${SLURM_ARRAY_TASK_COUNT:-1}
OUT=${UNIAD_OUT:-runs/cluster/${EXPERIMENT}-${BUDGET}}

# one TensorFlow thread pool per task, sized to the allocation
export TF_NUM_INTRAOP_THREADS=${SLURM_CPUS_PER_TASK:-4}
export TF_NUM_INTEROP_THREADS=1
# a feature cache per node (shared file systems work too: entries are written atomically)
export UNIFIED_AD_CACHE=${UNIFIED_AD_CACHE:-${TMPDIR:-/tmp}/unified-ad-cache}
export UNIFIED_AD_QUIET=1

mkdir -p "$OUT"
node experiments/bin/uniad.js experiment run "$EXPERIMENT" --budget "$BUDGET" --seeds "$SEEDS" \
  --shard "${INDEX}/${COUNT}" --out "$OUT/shard-${INDEX}"
