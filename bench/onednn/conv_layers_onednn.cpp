// dg's CPU convolutions against oneDNN (Debian's libdnnl-dev), op by op, in one process: the
// forward, backward-data and backward-filter of every (transposed) convolution of dcgan32 and
// dcgan64 (RGB, ngf = ndf = 64), as issue #15 asks ("a library made for exactly this ... choose
// by measurement"). Built only where CMake finds oneDNN (bench/CMakeLists.txt); CI does not.
//
//   apt-get install libdnnl-dev && cmake --build build-cpu --target conv_layers_onednn
//   OMP_NUM_THREADS=2 build-cpu/bench/conv_layers_onednn [--batch 64] [--repeats 7]
//
// Each op runs three ways, in turn, the median of --repeats after two warm-up runs:
//   dg       dg::conv2d_* on NCHW tensors (what dgtrain runs);
//   nchw     oneDNN's convolution primitive on the same NCHW tensors (a drop-in call);
//   blocked  oneDNN's primitive on the memory formats it prefers (format_tag::any), the
//            reorders to and from NCHW left out: its best case, as if every tensor of the
//            network stayed in its blocked layout.
// A transposed convolution is the adjoint of a convolution: its forward is that
// convolution's backward-data, its backward-data the forward, its filter gradient the filter
// gradient with x and dy swapped; both sides run the convolution primitives (dg does too).
// The outputs of dg and oneDNN are compared (max |difference| over max |value|) so the
// mapping is checked on every run.
#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/context.h"
#include "kernels/conv/conv.h"

