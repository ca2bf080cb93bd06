// Loss kernels on the device: fused BCE-with-logits, the K-discriminator generator loss
// (DESIGN §5) and the seed selection scores. Each runs as a single block: B and K are
// small (a batch of logits), and one block gives a fixed reduction order, so results do not
// depend on timing. Formulas: engine/cpu/bce.cpp and engine/cpu/generator_loss.cpp.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_ops.h"
#include "kernels/activation_math.cuh"
#include "kernels/launch.cuh"

namespace dg::cuda {

constexpr int kThreads = 256;
constexpr int kMaxK = 16;  // --discriminators is at most 16

// BCE(x, t) = max(x, 0) - x t + log(1 + e) and dBCE/dx = sigmoid(x) - t, from e = exp(-|x|),
// never overflowing. Rounded step by step in the CPU's order (_rn: no fma contraction).
__device__ __forceinline__ void bce_and_grad(float x, float t, float* loss, float* grad) {
  const float e = expf(-fabsf(x));
  *loss = __fadd_rn(__fsub_rn(fmaxf(x, 0.0f), __fmul_rn(x, t)), log1pf(e));
  const float sig = x >= 0.0f ? __fdiv_rn(1.0f, __fadd_rn(1.0f, e)) : __fdiv_rn(e, __fadd_rn(1.0f, e));
  *grad = __fsub_rn(sig, t);
}

static __global__ void bce_kernel(const float* logits, int B, float target, float* per_sample, float* mean,
                                  float* dlogits, float grad_scale) {
  __shared__ double shared[32];
  double sum = 0.0;
  for (int b = threadIdx.x; b < B; b += blockDim.x) {
    float loss, grad;
    bce_and_grad(logits[b], target, &loss, &grad);
    if (per_sample) per_sample[b] = loss;
    if (dlogits) dlogits[b] = __fdiv_rn(__fmul_rn(grad_scale, grad), float(B));
    sum += loss;
  }
  sum = kernels::block_sum(sum, shared);
  if (threadIdx.x == 0 && mean) mean[0] = float(sum / double(B));
}

void bce_with_logits(Context& ctx, const Tensor& logits, float target, Tensor per_sample, Tensor mean,
                     Tensor dlogits, float grad_scale) {
  const int64_t B = logits.numel();
  DG_CHECK(B > 0 && B < (int64_t(1) << 31), "bce_with_logits: bad logit count ", B);
  DG_CHECK(!per_sample.data || per_sample.numel() == B, "bce_with_logits: per_sample has ", per_sample.numel(),
           " elements for ", B, " logits");
  DG_CHECK(!dlogits.data || dlogits.numel() == B, "bce_with_logits: dlogits has ", dlogits.numel(), " elements for ",
           B, " logits");
  DG_CHECK(!mean.data || mean.numel() == 1, "bce_with_logits: mean must have 1 element");
  DG_LAUNCH(bce_kernel, 1, kThreads, 0, ctx.cuda().stream, logits.data, int(B), target, per_sample.data, mean.data,
            dlogits.data, grad_scale);
  DG_CUDA_CHECK_LAUNCH();
}

// The D with the largest loss on sample b (ties: the lowest index), and that loss.
static __device__ int worst_discriminator(const float* logits, int K, int B, int b, float* worst_loss) {
  int s = 0;
  float g;
  bce_and_grad(logits[b], 1.0f, worst_loss, &g);
  for (int i = 1; i < K; i++) {
    float l;
    bce_and_grad(logits[i * B + b], 1.0f, &l, &g);
    if (l > *worst_loss) {  // strictly greater: ties stay with the lowest index
      *worst_loss = l;
      s = i;
    }
  }
  return s;
}

// One block. Phase 1: per-D mean losses L_i. Phase 2 (thread 0): the weight dL/dL_i of each
// D and the loss. Phase 3: dlogits. max_sample routes per sample instead.
static __global__ void generator_loss_kernel(int mode, float lambda, const float* logits, int K, int B,
                                             const float* seed_scores, float* loss, float* dlogits, float* selected,
                                             const float* batch_means) {
  __shared__ double shared[32];
  __shared__ double L[kMaxK], weight[kMaxK];
  for (int i = 0; i < K; i++) {
    double sum = 0.0;
    for (int b = threadIdx.x; b < B; b += blockDim.x) {
      float l, g;
      bce_and_grad(logits[i * B + b], 1.0f, &l, &g);
      sum += l;
    }
    sum = kernels::block_sum(sum, shared);
    if (threadIdx.x == 0) L[i] = batch_means ? double(batch_means[i]) : sum / double(B);
  }
  __syncthreads();

  if (mode == int(GLoss::max_sample)) {
    double total = 0.0;
    for (int b = threadIdx.x; b < B; b += blockDim.x) {
      float worst_loss;
      const int s = worst_discriminator(logits, K, B, b, &worst_loss);
      total += worst_loss;
      for (int i = 0; i < K; i++) {
        float l, g;
        bce_and_grad(logits[i * B + b], 1.0f, &l, &g);
        dlogits[i * B + b] = i == s ? __fdiv_rn(g, float(B)) : 0.0f;
      }
    }
    total = kernels::block_sum(total, shared);
    if (threadIdx.x == 0) loss[0] = float(total / double(B));
    if (selected)  // per D, the fraction of samples whose maximum it was
      for (int i = 0; i < K; i++) {
        double count = 0.0;
        for (int b = threadIdx.x; b < B; b += blockDim.x) {
          float unused;
          count += worst_discriminator(logits, K, B, b, &unused) == i ? 1.0 : 0.0;
        }
        count = kernels::block_sum(count, shared);  // exact: a sum of at most 2^31 ones
        // The CPU adds 1/B once per selected sample, in float; repeating those additions
        // (count of them, at most B in all) gives its rounding exactly, not just count / B.
        if (threadIdx.x == 0) {
          const float one_sample = __fdiv_rn(1.0f, float(B));
          float s = selected[i];
          for (int64_t j = 0; j < int64_t(count); j++) s = __fadd_rn(s, one_sample);
          selected[i] = s;
        }
      }
    return;
  }

  if (threadIdx.x == 0) {
    double total = 0.0;
    if (mode == int(GLoss::max) || mode == int(GLoss::seed)) {
      int s = 0;
      for (int i = 1; i < K; i++) {
        const double si = mode == int(GLoss::max) ? L[i] : double(seed_scores[i]);
        const double ss = mode == int(GLoss::max) ? L[s] : double(seed_scores[s]);
        if (si > ss) s = i;
      }
      for (int i = 0; i < K; i++) weight[i] = i == s ? 1.0 : 0.0;
      total = L[s];
    } else if (mode == int(GLoss::mean)) {
      for (int i = 0; i < K; i++) {
        weight[i] = 1.0 / K;
        total += L[i] / K;
      }
    } else {  // softmax, gman: w = softmax(lambda L)
      double top = L[0], z = 0.0;
      for (int i = 1; i < K; i++) top = L[i] > top ? L[i] : top;
      for (int i = 0; i < K; i++) z += exp(lambda * (L[i] - top));
      for (int i = 0; i < K; i++) weight[i] = exp(lambda * (L[i] - top)) / z;
      for (int i = 0; i < K; i++) total += weight[i] * L[i];
      if (selected)
        for (int i = 0; i < K; i++) selected[i] += float(weight[i]);
      if (mode == int(GLoss::gman))  // the gradient also flows through the weights
        for (int i = 0; i < K; i++) weight[i] = weight[i] * (1.0 + lambda * (L[i] - total));
    }
    if (selected && mode != int(GLoss::softmax) && mode != int(GLoss::gman))
      for (int i = 0; i < K; i++) selected[i] += float(weight[i]);
    loss[0] = float(total);
  }
  __syncthreads();
  for (int i = 0; i < K; i++)
    for (int b = threadIdx.x; b < B; b += blockDim.x) {
      float l, g;
      bce_and_grad(logits[i * B + b], 1.0f, &l, &g);
      dlogits[i * B + b] = float(weight[i] * double(g) / double(B));
    }
}

void generator_loss(Context& ctx, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores,
                    Tensor loss, Tensor dlogits, Tensor selected, const Tensor& batch_means) {
  DG_CHECK(logits.shape.rank == 2, "generator_loss: logits must be (K, B), got ", logits.shape.str());
  const int K = logits.dim(0), B = logits.dim(1);
  DG_CHECK(K >= 1 && K <= kMaxK, "generator_loss: K = ", K, " is out of range 1..", kMaxK);
  check_shape(dlogits, logits.shape, "generator_loss dlogits");
  check_shape(loss, {1}, "generator_loss loss");
  DG_CHECK(!selected.data || selected.numel() == K, "generator_loss: selected must have K = ", K, " entries");
  DG_CHECK(cfg.mode != GLoss::seed || (seed_scores.data && seed_scores.numel() == K),
           "generator_loss: mode seed needs K = ", K, " seed scores");
  DG_CHECK(!batch_means.data || batch_means.numel() == K, "generator_loss: batch_means must have K = ", K,
           " entries");
  DG_LAUNCH(generator_loss_kernel, 1, kThreads, 0, ctx.cuda().stream, int(cfg.mode), cfg.lambda, logits.data, K, B,
            seed_scores.data, loss.data, dlogits.data, selected.data, batch_means.data);
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void seed_scores_kernel(const float* real_loss, const float* fake_loss, float* scores) {
  scores[0] = real_loss[0] + fake_loss[1];
  scores[1] = real_loss[1] + fake_loss[0];
}

void seed_selection_scores(Context& ctx, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores) {
  DG_CHECK(real_loss.numel() == 2 && fake_loss.numel() == 2 && scores.numel() == 2,
           "the seed selection rule is defined for exactly 2 discriminators, got ", real_loss.numel());
  DG_LAUNCH(seed_scores_kernel, 1, 1, 0, ctx.cuda().stream, real_loss.data, fake_loss.data, scores.data);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
