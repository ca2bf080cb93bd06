// cuDNN convolutions against the CPU reference: strict FP32, TF32, odd shapes, unaligned slices.
// Tolerances: tests/gpu_twin.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/conv/conv.h"
#include "engine/cuda/cuda_context.h"
#include "tests/gpu_twin.h"

using namespace dg;
using dg::test::gpu;
using dg::test::Twin;

namespace {

struct ConvCase {
  int N, C, O, H, K, stride, pad;
};
const ConvCase kConvCases[] = {{1, 3, 5, 7, 4, 2, 1}, {2, 5, 3, 6, 2, 1, 0}, {3, 2, 7, 9, 4, 1, 1},
                               {4, 64, 128, 16, 4, 2, 1}, {2, 6, 1, 4, 4, 1, 0}};

// Forward, backward-data and backward-filter of one kind on both sides of the twin, each result
// within tol of the CPU's: x, w -> y; dy, w -> dx; x, dy -> dw (dw accumulates).
void check_ops(Twin& t, const ConvOps& op, ConvGeom g, const Twin::Pair& x, const Twin::Pair& w,
               const Twin::Pair& dy, const Twin::Pair& y, const Twin::Pair& dx, const Twin::Pair& dw, double tol) {
  t.both([&](Context& ctx) {
    op.forward(ctx, x.on(ctx), w.on(ctx), g, y.on(ctx));
    op.backward_data(ctx, dy.on(ctx), w.on(ctx), g, dx.on(ctx));
    op.backward_filter(ctx, x.on(ctx), dy.on(ctx), g, dw.on(ctx));
  });
  CHECK(t.error(y) < tol);
  CHECK(t.error(dx) < tol);
  CHECK(t.error(dw) < tol);
}

void check_convs(bool strict, double tol) {
  for (const ConvCase& c : kConvCases) {
    CAPTURE(c.N);
    CAPTURE(c.C);
    CAPTURE(c.H);
    Twin t(strict);
    ConvGeom g{c.stride, c.pad};
    const int Ho = conv_out_size(c.H, c.K, g);
    auto x = t.random({c.N, c.C, c.H, c.H}, 1), w = t.random({c.O, c.C, c.K, c.K}, 2, 0.3f);
    auto y = t.empty({c.N, c.O, Ho, Ho}), dy = t.random({c.N, c.O, Ho, Ho}, 3);
    auto dx = t.empty(x.c.shape), dw = t.random(w.c.shape, 4);  // dw starts non-zero: it must accumulate
    check_ops(t, conv_ops(false), g, x, w, dy, y, dx, dw, tol);
    // The transposed convolution on the same shapes, roles swapped.
    const int Ht = conv_transpose_out_size(c.H, c.K, g);
    if (Ht <= 0) continue;
    auto wt = t.random({c.C, c.O, c.K, c.K}, 5, 0.3f);
    auto yt = t.empty({c.N, c.O, Ht, Ht}), dyt = t.random({c.N, c.O, Ht, Ht}, 6);
    auto dxt = t.empty(x.c.shape), dwt = t.random(wt.c.shape, 7);
    check_ops(t, conv_ops(true), g, x, wt, dyt, yt, dxt, dwt, tol);
  }
}


}  // namespace

TEST_CASE("cuda conv2d with rectangular kernels and one-axis padding matches the CPU") {
  Twin t(true);
  for (int vertical = 0; vertical < 2; vertical++) {
    const int KH = vertical ? 7 : 1, KW = vertical ? 1 : 7;
    ConvGeom g{1, vertical ? 3 : 0, vertical ? 0 : 3};
    auto x = t.random({2, 5, 17, 13}, 1), w = t.random({6, 5, KH, KW}, 2, 0.3f);
    auto y = t.empty({2, 6, 17, 13}), dy = t.random({2, 6, 17, 13}, 3);
    auto dx = t.empty(x.c.shape), dw = t.random(w.c.shape, 4);
    check_ops(t, conv_ops(false), g, x, w, dy, y, dx, dw, 1e-5);
  }
}

TEST_CASE("cuda conv2d and conv_transpose2d match the CPU in strict FP32") { check_convs(true, 1e-5); }

TEST_CASE("cuda conv2d and conv_transpose2d match the CPU with TF32") { check_convs(false, 5e-3); }

// The generator step hands D's last convolution D_i's logit gradients as dlogits.slice(i * B):
// with B not a multiple of 4 they start 4 or 8 bytes past a 16-byte boundary. An algorithm
// found on aligned buffers (the discriminator step's) must not be reused there blindly: cuDNN's
// Find offers only algorithms that work on the buffers it was handed.
TEST_CASE("convolutions searched on aligned buffers also run on slices at a 4-byte offset") {
  [[maybe_unused]] int aligned_only = 0;  // searches that chose an algorithm needing aligned buffers (emulator)
  for (bool strict : {true, false}) {
    CAPTURE(strict);
    Twin t(strict);
    // A device copy of `p` starting 4 bytes into a fresh buffer.
    auto shifted = [&](const Twin::Pair& p) {
      Tensor room = t.dev.alloc({int(p.c.numel() + 1)});
      Tensor v = room.slice(1, p.c.shape);
      t.dev.upload(v, p.c.data);
      return Twin::Pair{p.c, v};
    };
    const double tol = strict ? 1e-5 : 5e-3;
    for (int C : {3, 4, 8, 16}) {
      CAPTURE(C);
      ConvGeom g{1, 1};
      auto x = t.random({2, C, 9, 9}, 1), w = t.random({5, C, 3, 3}, 2, 0.3f), dy = t.random({2, 5, 9, 9}, 3);
      auto y = t.empty({2, 5, 9, 9}), dx = t.empty(x.c.shape), dw = t.zeros(w.c.shape);
      conv2d_forward(t.dev, x.g, w.g, g, y.g);  // the searches, on aligned buffers
      conv2d_backward_data(t.dev, dy.g, w.g, g, dx.g);
      conv2d_backward_filter(t.dev, x.g, dy.g, g, dw.g);
#ifdef DG_CUDA_EMU
      // The emulator's algorithms that need 16-byte aligned buffers (tests/emu/src/cudnn_conv.cpp):
      // FFT, Winograd and precomputed GEMM. One of them must have been chosen on the aligned
      // buffers, or the shifted runs below would prove nothing.
      for (const auto& [key, a] : t.dev.cuda().conv_algos) {
        const bool fwd = key.rfind("fwd", 0) == 0, data = key.rfind("bwd-data", 0) == 0;
        const std::vector<int> need = fwd ? std::vector<int>{1, 4, 5, 6, 7}
                                          : data ? std::vector<int>{2, 3, 5} : std::vector<int>{2, 5, 6};
        aligned_only += std::find(need.begin(), need.end(), a.algo) != need.end();
      }
#endif
      auto xs = shifted(x), dys = shifted(dy), ys = shifted(y), dxs = shifted(dx), dws = shifted(dw);
      t.cpu.fill(dw.c, 0.0f);
      t.dev.fill(dws.g, 0.0f);
      check_ops(t, conv_ops(false), g, xs, w, dys, ys, dxs, dws, tol);
    }
  }
#ifdef DG_CUDA_EMU
  MESSAGE(aligned_only, " searches chose an algorithm that needs aligned buffers");
  CHECK(aligned_only > 0);
#endif
}

