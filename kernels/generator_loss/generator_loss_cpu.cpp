// The K-discriminator generator loss on the CPU (DESIGN §5). Per sample b and D i:
//   g_i(b) = softplus(-x_ib)           (BCE with logits against target 1)
//   dg_i(b)/dx_ib = sigmoid(x_ib) - 1
// and the modes combine L_i = mean_b g_i(b):
//   max        L = L_s, s = argmax_i L_i           dL/dx_ib = [i = s] (sig - 1) / B
//   max_sample L = mean_b max_i g_i(b)             dL/dx_ib = [i = s_b] (sig - 1) / B
//   mean       L = mean_i L_i                      dL/dx_ib = (sig - 1) / (K B)
//   softmax    w = softmax(lambda L), held const   dL/dx_ib = w_i (sig - 1) / B
//   gman       L = sum_i w_i L_i, through w too    dL/dL_i = w_i (1 + lambda (L_i - L))
//   seed       like max, s = argmax of the pre-update seed_scores
#include <cmath>
#include <vector>

#include "kernels/bce/bce_math.h"
#include "kernels/generator_loss/generator_loss.h"

namespace dg::cpu {

static int argmax_lowest(const std::vector<double>& v) {
  int best = 0;
  for (int i = 1; i < int(v.size()); i++)
    if (v[i] > v[best]) best = i;
  return best;
}

void generator_loss(Context&, const GLossConfig& cfg, const Tensor& logits, const Tensor& seed_scores, Tensor loss,
                    Tensor dlogits, Tensor selected, const Tensor& batch_means) {
  const int K = logits.dim(0), B = logits.dim(1);
  // Per-sample losses and sigmoid(x) - 1 (bce_math.h).
  std::vector<double> g(size_t(K) * B), dg(size_t(K) * B), L(K, 0.0);
  for (int i = 0; i < K; i++)
    for (int b = 0; b < B; b++) {
      float loss_ib, grad_ib;
      bce::loss_and_grad(logits.data[i * B + b], 1.0f, &loss_ib, &grad_ib);
      g[i * B + b] = loss_ib;
      dg[i * B + b] = grad_ib;
      L[i] += g[i * B + b] / B;
    }
  if (batch_means.data)
    for (int i = 0; i < K; i++) L[i] = batch_means.data[i];

  std::vector<double> weight(K, 0.0);  // dL/dL_i for the per-D modes
  double total = 0.0;
  switch (cfg.mode) {
    case GLoss::max:
    case GLoss::seed: {
      std::vector<double> score(K);
      for (int i = 0; i < K; i++) score[i] = cfg.mode == GLoss::max ? L[i] : double(seed_scores.data[i]);
      const int s = argmax_lowest(score);
      weight[s] = 1.0;
      total = L[s];
      break;
    }
    case GLoss::mean:
      for (int i = 0; i < K; i++) {
        weight[i] = 1.0 / K;
        total += L[i] / K;
      }
      break;
    case GLoss::softmax:
    case GLoss::gman: {
      double top = L[argmax_lowest(L)], z = 0.0;
      for (int i = 0; i < K; i++) z += std::exp(cfg.lambda * (L[i] - top));
      for (int i = 0; i < K; i++) weight[i] = std::exp(cfg.lambda * (L[i] - top)) / z;
      for (int i = 0; i < K; i++) total += weight[i] * L[i];
      if (cfg.mode == GLoss::gman) {
        std::vector<double> w = weight;
        for (int i = 0; i < K; i++) weight[i] = w[i] * (1.0 + cfg.lambda * (L[i] - total));
        for (int i = 0; i < K; i++)
          if (selected.data) selected.data[i] += float(w[i]);
      }
      break;
    }
    case GLoss::max_sample: {
      for (int b = 0; b < B; b++) {
        int s = 0;
        for (int i = 1; i < K; i++)
          if (g[i * B + b] > g[s * B + b]) s = i;
        total += g[s * B + b] / B;
        for (int i = 0; i < K; i++) dlogits.data[i * B + b] = i == s ? float(dg[i * B + b] / B) : 0.0f;
        if (selected.data) selected.data[s] += 1.0f / B;
      }
      loss.data[0] = float(total);
      return;
    }
  }
  for (int i = 0; i < K; i++)
    for (int b = 0; b < B; b++) dlogits.data[i * B + b] = float(weight[i] * dg[i * B + b] / B);
  if (selected.data && cfg.mode != GLoss::gman)
    for (int i = 0; i < K; i++) selected.data[i] += float(weight[i]);
  loss.data[0] = float(total);
}

void seed_selection_scores(Context&, const Tensor& real_loss, const Tensor& fake_loss, Tensor scores) {
  scores.data[0] = real_loss.data[0] + fake_loss.data[1];
  scores.data[1] = real_loss.data[1] + fake_loss.data[0];
}

}  // namespace dg::cpu
