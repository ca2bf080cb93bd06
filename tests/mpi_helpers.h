// What the 2-rank suites share (test_mpi_trainer on the CPU through MPI, test_gpu_mpi on the
// GPU through NCCL): a tiny model, per-rank images, and comparisons of state across ranks. The
// tensors may live on either device: they are downloaded before they are compared.
#pragma once
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "models/gan_trainer.h"

namespace dg::test {

inline TrainConfig tiny_config(int batch, int K, GLoss mode) {
  TrainConfig c;
  c.model.nz = 8;
  c.model.ngf = 4;
  c.model.ndf = 4;
  c.model.channels = 1;
  c.model.image_size = 32;
  c.discriminators = K;
  c.g_loss.mode = mode;
  c.batch_size = batch;
  c.seed = 7;
  return c;
}

// Images in [-1, 1] for `rows` rows starting at global row `first` of step `step`: a smooth
// pattern plus noise, so that different rows (and so different ranks) see different data.
inline void fill_images(Context& ctx, Tensor t, int64_t step, int first) {
  const int64_t per_row = t.numel() / t.n();
  std::vector<float> host(size_t(t.numel()));
  for (int r = 0; r < t.n(); r++)
    for (int64_t i = 0; i < per_row; i++) {
      const double u = std::sin(0.05 * double(i) * (1 + (first + r) % 5) + 0.3 * double(step));
      const double h = double((uint64_t(step * 131 + first + r) * 2654435761u + uint64_t(i) * 40503u) % 1000) / 1000.0;
      host[size_t(r * per_row + i)] = float(0.7 * u + 0.3 * (2 * h - 1));
    }
  ctx.upload(t, host.data());
}

inline int mpi_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}

inline std::vector<float> host_copy(Context& ctx, const Tensor& t) {
  std::vector<float> v(size_t(t.numel()));
  ctx.download(t, v.data());
  return v;
}

// True on every rank when every rank holds the same bits as rank 0.
inline bool same_on_every_rank(const float* data, int64_t n) {
  std::vector<float> root(data, data + n);
  MPI_Bcast(root.data(), int(n), MPI_FLOAT, 0, MPI_COMM_WORLD);
  int same = std::memcmp(root.data(), data, size_t(n) * sizeof(float)) == 0 ? 1 : 0, all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

// Parameters and both Adam moments of G and every D, on every rank.
inline bool same_state_on_every_rank(Context& ctx, GanTrainer& t) {
  bool same = true;
  auto check = [&](const ParamStore& p) {
    for (const Tensor& x : {p.params(), p.exp_avg(), p.exp_avg_sq()}) {
      const std::vector<float> h = host_copy(ctx, x);
      same = same_on_every_rank(h.data(), int64_t(h.size())) && same;
    }
  };
  check(t.generator().params);
  for (Network& d : t.discriminators()) check(d.params);
  return same;
}

// max |a - b| / (max |b| over the tensor): the error relative to the tensor's scale.
inline double relative_error(Context& ctx, const Tensor& a, const Tensor& b) {
  const std::vector<float> ha = host_copy(ctx, a), hb = host_copy(ctx, b);
  double diff = 0, scale = 0;
  for (size_t i = 0; i < ha.size(); i++) {
    diff = std::fmax(diff, std::fabs(double(ha[i]) - hb[i]));
    scale = std::fmax(scale, std::fabs(double(hb[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// The largest relative_error over G and every D between a and b: of the gradients (grads) or
// of the parameters.
inline double worst_error(Context& ctx, GanTrainer& a, GanTrainer& b, bool grads) {
  auto part = [&](Network& n) { return grads ? n.params.grads() : n.params.params(); };
  double worst = relative_error(ctx, part(a.generator()), part(b.generator()));
  for (size_t i = 0; i < a.discriminators().size(); i++)
    worst = std::fmax(worst, relative_error(ctx, part(a.discriminators()[i]), part(b.discriminators()[i])));
  return worst;
}

inline bool same_bits(Context& ctx, const Tensor& a, const Tensor& b) { return host_copy(ctx, a) == host_copy(ctx, b); }

}  // namespace dg::test
