// dgbench kernels cases of batchnorm + the fused activation, training forward and backward, at
// every BN layer of dcgan32 and dcgan64 (G and D); on CUDA also cuDNN's batchnorm followed by a
// separate activation kernel, the alternative the fused kernels replace.
#include "kernels/batchnorm/batchnorm.h"
#include "bench/kernel_bench.h"
#include "models/dcgan.h"

namespace dg {

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
      Tensor x = random_input(c, {B, C, S, S}, 4), gamma = random_input(c, {C}, 5), beta = random_input(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S});
      return Prepared{[&c, cfg, x, gamma, beta, rm, rv, y] {
                        ScratchScope s(c);
                        batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
                      },
                      y};
    });
    run(net.name + " batchnorm+act backward", shape, 12 * n, 0, [=](Context& c) {
      Tensor x = random_input(c, {B, C, S, S}, 4), gamma = random_input(c, {C}, 5), beta = random_input(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S}), dy = random_input(c, {B, C, S, S}, 7);
      Tensor dx = c.alloc({B, C, S, S}), dg = c.zeros({C}), db = c.zeros({C});
      const BatchNormSaved saved = batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
      return Prepared{[&c, cfg, x, gamma, beta, saved, dy, dx, dg, db] {
                        batchnorm2d_backward(c, cfg, dy, x, gamma, beta, saved, dx, dg, db);
                      },
                      dx};
    });
    if (!run.on_cuda()) continue;
    // The alternative: cuDNN's batchnorm, then the activation as a kernel of its own (on the
    // CPU side of the check, dg's reference op).
    run(net.name + " cuDNN batchnorm + act forward", shape, 8 * n, 0, [=](Context& c) {
      Tensor x = random_input(c, {B, C, S, S}, 4), gamma = random_input(c, {C}, 5), beta = random_input(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S});
      const BatchNormSaved saved{c.alloc({C}), c.alloc({C})};
      return Prepared{[&c, cfg, x, gamma, beta, rm, rv, y, saved] {
                        ScratchScope s(c);
                        if (c.on_cuda())
                          cudnn_batchnorm_forward_train(c, cfg, x, gamma, beta, rm, rv, y, saved);
                        else
                          batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
                      },
                      y};
    });
    run(net.name + " cuDNN batchnorm + act backward", shape, 12 * n, 0, [=](Context& c) {
      Tensor x = random_input(c, {B, C, S, S}, 4), gamma = random_input(c, {C}, 5), beta = random_input(c, {C}, 6);
      Tensor rm = c.zeros({C}), rv = c.zeros({C}), y = c.alloc({B, C, S, S}), dy = random_input(c, {B, C, S, S}, 7);
      Tensor dx = c.alloc({B, C, S, S}), dg = c.zeros({C}), db = c.zeros({C});
      BatchNormConfig plain = cfg;
      plain.act = Activation();  // the pre-activation output, which the backward needs
      BatchNormSaved saved{c.alloc({C}), c.alloc({C})};
      if (c.on_cuda())
        cudnn_batchnorm_forward_train(c, plain, x, gamma, beta, rm, rv, y, saved);
      else
        saved = batchnorm2d_forward_train(c, cfg, x, gamma, beta, rm, rv, y);
      return Prepared{[&c, cfg, x, gamma, beta, y, saved, dy, dx, dg, db] {
                        if (c.on_cuda())
                          cudnn_batchnorm_backward(c, cfg, dy, x, gamma, y, saved, dx, dg, db);
                        else
                          batchnorm2d_backward(c, cfg, dy, x, gamma, beta, saved, dx, dg, db);
                      },
                      dx};
    });
  }
}

void bench_batchnorm(KernelBench& run) {
  for (int B : run.batches)
    for (int size : {32, 64}) {
      ModelConfig m;
      m.image_size = size;
      m.channels = 3;
      bench_network(run, build_generator(m), B);
      bench_network(run, build_discriminator(m, 0), B);
    }
}

}  // namespace dg
