#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan + UBSan, coverage) into build-fuzz/ and runs
# each for SECONDS (default 600) on a copy of its seed corpus, JOBS (default 2) at a time.
# Crashes land in $OUT/<harness>/ (default fuzz-out/); copy each into
# tests/fuzz/regressions/<harness>/ once it is fixed, so every build replays it.
#   bash tools/fuzz.sh [harness ...]        (needs clang and libomp-dev: apt-get install clang libomp-dev)
# Limits: inputs up to 64 KiB; an input that makes dg allocate more than 256 MiB in one
# malloc (-malloc_limit_mb) is a finding: no legitimate file of that size describes more
# (a gzip or PNG stream expands at most about 1000x).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_EACH:-600}
jobs=${JOBS:-2}
out=${OUT:-fuzz-out}
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(idx cifar svhn_mat image safetensors config_json)
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DDG_FUZZ=ON -DDG_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 --target $(printf 'fuzz_%s ' "${harnesses[@]}")
run_one() {
  local h=$1 dir="$out/$1"
  rm -rf "$dir" && mkdir -p "$dir/corpus"
  cp tests/fuzz/corpus/"$h"/* "$dir/corpus/"
  OMP_NUM_THREADS=1 ./build-fuzz/tests/fuzz/fuzz_"$h" "$dir/corpus" -max_total_time="$seconds" -max_len=65536 \
    -rss_limit_mb=2048 -malloc_limit_mb=256 -timeout=10 -print_final_stats=1 -artifact_prefix="$dir/" \
    > "$dir/log.txt" 2>&1 || true
  local stats
  stats=$(grep -E "DONE" "$dir/log.txt" | tail -1 | sed -E 's/^#([0-9]+)\s+DONE\s+/\1 executions, /; s/ exec\/s.*//')
  echo "$h: $stats; findings: $(ls "$dir" | grep -cE '^(crash|oom|timeout|leak)-' || true)"
}
export -f run_one
export seconds out
printf '%s\n' "${harnesses[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one {}'
