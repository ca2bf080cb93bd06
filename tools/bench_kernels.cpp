#include "tools/bench_kernels.h"

#include <cmath>

#include "engine/ops.h"
#include "models/dcgan.h"
#ifdef DG_HAVE_CUDA
#include "engine/cuda/cuda_ops.h"
#endif

namespace dg {

nlohmann::json KernelResult::to_json() const {
  return {{"bench", "kernel"}, {"name", name},       {"shape", shape},       {"us", us},
          {"gb_s", gb_s},      {"tflop_s", tflop_s}, {"of_limit", of_limit}, {"check_error", check_error},
          {"alternatives", alternatives}};
}

namespace {

// A case builds its inputs on a context and returns the work to time and the tensor whose
// values are compared with the CPU's.
struct Prepared {
  std::function<void()> run;
  Tensor out;
};
using Make = std::function<Prepared(Context&)>;

// Inputs: normal numbers from a per-tensor Philox stream, identical on every device.
Tensor random(Context& ctx, Shape s, uint64_t stream, float stddev = 1.0f) {
  Tensor t = ctx.alloc(s);
  fill_normal(ctx, t, 0.0f, stddev, 2026, stream);
  return t;
}

double rel_error(Context& dev, const Tensor& a, const Tensor& b) {
  std::vector<float> h(size_t(a.numel()));
  dev.download(a, h.data());
  double diff = 0, ref = 0;
  for (size_t i = 0; i < h.size(); i++) {
    diff += (double(h[i]) - b.data[i]) * (double(h[i]) - b.data[i]);
    ref += double(b.data[i]) * b.data[i];
  }
  return std::sqrt(diff / (ref > 0 ? ref : 1));
}

struct Runner {
  bool copt_is_cuda() const { return copt.device == Device::cuda; }
  const ContextOptions& copt;
  const TimingOptions& timing;
  const DeviceLimits& limits;
  const std::function<void(const KernelResult&)>& report;

