#!/usr/bin/env bash
# Breaks dg's CUDA code on purpose, one fault at a time, and checks that the gpu tests under the
# emulator catch each (issue: "break dg itself and show the gpu tests fail"). Works in a scratch
# clone (never in this tree), reusing one emulator build; prints a table of fault -> failing tests.
#   bash tools/emu-mutations.sh [scratch-dir] [fault-regex]   (default /tmp/dg-mutations, every
#   fault; ~20 min on 2 cores). fault-regex: only the faults whose names match (grep -E).
# Each mutation: file, a Python regex to replace (exactly once), the replacement, the ctest -R
# filter of the tests to run, and the DGEMU_ORDER values to run them in.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/tmp/dg-mutations}
only=${2:-.}
rm -rf "$dir" && git clone -q "$src" "$dir" && cd "$dir" || exit 1
cmake -S . -B build -G Ninja -DDG_CUDA=EMU -DDG_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null || exit 1
cmake --build build -j2 --target gpu_tests > /dev/null || exit 1

mutate() {  # file pattern replacement
  python3 - "$@" <<'EOF'
import re, sys
path, pattern, repl = sys.argv[1:4]
text = open(path).read()
new, n = re.subn(pattern, repl, text, count=1, flags=re.S)
if n != 1:
    sys.exit(f"mutation pattern not found in {path}: {pattern}")
open(path, "w").write(new)
EOF
}

run() {  # name file pattern replacement test-filter orders...
  local name=$1 file=$2 pattern=$3 repl=$4 filter=$5
  shift 5
  echo "$name" | grep -qE "$only" || return 0
  mutate "$file" "$pattern" "$repl" || { echo "| $name | mutation did not apply |"; return; }
  local failed=""
  if cmake --build build -j2 --target gpu_tests > "build/mutation.log" 2>&1; then
    for order in "$@"; do
      out=$(DGEMU_ORDER=$order ctest --test-dir build -R "$filter" -j2 2>&1)
      failed+="$order: $(echo "$out" | grep -E '^[0-9]+% tests passed' | sed 's/tests passed, //') $(echo "$out" | grep -cE '\(Failed\)|\(Subprocess aborted\)|\(Timeout\)') failed; "
    done
  else
    failed="does not build"
  fi
  echo "| $name | \`$file\` | $failed |"
  git checkout -q -- "$file"
}

echo "| fault | file | gpu tests under the emulator |"
echo "|---|---|---|"
run "block_sum without the barrier after the warps' partial sums are stored" kernels/block_sum.cuh \
  'if \(lane == 0\) shared\[warp\] = v;\n  __syncthreads\(\);' 'if (lane == 0) shared[warp] = v;' \
  'test_gpu/cuda (batchnorm|generator loss|activations|BCE|softmax)' forward reverse
run "block_sum without the barrier that protects shared from the previous call" kernels/block_sum.cuh \
  '  __syncthreads\(\);  // `shared` may still be read by a previous call\n' '' \
  'test_gpu/cuda (batchnorm|generator loss|activations|BCE|softmax)' forward reverse
run "the compute stream does not wait for NCCL's means before the Adam step" engine/comm/nccl_communicator.cpp \
  'if \(!pending_\) return;\n    compute_waits\(ctx\);' 'if (!pending_) return;' \
  'test_gpu_mpi|test_gpu_nccl' forward reverse
run "conv backward-filter overwrites the gradient (beta 0) instead of accumulating" kernels/conv/conv_cudnn.cu \
  '(const float one = 1\.0f;)(\n  DG_CUDNN_CHECK\(cudnnConvolutionBackwardFilter.*?)&one, d\.filter, dw\.data\)\);' \
  '\1 const float zero = 0.0f;\2&zero, d.filter, dw.data));' \
  'test_gpu/(cuda conv2d|a whole)' forward
run "linear backward-data reads w transposed" kernels/linear/linear_cublas.cu \
  'CUBLAS_OP_N, CUBLAS_OP_N, d.I, d.N, d.O, &one, w.data, d.I' 'CUBLAS_OP_T, CUBLAS_OP_N, d.I, d.N, d.O, &one, w.data, d.O' \
  'test_gpu/cuda linear' forward
run "batchnorm backward writes one sample past its slice (n <= n1)" kernels/batchnorm/batchnorm_cuda.cu \
  'for \(ChannelCursor it\(P, sl.n0\); it.n < sl.n1; it.next\(\)\) \{\n    const int64_t i = it.index\(c, C\);\n    const float xhat = __fmul_rn\(__fsub_rn\(x\[i\], mean\), invstd\);\n    const float g = bn_grad_at_z\(act, dy\[i\], xhat, gm, bt\);\n    dx\[i\]' \
  'for (ChannelCursor it(P, sl.n0); it.n <= sl.n1; it.next()) {\n    const int64_t i = it.index(c, C);\n    const float xhat = __fmul_rn(__fsub_rn(x[i], mean), invstd);\n    const float g = bn_grad_at_z(act, dy[i], xhat, gm, bt);\n    dx[i]' \
  'test_gpu/cuda batchnorm' forward
run "the non-finite check reads its shared flag before thread 0 cleared it" kernels/elementwise/elementwise_cuda.cu \
  'if \(threadIdx.x == 0\) bad = 0;\n  __syncthreads\(\);' 'if (threadIdx.x == 0) bad = 0;' \
  'test_gpu/cuda record_nonfinite' forward reverse
run "the compute stream does not wait for the batch's copy" engine/cuda/batch_staging.cu \
  '  DG_CUDA_CHECK\(cudaStreamWaitEvent\(cuda_.stream, copied_\[slot\], 0\)\);\n' '' \
  'test_gpu/(batches uploaded|training steps fed)' forward reverse
run "a staging buffer is refilled before the compute stream moved it out" engine/cuda/batch_staging.cu \
  '  if \(uploads_ >= 2\) DG_CUDA_CHECK\(cudaStreamWaitEvent\(copy_stream_, consumed_\[slot\], 0\)\);\n' '' \
  'test_gpu/(batches uploaded|training steps fed)' forward reverse
run "the host refills a pinned buffer before its copy ran" engine/cuda/batch_staging.cu \
  '  if \(uploads_ >= 2\) DG_CUDA_CHECK\(cudaEventSynchronize\(copied_\[slot\]\)\);\n' '' \
  'test_gpu/(batches uploaded|training steps fed)' forward reverse
run "split batchnorm combines one slice too few" kernels/batchnorm/batchnorm_cuda.cu \
  'for \(int s = 1; s < S; s\+\+\) sum \+= partial\[r \* S \+ s\];' 'for (int s = 1; s < S - 1; s++) sum += partial[r * S + s];' \
  'test_gpu/cuda batchnorm|test_gpu_nccl' forward
run "Adam's step given by the host (frozen into a captured graph)" models/gan_trainer.cpp \
  'StepIndex::counted\(step_count_\), p.params\(\)' 'StepIndex{step_}, p.params()' \
  'test_gpu/.*CUDA graph|test_gpu_mpi/.*CUDA graph' forward
run "the training noise's offset given by the host (frozen into a captured graph)" models/gan_trainer.cpp \
  'RngOffset\(rank \* row, step, W \* row\)' 'RngOffset(rank * row, StepIndex{step_}, W * row)' \
  'test_gpu/.*CUDA graph|test_gpu_mpi/.*CUDA graph' forward
run "the step counter never advances" models/gan_trainer.cpp \
  '  count_step\(ctx_, step_count_\);\n' '' \
  'test_gpu_dgtrain' forward
