#!/usr/bin/env bash
# What each step of the CPU work bought: builds dgbench at each commit given (in a git worktree
# under $WORK, default /tmp/dg-ladder) and runs bench/cpu_vs_pytorch.py against it, so every
# commit's dg is paired with a PyTorch run of the same configuration in the same minute.
#   bash bench/cpu_ladder.sh 457be34 4b68098 ... HEAD      # prints one table per commit
# CONFIG overrides the configurations (default: dcgan32 and dcgan64, K = 1, 2 threads, 1 round).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
WORK=${WORK:-/tmp/dg-ladder}
CONFIG=${CONFIG:---arch dcgan32,dcgan64 --k 1 --threads 2 --rounds 1 --steps 5}
[ -d "$WORK" ] || git worktree add --detach "$WORK" HEAD >/dev/null
for commit in "$@"; do
  git -C "$WORK" checkout --quiet --detach "$commit"
  cmake -S "$WORK" -B "$WORK/build" -G Ninja -DDG_CUDA=OFF -DBUILD_TESTING=OFF >/dev/null
  cmake --build "$WORK/build" --target dgbench >/dev/null
  echo "== $(git -C "$WORK" log --oneline -1 | cut -c1-100)"
  # (--out: a scratch folder; the table is printed)
  python3 "$root/bench/cpu_vs_pytorch.py" --build "$WORK/build" $CONFIG --out "$WORK/results" | grep '^|'
done