  // bytes > 0: memory-bound; flops > 0: compute-bound.
  void operator()(const std::string& name, const std::string& shape, double bytes, double flops, const Make& make) {
    Context dev(copt);
    KernelResult r;
    r.name = name;
    r.shape = shape;
    Prepared d = make(dev);
    if (copt.device == Device::cuda) {
      Context cpu;
      Prepared c = make(cpu);
      d.run();
      c.run();
      r.check_error = rel_error(dev, d.out, c.out);
      const double tolerance = copt.strict_fp32 ? 1e-5 : 5e-3;
      DG_CHECK(r.check_error <= tolerance, "dgbench kernels: ", name, " ", shape, " differs from the CPU reference by ",
               r.check_error, " (relative norm; allowed ", tolerance, "): not timing a wrong kernel");
    }
    r.us = 1e3 * median(time_repeats_ms(dev, d.run, timing));
#ifdef DG_HAVE_CUDA
    if (dev.on_cuda()) r.alternatives = cuda::conv_algorithm_trials(dev);  // empty unless a convolution ran
#endif
    if (bytes > 0) {
      r.gb_s = bytes / (r.us * 1e-6) / 1e9;
      r.of_limit = limits.copy_gb_s > 0 ? r.gb_s / limits.copy_gb_s : 0;
    } else {
      r.tflop_s = flops / (r.us * 1e-6) / 1e12;
      r.of_limit = limits.gemm_tflop_s > 0 ? r.tflop_s / limits.gemm_tflop_s : 0;
    }
    report(r);
  }
};

std::string dims(std::initializer_list<int> d) {
  std::string s;
  for (int v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

// Forward, backward-data and backward-filter of every (transposed) convolution of a network.
void bench_convs(Runner& run, const Network& net, int B) {
  int size = net.in_size;
  for (const LayerSpec& l : net.layers) {
    const int in = size, out = l.out_size, Ci = l.in_channels, Co = l.out_channels, k = l.kernel;
    const ConvGeom g = l.geom;
    const double flops = 2.0 * B * Ci * Co * k * k * double(l.transposed ? in * in : out * out);
    const std::string shape = dims({B, Ci, in, in}) + " -> " + dims({B, Co, out, out}) + " k" + std::to_string(k) +
                              " s" + std::to_string(g.stride);
    const std::string what = net.name + " " + l.conv_name + (l.transposed ? " convT" : " conv");
    // Weight layout: conv (Co, Ci, k, k); transposed (Ci, Co, k, k).
    const Shape w_shape = l.transposed ? Shape{Ci, Co, k, k} : Shape{Co, Ci, k, k};
    run(what + " forward", shape, 0, flops, [=](Context& c) {
      Tensor x = random(c, {B, Ci, in, in}, 1), w = random(c, w_shape, 2, 0.02f), y = c.alloc({B, Co, out, out});
      return Prepared{[&c, x, w, y, l, g] {
                        if (l.transposed)
                          conv_transpose2d_forward(c, x, w, g, y);
                        else
                          conv2d_forward(c, x, w, g, y);
                      },
                      y};
    });
    run(what + " backward-data", shape, 0, flops, [=](Context& c) {
      Tensor dy = random(c, {B, Co, out, out}, 3), w = random(c, w_shape, 2, 0.02f), dx = c.alloc({B, Ci, in, in});
      return Prepared{[&c, dy, w, dx, l, g] {
                        if (l.transposed)
                          conv_transpose2d_backward_data(c, dy, w, g, dx);
                        else
                          conv2d_backward_data(c, dy, w, g, dx);
                      },
                      dx};
    });
    run(what + " backward-filter", shape, 0, flops, [=](Context& c) {
      Tensor x = random(c, {B, Ci, in, in}, 1), dy = random(c, {B, Co, out, out}, 3), dw = c.zeros(w_shape);
      return Prepared{[&c, x, dy, dw, l, g] {
                        c.fill(dw, 0.0f);  // it accumulates: the check compares one pass
                        if (l.transposed)
                          conv_transpose2d_backward_filter(c, x, dy, g, dw);
                        else
                          conv2d_backward_filter(c, x, dy, g, dw);
                      },
                      dw};
    });
    size = out;
  }
}

// Batchnorm + the fused activation, training forward and backward, at every BN layer.
void bench_batchnorm(Runner& run, const Network& net, int B) {
  for (const LayerSpec& l : net.layers) {
    if (!l.batchnorm) continue;
    const int C = l.out_channels, S = l.out_size;
    const double n = double(B) * C * S * S;
    BatchNormConfig cfg;
    cfg.act = l.act;
    const std::string shape = dims({B, C, S, S}) + " " + act_name(l.act.kind);
    run(net.name + " batchnorm+act forward", shape, 8 * n, 0, [=](Context& c) {
      Tensor x = random(c, {B, C, S, S}, 4), gamma = random(c, {C}, 5), beta = random(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S});
      return Prepared{[&c, cfg, x, gamma, beta, rm, rv, y] {
                        ScratchScope s(c);
                        batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
                      },
                      y};
    });
    run(net.name + " batchnorm+act backward", shape, 12 * n, 0, [=](Context& c) {
      Tensor x = random(c, {B, C, S, S}, 4), gamma = random(c, {C}, 5), beta = random(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S}), dy = random(c, {B, C, S, S}, 7);
      Tensor dx = c.alloc({B, C, S, S}), dg = c.zeros({C}), db = c.zeros({C});
      const BatchNormSaved saved = batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
      return Prepared{[&c, cfg, x, gamma, beta, saved, dy, dx, dg, db] {
                        batchnorm2d_backward(c, cfg, dy, x, gamma, beta, saved, dx, dg, db);
                      },
                      dx};
    });
#ifdef DG_HAVE_CUDA
    if (!run.copt_is_cuda()) continue;
    // The alternative: cuDNN's batchnorm, then the activation as a kernel of its own (on the
    // CPU side of the check, dg's reference op).
    run(net.name + " cuDNN batchnorm + act forward", shape, 8 * n, 0, [=](Context& c) {
      Tensor x = random(c, {B, C, S, S}, 4), gamma = random(c, {C}, 5), beta = random(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S});
      const BatchNormSaved saved{c.alloc({C}), c.alloc({C})};
      return Prepared{[&c, cfg, x, gamma, beta, rm, rv, y, saved] {
                        ScratchScope s(c);
                        if (c.on_cuda())
                          cuda::cudnn_batchnorm_forward_train(c, cfg, x, gamma, beta, rm, rv, y, saved);
                        else
                          batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
                      },
                      y};
    });
    run(net.name + " cuDNN batchnorm + act backward", shape, 12 * n, 0, [=](Context& c) {
      Tensor x = random(c, {B, C, S, S}, 4), gamma = random(c, {C}, 5), beta = random(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S}), dy = random(c, {B, C, S, S}, 7);
      Tensor dx = c.alloc({B, C, S, S}), dg = c.zeros({C}), db = c.zeros({C});
      BatchNormConfig plain = cfg;
      plain.act = Activation();  // the pre-activation output, which the backward needs
      BatchNormSaved saved{c.alloc({C}), c.alloc({C})};
      if (c.on_cuda())
        cuda::cudnn_batchnorm_forward_train(c, plain, x, gamma, beta, rm, rv, y, saved);
      else
        saved = batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
      return Prepared{[&c, cfg, x, gamma, beta, y, saved, dy, dx, dg, db] {
                        if (c.on_cuda())
                          cuda::cudnn_batchnorm_backward(c, cfg, dy, x, gamma, y, saved, dx, dg, db);
                        else
                          batchnorm2d_backward(c, cfg, dy, x, gamma, beta, saved, dx, dg, db);
                      },
                      dx};
    });
#endif
  }
}

}  // namespace

