// End to end: a miniature generator + discriminator
//   z -> ConvT -> BN+ReLU -> ConvT -> Tanh -> Conv -> LeakyReLU -> Conv -> BCE(target 1)
// with its parameters in a ParamStore. Every parameter gradient (and the gradient w.r.t. z)
// must match finite differences of the whole stack's loss.
//
// h = 2e-3 here (not gradcheck.h's 1e-2): the stack has ReLU/LeakyReLU kinks, and a small
// step makes crossing one rarer; the few elements whose step still crosses one are
// detected and left out (gradcheck.h, allow_kinks). The loss is an O(1) mean, so its float
// rounding error over 2h stays ~3e-5, well inside atol = 5e-4.
#include <doctest/doctest.h>

#include "kernels/activation/activation.h"
#include "kernels/batchnorm/batchnorm.h"
#include "kernels/bce/bce.h"
#include "kernels/conv/conv.h"
#include "kernels/elementwise/elementwise.h"
#include "engine/param_store.h"
#include "tests/gradcheck.h"

using namespace dg;

TEST_CASE("ConvT-BN-ReLU-ConvT-Tanh-Conv-LeakyReLU-Conv-BCE parameter gradients match finite differences") {
  Context ctx;
  const int B = 3, NZ = 4, F = 6, NC = 2, D = 5;
  ParamStore ps;
  ps.add("g.0.weight", {NZ, F, 4, 4}, ParamKind::conv_weight);    // ConvT k4 s1 p0: 1x1 -> 4x4
  ps.add("g.1.weight", {F}, ParamKind::bn_weight);
  ps.add("g.1.bias", {F}, ParamKind::bn_bias);
  ps.add("g.1.running_mean", {F}, ParamKind::running_mean);
  ps.add("g.1.running_var", {F}, ParamKind::running_var);
  ps.add("g.3.weight", {F, NC, 4, 4}, ParamKind::conv_weight);    // ConvT k4 s2 p1: 4x4 -> 8x8
  ps.add("d.0.weight", {D, NC, 4, 4}, ParamKind::conv_weight);    // Conv k4 s2 p1: 8x8 -> 4x4
  ps.add("d.2.weight", {1, D, 4, 4}, ParamKind::conv_weight);     // Conv k4 s1 p0: 4x4 -> 1x1
  ps.allocate(ctx);
  init_parameters(ctx, ps, 1234, 0);
  // DCGAN's N(0, 0.02) makes every signal tiny; larger weights exercise the math better.
  scale(ctx, ps.param("g.0.weight"), 15.0f);
  scale(ctx, ps.param("g.3.weight"), 15.0f);
  scale(ctx, ps.param("d.0.weight"), 15.0f);
  scale(ctx, ps.param("d.2.weight"), 15.0f);

  const ConvGeom s1p0{1, 0}, s2p1{2, 1};
  BatchNormConfig bn;
  bn.act = {Act::relu};
  const Activation lrelu{Act::leaky_relu, 0.2f}, tanh_act{Act::tanh};

  Tensor z = dg::test::random_tensor(ctx, {B, NZ, 1, 1}, 71);
  Tensor u1 = ctx.alloc({B, F, 4, 4}), h1 = ctx.alloc(u1.shape);
  Tensor u2 = ctx.alloc({B, NC, 8, 8}), t2 = ctx.alloc(u2.shape);
  Tensor c3 = ctx.alloc({B, D, 4, 4}), a3 = ctx.alloc(c3.shape);
  Tensor logits = ctx.alloc({B, 1, 1, 1}), loss = ctx.alloc({1}), dlogits = ctx.alloc(logits.shape);
  BatchNormSaved saved;

  auto forward = [&] {
    conv_transpose2d_forward(ctx, z, ps.param("g.0.weight"), s1p0, u1);
    saved = batchnorm2d_forward_train(ctx, bn, u1, ps.param("g.1.weight"), ps.param("g.1.bias"), Tensor{},
                                      Tensor{}, h1);
    conv_transpose2d_forward(ctx, h1, ps.param("g.3.weight"), s2p1, u2);
    activation_forward(ctx, tanh_act, u2, t2);
    conv2d_forward(ctx, t2, ps.param("d.0.weight"), s2p1, c3);
    activation_forward(ctx, lrelu, c3, a3);
    conv2d_forward(ctx, a3, ps.param("d.2.weight"), s1p0, logits);
    bce_with_logits(ctx, logits, 1.0f, Tensor{}, loss, dlogits);
    return double(loss.data[0]);
  };
  auto loss_only = [&] {
    ScratchScope s(ctx);  // batchnorm's saved statistics come from the arena
    return forward();
  };

  forward();
  ps.zero_grads(ctx);
  Tensor da3 = ctx.alloc(a3.shape), dc3 = ctx.alloc(c3.shape), dt2 = ctx.alloc(t2.shape);
  Tensor du2 = ctx.alloc(u2.shape), dh1 = ctx.alloc(h1.shape), du1 = ctx.alloc(u1.shape), dz = ctx.alloc(z.shape);
  conv2d_backward_filter(ctx, a3, dlogits, s1p0, ps.grad("d.2.weight"));
  conv2d_backward_data(ctx, dlogits, ps.param("d.2.weight"), s1p0, da3);
  activation_backward(ctx, lrelu, c3, da3, dc3);
  conv2d_backward_filter(ctx, t2, dc3, s2p1, ps.grad("d.0.weight"));
  conv2d_backward_data(ctx, dc3, ps.param("d.0.weight"), s2p1, dt2);
  activation_backward(ctx, tanh_act, u2, dt2, du2);
  conv_transpose2d_backward_filter(ctx, h1, du2, s2p1, ps.grad("g.3.weight"));
  conv_transpose2d_backward_data(ctx, du2, ps.param("g.3.weight"), s2p1, dh1);
  batchnorm2d_backward(ctx, bn, dh1, u1, ps.param("g.1.weight"), ps.param("g.1.bias"), saved, du1,
                       ps.grad("g.1.weight"), ps.grad("g.1.bias"));
  conv_transpose2d_backward_filter(ctx, z, du1, s1p0, ps.grad("g.0.weight"));
  conv_transpose2d_backward_data(ctx, du1, ps.param("g.0.weight"), s1p0, dz);

  dg::test::GradCheckOptions opt;
  opt.h = 2e-3f;
  opt.atol = 5e-4;
  opt.allow_kinks = true;
  for (const ParamView& v : ps.views()) {
    if (!v.trainable()) continue;
    dg::test::check_gradient(v.name, loss_only, ps.param(v.name).data, ps.grad(v.name).data, v.shape.numel(), opt);
  }
  dg::test::check_gradient("z", loss_only, z.data, dz.data, z.numel(), opt);
}
