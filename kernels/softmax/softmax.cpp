// The softmax entries: shapes checked once, then the CPU body (softmax_cpu.cpp) or the CUDA
// kernels (softmax_cuda.cu).
#include "kernels/softmax/softmax.h"

#include "engine/dispatch.h"

namespace dg {
DG_OP_BODIES(softmax_forward)
DG_OP_BODIES(softmax_cross_entropy)

void softmax_forward(Context& ctx, const Tensor& logits, Tensor probs) {
  DG_CHECK(logits.shape.rank == 2, "softmax_forward: logits must be (N, C), got ", logits.shape.str());
  check_shape(probs, logits.shape, "softmax_forward probs");
  DG_DISPATCH(ctx, softmax_forward(ctx, logits, probs));
}

// logits (N, C), labels (N), loss/correct (1), dlogits like logits (each optional but the
// logits and labels).
void softmax_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor loss, Tensor dlogits,
                           Tensor correct) {
  DG_CHECK(logits.shape.rank == 2 && logits.numel() > 0, "softmax_cross_entropy: logits must be (N, C), got ",
           logits.shape.str());
  DG_CHECK(labels.numel() == logits.dim(0), "softmax_cross_entropy: ", labels.numel(), " labels for ",
           logits.dim(0), " rows of logits");
  DG_CHECK(!loss.data || loss.numel() == 1, "softmax_cross_entropy: loss must have 1 element");
  DG_CHECK(!correct.data || correct.numel() == 1, "softmax_cross_entropy: correct must have 1 element");
  if (dlogits.data) check_shape(dlogits, logits.shape, "softmax_cross_entropy dlogits");
  DG_DISPATCH(ctx, softmax_cross_entropy(ctx, logits, labels, loss, dlogits, correct));
}

}  // namespace dg