namespace {

using dnnl::memory;
using tag = memory::format_tag;

// One convolution of a DCGAN, in the terms of the convolution it is or is the adjoint of:
// image (N, C, H, H), weights (O, C, k, k), output (N, O, Ho, Ho).
struct Layer {
  std::string name;  // "dcgan64 D main.2" ...
  bool transposed;
  int C, H, O, Ho, k, stride, pad;
};

std::vector<Layer> dcgan_layers(const std::string& arch, int size) {
  std::vector<Layer> v;
  // G: 100 x 1 -> ngf 2^(n-1) x 4 -> ... -> 3 x size; D mirrors it. (conv index as in PyTorch's
  // nn.Sequential of the DCGAN example: conv, BN, ReLU per block.)
  std::vector<int> ch;  // 64, 128, ..., by 4 x 4 up to size
  for (int s = size / 2, c = 64; s >= 4; s /= 2, c *= 2) ch.push_back(c);
  const int n = int(ch.size());
  // G: z (100, 1) -> ch[n-1] at 4 -> ... -> ch[0] at size/2 -> 3 at size. Transposed: conv terms
  // have the image on G's output side.
  int idx = 0, s = 1;
  v.push_back({arch + " G main." + std::to_string(idx), true, ch[n - 1], 4, 100, 1, 4, 1, 0});
  idx += 3, s = 4;
  for (int i = n - 1; i > 0; i--, idx += 3, s *= 2) v.push_back({arch + " G main." + std::to_string(idx), true, ch[i - 1], 2 * s, ch[i], s, 4, 2, 1});
  v.push_back({arch + " G main." + std::to_string(idx), true, 3, size, ch[0], size / 2, 4, 2, 1});
  v.push_back({arch + " D main.0", false, 3, size, ch[0], size / 2, 4, 2, 1});
  idx = 2, s = size / 2;
  for (int i = 0; i + 1 < n; i++, idx += 3, s /= 2) v.push_back({arch + " D main." + std::to_string(idx), false, ch[i], s, ch[i + 1], s / 2, 4, 2, 1});
  v.push_back({arch + " D main." + std::to_string(idx), false, ch[n - 1], 4, 1, 1, 4, 1, 0});
  return v;
}

double median(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

double time_ms(const std::function<void()>& f, int repeats) {
  f();
  f();
  std::vector<double> t;
  for (int r = 0; r < repeats; r++) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

void fill_random(std::vector<float>& v, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.0f, scale);
  for (float& x : v) x = nd(rng);
}

// max |a - b| / max |a|
double rel_diff(const float* a, const float* b, size_t n) {
  double d = 0, m = 0;
  for (size_t i = 0; i < n; i++) {
    d = std::max(d, double(std::fabs(a[i] - b[i])));
    m = std::max(m, double(std::fabs(a[i])));
  }
  return m > 0 ? d / m : d;
}

// oneDNN's three primitives of one convolution geometry, on NCHW (any = false) or on the
// formats it prefers (any = true), with their own tensors.
struct Dnnl {
  dnnl::engine eng{dnnl::engine::kind::cpu, 0};
  dnnl::stream strm{eng};
};

struct OneOp {
  dnnl::primitive prim;
  std::unordered_map<int, memory> args;
  std::string impl;
  memory out;  // the result (for the comparison, when NCHW)
};

OneOp make_op(Dnnl& d, const Layer& l, int N, int which, bool any, const std::vector<float>& img,
              const std::vector<float>& w, const std::vector<float>& out) {
  const memory::dims src_dims{N, l.C, l.H, l.H}, w_dims{l.O, l.C, l.k, l.k}, dst_dims{N, l.O, l.Ho, l.Ho};
  const memory::dims strides{l.stride, l.stride}, pad{l.pad, l.pad};
  auto md = [&](const memory::dims& dims, tag t) { return memory::desc(dims, memory::data_type::f32, any ? tag::any : t); };
  const memory::desc src = md(src_dims, tag::nchw), wts = md(w_dims, tag::oihw), dst = md(dst_dims, tag::nchw);
  dnnl::convolution_forward::primitive_desc fwd_pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wts,
                                      dst, strides, pad, pad),
      d.eng);
  // Memory in the primitive's format, filled from the NCHW data by a reorder (not timed).
  auto mem = [&](const memory::desc& want, const memory::dims& dims, tag t, const std::vector<float>* data) {
    memory m(want, d.eng);
    if (data) {
      memory plain({dims, memory::data_type::f32, t}, d.eng, const_cast<float*>(data->data()));
      dnnl::reorder(plain, m).execute(d.strm, plain, m);
    }
    return m;
  };
  OneOp op;
  if (which == 0) {
    op.prim = dnnl::convolution_forward(fwd_pd);
    op.args = {{DNNL_ARG_SRC, mem(fwd_pd.src_desc(), src_dims, tag::nchw, &img)},
               {DNNL_ARG_WEIGHTS, mem(fwd_pd.weights_desc(), w_dims, tag::oihw, &w)},
               {DNNL_ARG_DST, mem(fwd_pd.dst_desc(), dst_dims, tag::nchw, nullptr)}};
    op.impl = fwd_pd.impl_info_str();
    op.out = op.args[DNNL_ARG_DST];
  } else if (which == 1) {
    dnnl::convolution_backward_data::primitive_desc pd(
        dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, src, wts, dst, strides, pad, pad),
        d.eng, fwd_pd);
    op.prim = dnnl::convolution_backward_data(pd);
    op.args = {{DNNL_ARG_DIFF_DST, mem(pd.diff_dst_desc(), dst_dims, tag::nchw, &out)},
               {DNNL_ARG_WEIGHTS, mem(pd.weights_desc(), w_dims, tag::oihw, &w)},
               {DNNL_ARG_DIFF_SRC, mem(pd.diff_src_desc(), src_dims, tag::nchw, nullptr)}};
    op.impl = pd.impl_info_str();
    op.out = op.args[DNNL_ARG_DIFF_SRC];
  } else {
    dnnl::convolution_backward_weights::primitive_desc pd(
        dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, src, wts, dst, strides, pad, pad),
        d.eng, fwd_pd);
    op.prim = dnnl::convolution_backward_weights(pd);
    op.args = {{DNNL_ARG_SRC, mem(pd.src_desc(), src_dims, tag::nchw, &img)},
               {DNNL_ARG_DIFF_DST, mem(pd.diff_dst_desc(), dst_dims, tag::nchw, &out)},
               {DNNL_ARG_DIFF_WEIGHTS, mem(pd.diff_weights_desc(), w_dims, tag::oihw, nullptr)}};
    op.impl = pd.impl_info_str();
    op.out = op.args[DNNL_ARG_DIFF_WEIGHTS];
  }
  return op;
}

}  // namespace

