#!/usr/bin/env bash
# The measured inputs of bench/SCALING.md, on a GPU machine (after building there):
#   1. the single-GPU step time T1 of dcgan64, K = 1 and 2, batch 64 per GPU (dgbench train);
#   2. the NCCL all-reduce time of G's and D's gradient buffers on all the machine's GPUs,
#      and the share of a K = 2 step (batch 64 per GPU) the averaging costs after each
#      backward and in buckets during it (dgbench allreduce under mpirun; skipped with fewer
#      than 2 GPUs: one rank has nothing to reduce).
# Writes bench/results/<date>-scaling-<device>.jsonl (the dgbench --json lines) and prints
# the tables. Usage: bash bench/scaling_inputs.sh [BUILD_DIR] [NGPUS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-${BUILD:-build}}
ngpus=${2:-$(nvidia-smi -L 2>/dev/null | wc -l)}
device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' ' '-' || echo unknown)
out=bench/results/$(date +%F)-scaling-${device:-unknown}.jsonl
mkdir -p bench/results
echo "== T1: dgbench train, dcgan64, K = 1 and 2, batch 64 ($device)"
"$build/tools/dgbench" --device cuda --json "$out" train --arch dcgan64 --k 1,2 --batch 64 --warmup 10 --steps 50
if [ "${ngpus:-0}" -ge 2 ]; then
  echo "== NCCL all-reduce of the gradient buffers on $ngpus GPUs"
  root=(); [ "$(id -u)" -eq 0 ] && root=(--allow-run-as-root)
  mpirun -np "$ngpus" "${root[@]}" "$build/tools/dgbench" --device cuda --json "$out" allreduce --image-size 32,64 --repeats 100 \
    --step-batch 64 --steps 50
else
  echo "== NCCL all-reduce: skipped, $ngpus GPU(s) visible (needs 2 or more)"
fi
echo "results appended to $out; put T1 and the all-reduce times into bench/SCALING.md's model"
