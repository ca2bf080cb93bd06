// Softmax and fused softmax cross-entropy over the last dim, on the CPU.
//
// Per row n of logits x (C values), with m = max_c x_c (subtracted so no exp overflows):
//   s = sum_c exp(x_c - m),  p_c = exp(x_c - m) / s,
//   loss_n = -log p_label = log(s) - (x_label - m)     (never forms log of a tiny p)
//   dloss_mean / dx_c = (p_c - [c == label]) / N
// Shapes are checked by softmax.cpp; softmax_cuda.cu is the twin.
#include <cmath>
#include <vector>

#include "engine/cpu/parallel.h"
#include "kernels/softmax/softmax.h"
#include "engine/cpu/parallel.h"

namespace dg::cpu {

// exp(x_c - m) into e (C) and returns their sum; *argmax = the first index of the maximum.
static float row_exp(const float* x, int C, float* e, int* argmax) {
  int best = 0;
  for (int c = 1; c < C; c++)
    if (x[c] > x[best]) best = c;  // strictly greater: ties stay with the lowest index
  const float m = x[best];
  float s = 0.0f;
  for (int c = 0; c < C; c++) {
    e[c] = std::exp(x[c] - m);
    s += e[c];
  }
  *argmax = best;
  return s;
}

void softmax_forward(Context&, const Tensor& logits, Tensor probs) {
  const int N = logits.dim(0), C = logits.dim(1);
#pragma omp parallel for schedule(static) if (int64_t(N) * C >= kParallelMinWork)
  for (int n = 0; n < N; n++) {
    float* p = probs.data + int64_t(n) * C;
    int unused;
    const float s = row_exp(logits.data + int64_t(n) * C, C, p, &unused);
    for (int c = 0; c < C; c++) p[c] /= s;
  }
}

void softmax_cross_entropy(Context&, const Tensor& logits, const Tensor& labels, Tensor loss, Tensor dlogits,
                           Tensor correct) {
  const int N = logits.dim(0), C = logits.dim(1);
  for (int n = 0; n < N; n++) {
    const float l = labels.data[n];
    DG_CHECK(l >= 0.0f && l < float(C) && l == std::floor(l), "softmax_cross_entropy: label ", l, " at index ", n,
             " is not a class id in [0, ", C, ")");
  }
  std::vector<float> e(size_t(C), 0.0f);
  double sum = 0.0;
  int hits = 0;
  for (int n = 0; n < N; n++) {
    const float* x = logits.data + int64_t(n) * C;
    const int label = int(labels.data[n]);
    int argmax;
    const float s = row_exp(x, C, e.data(), &argmax);
    sum += double(std::log(s) - (x[label] - x[argmax]));  // x[argmax] is the row maximum m
    hits += argmax == label;
    if (dlogits.data) {
      float* d = dlogits.data + int64_t(n) * C;
      for (int c = 0; c < C; c++) d[c] = (e[c] / s - (c == label ? 1.0f : 0.0f)) / float(N);
    }
  }
  if (loss.data) loss.data[0] = float(sum / double(N));
  if (correct.data) correct.data[0] = float(hits);
}

}  // namespace dg::cpu
