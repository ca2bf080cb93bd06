// The generator loss's entries: shapes checked once, then the CPU body
// (generator_loss_cpu.cpp) or the one-block CUDA kernels (generator_loss_cuda.cu).
#include "kernels/generator_loss/generator_loss.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(generator_loss)
DG_OP_BODIES(seed_selection_scores)

const char* gloss_name(GLoss m) {
  switch (m) {
    case GLoss::max: return "max";
    case GLoss::max_sample: return "max-sample";
    case GLoss::mean: return "mean";
    case GLoss::softmax: return "softmax";
    case GLoss::gman: return "gman";
    case GLoss::seed: return "seed";
  }
  return "?";
}

void generator_loss(Context& ctx, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores,
                    Tensor loss, Tensor dlogits, Tensor selected, const Tensor& batch_means) {
  DG_CHECK(logits.shape.rank == 2, "generator_loss: logits must be (K, B), got ", logits.shape.str());
  const int K = logits.dim(0);
  DG_CHECK(K >= 1 && K <= kMaxDiscriminators, "generator_loss: K = ", K, " is out of range 1..", kMaxDiscriminators);
  check_shape(dlogits, logits.shape, "generator_loss dlogits");
  check_shape(loss, {1}, "generator_loss loss");
  DG_CHECK(!selected.data || selected.numel() == K, "generator_loss: selected must have K = ", K, " entries");
  DG_CHECK(cfg.mode != GLoss::seed || (seed_scores.data && seed_scores.numel() == K),
           "generator_loss: mode seed needs K = ", K, " seed scores");
  DG_CHECK(!batch_means.data || batch_means.numel() == K, "generator_loss: batch_means must have K = ", K,
           " entries");
  DG_DISPATCH(ctx, generator_loss(ctx, cfg, logits, seed_scores, loss, dlogits, selected, batch_means));
}

void seed_selection_scores(Context& ctx, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores) {
  DG_CHECK(real_loss.numel() == 2 && fake_loss.numel() == 2 && scores.numel() == 2,
           "the seed selection rule is defined for exactly 2 discriminators, got ", real_loss.numel());
  DG_DISPATCH(ctx, seed_selection_scores(ctx, real_loss, fake_loss, scores));
}

}  // namespace dg
