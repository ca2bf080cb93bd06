// The K-discriminator generator loss (DESIGN §5) and the seed project's selection scores.
#pragma once
#include "kernels/op.h"

namespace dg {

// g_i(b) = BCEwithLogits(logits[i, b], 1) for discriminator i and sample b, L_i = mean_b g_i(b).
enum class GLoss { max, max_sample, mean, softmax, gman, seed };
const char* gloss_name(GLoss m);
struct GLossConfig {
  GLoss mode = GLoss::max;
  float lambda = 1.0f;  // softmax / gman temperature
};
constexpr int kMaxDiscriminators = 16;  // --discriminators; the CUDA kernel's shared arrays
// logits (K, B) -> loss (1) = L_G; dlogits (K, B) [overwrite] = dL_G / dlogits;
// selected (K) [accumulate]: how much each D was selected this step (1 for the chosen D in
// max/seed, the fraction of samples in max-sample, the weight w_i in softmax/gman, 1/K in
// mean). seed_scores (K): only for `seed`, the pre-update scores whose argmax picks the D.
// Ties go to the lowest index. Everything stays on the device.
// batch_means (K) [optional]: the L_i to select and weigh with instead of this batch's own
// (data-parallel training passes the means averaged over the ranks, so every rank makes the
// same choice); the reported loss is computed from them too. max-sample ignores them.
void generator_loss(Context& ctx, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores,
                    Tensor loss, Tensor dlogits, Tensor selected, const Tensor& batch_means = Tensor{});

// The seed project's selection scores for K = 2 (DESIGN §5 `seed`):
// scores[i] = real_loss[i] + fake_loss[1 - i], from the D step's pre-update losses (K each).
void seed_selection_scores(Context& ctx, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores);

}  // namespace dg