void bench_kernels(const ContextOptions& copt, const std::vector<int>& batches, const TimingOptions& timing,
                   const DeviceLimits& limits, const std::function<void(const KernelResult&)>& report) {
  Runner run{copt, timing, limits, report};
  for (int B : batches) {
    for (int size : {32, 64}) {
      ModelConfig m;
      m.image_size = size;
      m.channels = 3;
      const Network g = build_generator(m), d = build_discriminator(m, 0);
      bench_convs(run, g, B);
      bench_convs(run, d, B);
      bench_batchnorm(run, g, B);
      bench_batchnorm(run, d, B);
    }
    // The generator loss over K = 2 logit vectors (BCE and the selection, fused).
    for (GLoss mode : {GLoss::max, GLoss::max_sample, GLoss::softmax}) {
      GLossConfig cfg;
      cfg.mode = mode;
      run(std::string("generator_loss ") + gloss_name(mode), dims({2, B}), 2.0 * 2 * B * 4, 0, [=](Context& c) {
        Tensor logits = random(c, {2, B}, 8), loss = c.alloc({1}), dl = c.alloc({2, B}), sel = c.zeros({2});
        return Prepared{[&c, cfg, logits, loss, dl, sel] { generator_loss(c, cfg, logits, Tensor(), loss, dl, sel); },
                        dl};
      });
    }
    run("bce_with_logits", dims({B}), 2.0 * B * 4, 0, [=](Context& c) {
      Tensor logits = random(c, {B}, 9), mean = c.alloc({1}), dl = c.alloc({B});
      return Prepared{[&c, logits, mean, dl] { bce_with_logits(c, logits, 1.0f, Tensor(), mean, dl); }, dl};
    });
  }
  // Flat-buffer kernels at dcgan64's generator size (3,576,704 parameters) and a 16M fill.
  const int n = 3576704;
  run("adam_step (dcgan64 G)", dims({n}), 7.0 * 4 * n, 0, [=](Context& c) {
    Tensor p = random(c, {n}, 10, 0.02f), g = random(c, {n}, 11), m = c.zeros({n}), v = c.zeros({n});
    AdamConfig cfg;
    return Prepared{[&c, cfg, p, g, m, v] { adam_step(c, cfg, 1, p, g, m, v); }, p};
  });
  const int big = 16 << 20;
  run("fill_normal", dims({big}), 4.0 * big, 0, [=](Context& c) {
    Tensor t = c.alloc({big});
    return Prepared{[&c, t] { fill_normal(c, t, 0.0f, 1.0f, 1, 2); }, t};
  });
  run("axpy", dims({big}), 12.0 * big, 0, [=](Context& c) {
    Tensor x = random(c, {big}, 12), y = random(c, {big}, 13);
    return Prepared{[&c, x, y] { axpy(c, 0.5f, x, y); }, y};
  });
  run("leaky_relu forward", dims({big}), 8.0 * big, 0, [=](Context& c) {
    Tensor x = random(c, {big}, 14), y = c.alloc({big});
    Activation a;
    a.kind = Act::leaky_relu;
    return Prepared{[&c, a, x, y] { activation_forward(c, a, x, y); }, y};
  });
  run("tanh forward", dims({big}), 8.0 * big, 0, [=](Context& c) {
    Tensor x = random(c, {big}, 15), y = c.alloc({big});
    Activation a;
    a.kind = Act::tanh;
    return Prepared{[&c, a, x, y] { activation_forward(c, a, x, y); }, y};
  });
}

}  // namespace dg
