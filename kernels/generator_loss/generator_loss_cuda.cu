// The K-discriminator generator loss (DESIGN §5) and the seed selection scores on the device.
// Each runs as a single block: B and K are small (a batch of logits), and one block gives a
// fixed reduction order, so results do not depend on timing. The formulas, mode by mode:
// generator_loss_cpu.cpp; per logit: kernels/bce/bce_math.h.
#include "engine/cuda/cuda_check.h"
#include "engine/cuda/cuda_context.h"
#include "kernels/bce/bce_math.h"
#include "kernels/block_sum.cuh"
#include "kernels/generator_loss/generator_loss.h"
#include "kernels/launch.cuh"

namespace dg::cuda {

constexpr int kThreads = 256;

// The D with the largest loss on sample b (ties: the lowest index), and that loss.
static __device__ int worst_discriminator(const float* logits, int K, int B, int b, float* worst_loss) {
  int s = 0;
  float g;
  bce::loss_and_grad(logits[b], 1.0f, worst_loss, &g);
  for (int i = 1; i < K; i++) {
    float l;
    bce::loss_and_grad(logits[i * B + b], 1.0f, &l, &g);
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
  __shared__ double L[kMaxDiscriminators], weight[kMaxDiscriminators];
  for (int i = 0; i < K; i++) {
    double sum = 0.0;
    for (int b = threadIdx.x; b < B; b += blockDim.x) {
      float l, g;
      bce::loss_and_grad(logits[i * B + b], 1.0f, &l, &g);
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
        bce::loss_and_grad(logits[i * B + b], 1.0f, &l, &g);
        dlogits[i * B + b] = i == s ? fp::div(g, float(B)) : 0.0f;
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
          const float one_sample = fp::div(1.0f, float(B));
          float s = selected[i];
          for (int64_t j = 0; j < int64_t(count); j++) s = fp::add(s, one_sample);
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
      bce::loss_and_grad(logits[i * B + b], 1.0f, &l, &g);
      dlogits[i * B + b] = float(weight[i] * double(g) / double(B));
    }
}

void generator_loss(Context& ctx, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores,
                    Tensor loss, Tensor dlogits, Tensor selected, const Tensor& batch_means) {
  const int K = logits.dim(0), B = logits.dim(1);
  DG_LAUNCH(generator_loss_kernel, 1, kThreads, 0, ctx.cuda().stream, int(cfg.mode), cfg.lambda, logits.data, K, B,
            seed_scores.data, loss.data, dlogits.data, selected.data, batch_means.data);
  DG_CUDA_CHECK_LAUNCH();
}

static __global__ void seed_scores_kernel(const float* real_loss, const float* fake_loss, float* scores) {
  scores[0] = real_loss[0] + fake_loss[1];
  scores[1] = real_loss[1] + fake_loss[0];
}

void seed_selection_scores(Context& ctx, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores) {
  DG_LAUNCH(seed_scores_kernel, 1, 1, 0, ctx.cuda().stream, real_loss.data, fake_loss.data, scores.data);
  DG_CUDA_CHECK_LAUNCH();
}

}  // namespace dg::cuda
