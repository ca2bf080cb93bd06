#!/usr/bin/env bash
# dg against PyTorch on this machine's GPU in one go: dgbench train and the PyTorch baseline
# (bench/pytorch/train_baseline.py, four modes) over the same configurations, then
# bench/results/<date>-<device>.md (bench/make_report.py). Commit that file.
#   BUILD=build-gpu bash bench/compare.sh                      # every configuration of issue #6
#   CONFIGS="--arch dcgan32 --k 2 --batch 64" bash bench/compare.sh   # a quick one
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CONFIGS=${CONFIGS:---arch dcgan32,dcgan64 --k 1,2 --batch 32,64,128,256}
tmp=$(mktemp -d)
"$BUILD/tools/dgbench" --json "$tmp/dg.jsonl" train $CONFIGS
python3 bench/pytorch/train_baseline.py $CONFIGS --json "$tmp/pytorch.jsonl"
python3 bench/make_report.py "$tmp/dg.jsonl" "$tmp/pytorch.jsonl" --out "${RESULTS:-bench/results}" \
  --command "CONFIGS=\"$CONFIGS\" BUILD=$BUILD bash bench/compare.sh"
