// Softmax and fused softmax cross-entropy on the GPU: one warp per row of logits (a row
// is a handful of classes: lanes stride over it, warp shuffles reduce it). Formulas:
// kernels/softmax/softmax_cpu.cpp.
//
// A label that is not an integer in [0, C) cannot be reported without a host round trip,
// so it poisons instead: its row's loss and dlogits are NaN (the mean loss turns NaN, which
// a run's non-finite check catches) and the row never counts as correct.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/block_sum.cuh"
#include "kernels/launch.cuh"
#include "kernels/softmax/softmax.h"

namespace dg::cuda {

using kernels::check_on_device;

constexpr int kThreads = 256;  // 8 warps

// The row's maximum and its first index, on every lane of the warp.
static __device__ void warp_argmax(const float* x, int C, float* best, int* best_index) {
  float m = -INFINITY;
  int idx = C;  // "none yet": loses every tie
  for (int c = threadIdx.x % 32; c < C; c += 32)
    if (idx == C || x[c] > m) {  // a lane scans ascending: strictly greater keeps the lower index
      m = x[c];
      idx = c;
    }
  for (int off = 16; off > 0; off >>= 1) {
    const float om = __shfl_xor_sync(0xffffffffu, m, off);
    const int oi = __shfl_xor_sync(0xffffffffu, idx, off);
    if (oi != C && (idx == C || om > m || (om == m && oi < idx))) {
      m = om;
      idx = oi;
    }
  }
  *best = m;
  *best_index = idx;
}

// s = sum_c exp(x_c - m) over the row, on every lane.
static __device__ float warp_exp_sum(const float* x, int C, float m) {
  float s = 0.0f;
  for (int c = threadIdx.x % 32; c < C; c += 32) s += expf(x[c] - m);
  for (int off = 16; off > 0; off >>= 1) s += __shfl_xor_sync(0xffffffffu, s, off);
  return s;
}

// Grid of warps, one row each.
static __global__ void softmax_kernel(const float* logits, int N, int C, float* probs) {
  const int row = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  if (row >= N) return;  // whole warps leave together
  const float* x = logits + int64_t(row) * C;
  float m;
  int unused;
  warp_argmax(x, C, &m, &unused);
  const float s = warp_exp_sum(x, C, m);
  for (int c = threadIdx.x % 32; c < C; c += 32) probs[int64_t(row) * C + c] = expf(x[c] - m) / s;
}

void softmax_forward(Context& ctx, const Tensor& logits, Tensor probs) {
  check_on_device(logits, "softmax_forward");
  check_on_device(probs, "softmax_forward");
  const int N = logits.dim(0), C = logits.dim(1);
  if (N == 0) return;
  const int blocks = int((int64_t(N) * 32 + kThreads - 1) / kThreads);
  DG_LAUNCH(softmax_kernel, blocks, kThreads, 0, ctx.cuda().stream, logits.data, N, C, probs.data);
  DG_CUDA_CHECK_LAUNCH();
}

// One block (the mean and the count need one fixed reduction order): warp w takes rows
// w, w + 8, ...; lane 0 of each warp accumulates its rows' losses, then a block sum.
static __global__ void softmax_ce_kernel(const float* logits, const float* labels, int N, int C, float* loss,
                                         float* dlogits, float* correct) {
  __shared__ double shared[32];
  const int warp = threadIdx.x / 32, warps = blockDim.x / 32, lane = threadIdx.x % 32;
  double loss_sum = 0.0, hits = 0.0;
  for (int row = warp; row < N; row += warps) {
    const float* x = logits + int64_t(row) * C;
    const float l = labels[row];
    const bool valid = l >= 0.0f && l < float(C) && l == floorf(l);  // NaN fails every test
    const int label = valid ? int(l) : 0;
    float m;
    int argmax;
    warp_argmax(x, C, &m, &argmax);
    const float s = warp_exp_sum(x, C, m);
    if (lane == 0) {
      loss_sum += valid ? double(logf(s) - (x[label] - m)) : double(NAN);
      hits += valid && argmax == label ? 1.0 : 0.0;
    }
    if (dlogits)
      for (int c = lane; c < C; c += 32) {
        const float p = expf(x[c] - m) / s;
        dlogits[int64_t(row) * C + c] = valid ? (p - (c == label ? 1.0f : 0.0f)) / float(N) : NAN;
      }
  }
  loss_sum = kernels::block_sum(loss_sum, shared);
  hits = kernels::block_sum(hits, shared);  // exact: a sum of ones
  if (threadIdx.x == 0) {
    if (loss) loss[0] = float(loss_sum / double(N));
    if (correct) correct[0] = float(hits);
  }
}

void softmax_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor loss, Tensor dlogits,
                           Tensor correct) {
  for (const Tensor& t : {logits, labels, loss, dlogits, correct}) check_on_device(t, "softmax_cross_entropy");
  const int N = logits.dim(0), C = logits.dim(1);
  DG_LAUNCH(softmax_ce_kernel, 1, kThreads, 0, ctx.cuda().stream, logits.data, labels.data, N, C, loss.data,
            dlogits.data, correct.data);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
