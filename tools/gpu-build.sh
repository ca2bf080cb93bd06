#!/usr/bin/env bash
# Builds dg on an offline GPU machine without Debian packages, from what tools/gpu-stage.sh
# staged in .gpu/, with cuDNN (and NCCL) from PyTorch's nvidia-* wheels when the toolkit has
# none, then runs the GPU tests and the whole suite. Results go to $OUT (default .gpu/out).
#   bash tools/gpu-build.sh [extra ctest args]
#   TARGETS="test_gpu dgbench" RUN=0 bash tools/gpu-build.sh   # build just these, run nothing
# (tools/gpu-session.sh is the budgeted one-command session built on it.)
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d .gpu/deps ] || { echo "no .gpu/deps: run tools/gpu-stage.sh on a machine with the Debian packages" >&2; exit 1; }
out=${OUT:-.gpu/out}
mkdir -p "$out"
cudnn_root=${CUDNN_ROOT:-}
if [ -z "$cudnn_root" ] && [ ! -f /usr/local/cuda/include/cudnn.h ]; then
  cudnn_root=$(python3 -c 'import nvidia.cudnn, os; print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null || true)
fi
# NCCL the same way (the multi-GPU communicator and its one-rank GPU test).
nccl_root=${NCCL_ROOT:-}
if [ -z "$nccl_root" ] && [ ! -f /usr/local/cuda/include/nccl.h ]; then
  nccl_root=$(python3 -c 'import nvidia.nccl, os; print(os.path.dirname(nvidia.nccl.__file__))' 2>/dev/null || true)
fi
arch=${CUDAARCHS:-$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d . || true)}
arch=${arch:-90}
echo "== dg GPU build: $(git rev-parse --short HEAD 2>/dev/null || echo unknown), arch $arch," \
  "cuDNN ${cudnn_root:-from the toolkit}, NCCL ${nccl_root:-from the toolkit}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt" || true
export LD_LIBRARY_PATH="${cudnn_root:+$cudnn_root/lib:}${nccl_root:+$nccl_root/lib:}${LD_LIBRARY_PATH:-}"
cmake -S . -B build-gpu -G "$(command -v ninja >/dev/null && echo Ninja || echo 'Unix Makefiles')" \
  -DDG_CUDA=ON -DDG_DEPS_DIR="$PWD/.gpu/deps" -DCMAKE_CUDA_ARCHITECTURES="$arch" ${cudnn_root:+-DDG_CUDNN_ROOT="$cudnn_root"} \
  ${nccl_root:+-DDG_NCCL_ROOT="$nccl_root"}
# shellcheck disable=SC2086  # TARGETS is a list
cmake --build build-gpu -j"$(nproc)" ${TARGETS:+--target $TARGETS}
[ "${RUN:-1}" = 1 ] || exit 0
set +e
ctest --test-dir build-gpu -L gpu --output-on-failure "$@" 2>&1 | tee "$out/ctest-gpu.txt"
ctest --test-dir build-gpu --output-on-failure -j"$(nproc)" "$@" 2>&1 | tail -30 | tee "$out/ctest-all.txt"
# Benchmarks (BENCH=0 skips them): the device's limits, every kernel (checked against the
# CPU first) and the training steps; bench/compare.sh adds PyTorch (RESULTS=$OUT to bring the
# table back: BUILD=build-gpu RESULTS=$OUT bash bench/compare.sh).
if [ "${BENCH:-1}" = 1 ]; then
  ./build-gpu/tools/dgbench --json "$out/dgbench.jsonl" kernels 2>&1 | tee "$out/dgbench-kernels.txt"
  ./build-gpu/tools/dgbench --json "$out/dgbench.jsonl" train 2>&1 | tee "$out/dgbench-train.txt"
  ./build-gpu/tools/dgbench --json "$out/dgbench.jsonl" fid 2>&1 | tee "$out/dgbench-fid.txt"
fi
