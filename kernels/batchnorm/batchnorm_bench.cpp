// dgbench kernels cases of batchnorm + the fused activation, training forward and backward, at
// every BN layer of dcgan32 and dcgan64 (G and D); on CUDA also cuDNN's batchnorm followed by a
// separate activation kernel, the alternative the fused kernels replace.
#include "kernels/batchnorm/batchnorm.h"
#include "bench/kernel_bench.h"
#include "models/dcgan.h"

namespace dg {

namespace {

// The tensors of one BN layer's cases (x, gamma, beta, dy drawn from the same streams on every
// device; the running statistics zero).
struct BnTensors {
  Tensor x, gamma, beta, running_mean, running_var, y, dy, dx, dgamma, dbeta;
  BnTensors(Context& c, int B, int C, int S)
      : x(random_input(c, {B, C, S, S}, 4)), gamma(random_input(c, {C}, 5)), beta(random_input(c, {C}, 6)),
        running_mean(c.zeros({C})), running_var(c.zeros({C})), y(c.alloc({B, C, S, S})),
        dy(random_input(c, {B, C, S, S}, 7)), dx(c.alloc({B, C, S, S})), dgamma(c.zeros({C})), dbeta(c.zeros({C})) {}
};

}  // namespace

// Batchnorm + the fused activation, training forward and backward, at every BN layer.
static void bench_network(KernelBench& run, const Network& net, int B) {
  for (const LayerSpec& l : net.layers) {
    if (!l.batchnorm) continue;
    const int C = l.out_channels, S = l.out_size;
    const double n = double(B) * C * S * S;
    BatchNormConfig cfg;
    cfg.act = l.act;
    const std::string shape = dims({B, C, S, S}) + " " + act_name(l.act.kind);
    run(net.name + " batchnorm+act forward", shape, 8 * n, 0, [=](Context& c) {
      const BnTensors t(c, B, C, S);
      return Prepared{[&c, cfg, t] {
                        ScratchScope s(c);
                        batchnorm2d_forward_train(c, cfg, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y);
                      },
                      t.y};
    });
    run(net.name + " batchnorm+act backward", shape, 12 * n, 0, [=](Context& c) {
      const BnTensors t(c, B, C, S);
      const BatchNormSaved saved =
          batchnorm2d_forward_train(c, cfg, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y);
      return Prepared{[&c, cfg, t, saved] {
                        batchnorm2d_backward(c, cfg, t.dy, t.x, t.gamma, t.beta, saved, t.dx, t.dgamma, t.dbeta);
                      },
                      t.dx};
    });
    if (!run.on_cuda()) continue;
    // The alternative: cuDNN's batchnorm, then the activation as a kernel of its own (on the
    // CPU side of the check, dg's reference op).
    run(net.name + " cuDNN batchnorm + act forward", shape, 8 * n, 0, [=](Context& c) {
      const BnTensors t(c, B, C, S);
      const BatchNormSaved saved{c.alloc({C}), c.alloc({C})};
      return Prepared{[&c, cfg, t, saved] {
                        ScratchScope s(c);
                        if (c.on_cuda())
                          cudnn_batchnorm_forward_train(c, cfg, t.x, t.gamma, t.beta, t.running_mean, t.running_var,
                                                        t.y, saved);
                        else
                          batchnorm2d_forward_train(c, cfg, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y);
                      },
                      t.y};
    });
    run(net.name + " cuDNN batchnorm + act backward", shape, 12 * n, 0, [=](Context& c) {
      const BnTensors t(c, B, C, S);
      BatchNormConfig plain = cfg;
      plain.act = Activation();  // the pre-activation output, which the backward needs
      BatchNormSaved saved{c.alloc({C}), c.alloc({C})};
      if (c.on_cuda())
        cudnn_batchnorm_forward_train(c, plain, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y, saved);
      else
        saved = batchnorm2d_forward_train(c, cfg, t.x, t.gamma, t.beta, t.running_mean, t.running_var, t.y);
      return Prepared{[&c, cfg, t, saved] {
                        if (c.on_cuda())
                          cudnn_batchnorm_backward(c, cfg, t.dy, t.x, t.gamma, t.y, saved, t.dx, t.dgamma, t.dbeta);
                        else
                          batchnorm2d_backward(c, cfg, t.dy, t.x, t.gamma, t.beta, saved, t.dx, t.dgamma, t.dbeta);
                      },
                      t.dx};
    });
  }
}

void bench_batchnorm(KernelBench& run) {
  run.for_each_dcgan([&](const Network& net, int B) { bench_network(run, net, B); });
}

}  // namespace dg