int main(int argc, char** argv) {
  int batch = 64, repeats = 7;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--repeats")) repeats = std::atoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: conv_layers_onednn [--batch N] [--repeats R]\n");
      return 2;
    }
  }
  if (batch < 1 || repeats < 1) {
    std::fprintf(stderr, "conv_layers_onednn: --batch %d and --repeats %d must be >= 1\n", batch, repeats);
    return 2;
  }
  const dnnl_version_t* ver = dnnl_version();
  std::printf("oneDNN %d.%d.%d (%s), batch %d, OMP_NUM_THREADS=%s, median of %d runs per op after 2 warm-up runs\n\n",
              ver->major, ver->minor, ver->patch, ver->hash, batch, std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "(unset)",
              repeats);
  std::printf("| op | conv shape (N x C x H -> O x Ho) | dg ms | oneDNN nchw ms | oneDNN blocked ms | nchw / dg | blocked / dg | oneDNN impl (nchw; blocked) | max rel diff |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n");
  dg::Context ctx;
  Dnnl d;
  double sum[3] = {0, 0, 0};
  const char* conv_kind[3] = {"forward", "backward-data", "backward-filter"};
  const char* convT_kind[3] = {"backward-data", "forward", "backward-filter"};  // convT op of each conv primitive
  for (const auto& [arch, size] : std::vector<std::pair<std::string, int>>{{"dcgan32", 32}, {"dcgan64", 64}})
    for (const Layer& l : dcgan_layers(arch, size)) {
      std::vector<float> img(size_t(batch) * l.C * l.H * l.H), w(size_t(l.O) * l.C * l.k * l.k),
          out(size_t(batch) * l.O * l.Ho * l.Ho);
      fill_random(img, 1, 1.0f);
      fill_random(w, 2, 0.02f);
      fill_random(out, 3, 1.0f);
      dg::ScratchScope scope(ctx);
      dg::Tensor ti = ctx.alloc({batch, l.C, l.H, l.H}), tw = ctx.alloc({l.O, l.C, l.k, l.k}),
                 to = ctx.alloc({batch, l.O, l.Ho, l.Ho});
      const dg::ConvGeom g{l.stride, l.pad};
      for (int which = 0; which < 3; which++) {
        ctx.upload(ti, img.data());
        ctx.upload(tw, w.data());
        ctx.upload(to, out.data());
        std::function<void()> dg_op;
        dg::Tensor result;
        if (which == 0) dg_op = [&] { dg::conv2d_forward(ctx, ti, tw, g, to); }, result = to;
        if (which == 1) dg_op = [&] { dg::conv2d_backward_data(ctx, to, tw, g, ti); }, result = ti;
        if (which == 2) dg_op = [&] {
          ctx.fill(tw, 0.0f);  // it accumulates (the fill is timed too: dgbench kernels does the same)
          dg::conv2d_backward_filter(ctx, ti, to, g, tw);
        }, result = tw;
        OneOp plain = make_op(d, l, batch, which, false, img, w, out);
        OneOp blocked = make_op(d, l, batch, which, true, img, w, out);
        const double t_dg = time_ms(dg_op, repeats);
        const double t_plain = time_ms([&] { plain.prim.execute(d.strm, plain.args); d.strm.wait(); }, repeats);
        const double t_blocked = time_ms([&] { blocked.prim.execute(d.strm, blocked.args); d.strm.wait(); }, repeats);
        const double diff = rel_diff(result.data, static_cast<float*>(plain.out.get_data_handle()), size_t(result.numel()));
        sum[0] += t_dg, sum[1] += t_plain, sum[2] += t_blocked;
        std::printf("| %s %s %s | %dx%dx%d -> %dx%d k%d s%d | %.2f | %.2f | %.2f | %.2f | %.2f | %s; %s | %.1e |\n",
                    l.name.c_str(), l.transposed ? "convT" : "conv", l.transposed ? convT_kind[which] : conv_kind[which],
                    batch, l.C, l.H, l.O, l.Ho, l.k, l.stride, t_dg, t_plain, t_blocked, t_plain / t_dg, t_blocked / t_dg,
                    plain.impl.c_str(), blocked.impl.c_str(), diff);
        std::fflush(stdout);
        if (!(diff < 1e-3)) {
          std::fprintf(stderr, "conv_layers_onednn: %s: dg and oneDNN differ by %.3g (relative): the mapping is wrong\n",
                       l.name.c_str(), diff);
          return 1;
        }
      }
    }
  std::printf("\nSum over the ops (each once): dg %.1f ms, oneDNN nchw %.1f ms (%.2fx dg's time), oneDNN blocked %.1f ms (%.2fx)\n",
              sum[0], sum[1], sum[1] / sum[0], sum[2], sum[2] / sum[0]);
  return 0;
}
