#!/usr/bin/env bash
# One command for a lent GPU machine whose whole session has 15 minutes of device time and
# at most 10 per command: builds only what runs on the GPU, then runs, most important
# first, each phase under its own time limit and skipped when the deadline is too near:
#   1. the GPU tests (label gpu: every CUDA op against the CPU, the PyTorch golden step on the
#      GPU, the deterministic resume, NCCL with one rank)                       (issue #3)
#   2. dgbench train (steps queued and replayed as a CUDA graph) and the PyTorch baseline in eager FP32 and AMP bf16, dcgan32/64, K = 1, 2,
#      batch 64, and the comparison table                                        (issue #6)
#   3. dgbench kernels at batch 64                                               (issue #6)
#   4. the compiled PyTorch modes for the same configurations, as long as time is left
# Everything lands in $OUT in at most 8 files (the device tool brings back no more):
# session.log, dg.jsonl, pytorch.jsonl and the comparison <date>-<device>.md.
# From the development machine (after tools/install-deps.sh):
#   bash tools/gpu-stage.sh
#   device run: command "bash tools/gpu-session.sh", carry [".gpu"], timeout_s 600
# DEADLINE (seconds after the start, default 540) leaves time for the files to come back.
set -uo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
deadline=${DEADLINE:-540}
out=${OUT:-.gpu/out}
mkdir -p "$out"
log="$out/session.log"
exec > >(tee -a "$log") 2>&1

left() { echo $((deadline - ($(date +%s) - start))); }
# phase NAME SECONDS command...: runs the command for at most SECONDS (or what is left).
phase() {
  local name=$1 limit=$2
  shift 2
  local t
  t=$(left)
  [ "$t" -lt "$limit" ] && limit=$t
  if [ "$limit" -lt 20 ]; then
    echo "== $name: SKIPPED, ${t}s left"
    return 0
  fi
  echo "== $name (limit ${limit}s, $(($(date +%s) - start))s into the session)"
  timeout --signal=TERM --kill-after=10 "$limit" "$@"
  echo "== $name: exit $? after $(($(date +%s) - start))s"
}

echo "== dg GPU session: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, "cuDNN", torch.backends.cudnn.version())' 2>&1 | tail -1
ls /usr/local/cuda/lib64 2>/dev/null | grep -E '^lib(cublas|cudnn|nccl)\.so' | tr '\n' ' '
echo

phase "build" 300 env TARGETS="test_gpu test_gpu_dgtrain test_gpu_nccl test_golden dgtrain dgbench" RUN=0 \
  bash tools/gpu-build.sh || true
[ -x build-gpu/tools/dgbench ] || { echo "== no build: stopping"; exit 1; }
export LD_LIBRARY_PATH="$(python3 -c 'import nvidia.cudnn, nvidia.nccl, os
print(":".join(os.path.dirname(m.__file__) + "/lib" for m in (nvidia.cudnn, nvidia.nccl)))' 2>/dev/null):${LD_LIBRARY_PATH:-}"

phase "gpu tests" 200 ctest --test-dir build-gpu -L gpu -j4 --output-on-failure
phase "golden tests (CPU, as a check of this build)" 60 ctest --test-dir build-gpu -R '^test_golden/' --output-on-failure

configs="--arch dcgan32,dcgan64 --k 1,2 --batch 64"
phase "dgbench train" 120 build-gpu/tools/dgbench --json "$out/dg.jsonl" train $configs --cuda-graph both --warmup 10 --steps 50
phase "PyTorch eager and AMP" 120 env PYTHONUNBUFFERED=1 python3 bench/pytorch/train_baseline.py $configs \
  --modes eager,amp-bf16 --warmup 10 --steps 50 --json "$out/pytorch.jsonl"
report=(python3 bench/make_report.py "$out/dg.jsonl" "$out/pytorch.jsonl" --out "$out"
        --command "bash tools/gpu-session.sh (device tool, carry .gpu)")
phase "comparison table" 30 "${report[@]}"
phase "dgbench kernels" 120 build-gpu/tools/dgbench --json "$out/dg.jsonl" kernels --batch 64 --repeats 30
phase "PyTorch compile" 150 env PYTHONUNBUFFERED=1 python3 bench/pytorch/train_baseline.py $configs \
  --modes compile --warmup 10 --steps 50 --json "$out/pytorch.jsonl"
phase "PyTorch max-autotune" 200 env PYTHONUNBUFFERED=1 python3 bench/pytorch/train_baseline.py \
  --arch dcgan64 --k 2 --batch 64 --modes max-autotune --warmup 10 --steps 50 --json "$out/pytorch.jsonl"
phase "comparison table again" 30 "${report[@]}"
echo "== session done after $(($(date +%s) - start))s; files in $out: $(ls "$out" | tr '\n' ' ')"
exec >&- 2>&-  # close the pipe into tee so that it writes the log's last lines before we return
sleep 1
