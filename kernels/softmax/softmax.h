// Softmax and fused softmax cross-entropy over the last dim (the feature classifier's head).
#pragma once
#include "kernels/op.h"

namespace dg {

// logits (N, C) -> probs (N, C), numerically stable (the row maximum is subtracted first).
void softmax_forward(Context& ctx, const Tensor& logits, Tensor probs);
// labels (N) hold class ids as floats. loss (1) = mean_n -log softmax(logits_n)[label_n];
// dlogits (N, C) [overwrite, optional] = (softmax - onehot) / N; correct (1) [optional] =
// the number of rows whose argmax (ties to the lowest index) equals the label.
// loss may be empty too. A label that is not an integer in [0, C): on the CPU a dg::Error
// naming the value and its index; on CUDA (no host round trip) that row's loss and
// dlogits are NaN, so the mean loss is NaN, and the row is not counted as correct.
void softmax_cross_entropy(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor loss, Tensor dlogits,
                           Tensor correct);

}  // namespace dg
