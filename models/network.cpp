#include "models/network.h"

#include <algorithm>

namespace dg {

void declare_parameters(Network& net) {
  for (const LayerSpec& l : net.layers) {
    Shape w = l.transposed ? Shape{l.in_channels, l.out_channels, l.kernel, l.kernel}
                           : Shape{l.out_channels, l.in_channels, l.kernel, l.kernel};
    net.params.add(l.conv_name, w, ParamKind::conv_weight);
    if (l.batchnorm) {
      net.params.add(l.bn_prefix + ".weight", {l.out_channels}, ParamKind::bn_weight);
      net.params.add(l.bn_prefix + ".bias", {l.out_channels}, ParamKind::bn_bias);
      net.params.add(l.bn_prefix + ".running_mean", {l.out_channels}, ParamKind::running_mean);
      net.params.add(l.bn_prefix + ".running_var", {l.out_channels}, ParamKind::running_var);
    }
  }
}

static BatchNormConfig layer_bn(const Network& net, const LayerSpec& l) {
  BatchNormConfig c = net.bn;
  c.act = l.act;
  return c;
}

Trace network_forward(Context& ctx, Network& net, const Tensor& x, Mode mode) {
  check_shape(x, {x.n(), net.in_channels, net.in_size, net.in_size}, (net.name + " input").c_str());
  const ParamStore& p = net.params;
  Trace t;
  t.input = x;
  t.mode = mode;
  Tensor a = x;
  for (const LayerSpec& l : net.layers) {
    Tensor u = ctx.alloc({x.n(), l.out_channels, l.out_size, l.out_size});
    if (l.transposed)
      conv_transpose2d_forward(ctx, a, p.param(l.conv_name), l.geom, u);
    else
      conv2d_forward(ctx, a, p.param(l.conv_name), l.geom, u);
    Tensor out = u;
    BatchNormSaved saved;
    if (l.batchnorm) {
      out = ctx.alloc(u.shape);
      Tensor gamma = p.param(l.bn_prefix + ".weight"), beta = p.param(l.bn_prefix + ".bias");
      Tensor rm = p.buffer(l.bn_prefix + ".running_mean"), rv = p.buffer(l.bn_prefix + ".running_var");
      if (mode == Mode::train)
        saved = batchnorm2d_forward_train(ctx, layer_bn(net, l), u, gamma, beta, rm, rv, out);
      else
        batchnorm2d_forward_eval(ctx, layer_bn(net, l), u, gamma, beta, rm, rv, out);
    } else if (l.act.kind != Act::identity) {
      // An activation whose derivative follows from its output overwrites u: the trace keeps
      // one tensor where PyTorch's in-place LeakyReLU (and Tanh, which saves its output) keeps one.
      if (!act_derivative_from_output(l.act)) out = ctx.alloc(u.shape);
      activation_forward(ctx, l.act, u, out);
    }
    t.conv_out.push_back(u);
    t.layer_out.push_back(out);
    t.bn_saved.push_back(saved);
    a = out;
  }
  return t;
}

void network_backward(Context& ctx, Network& net, const Trace& t, const Tensor& dy, Tensor dx, bool param_grads,
                      const std::function<void(int layer)>& layer_done) {
  DG_CHECK(t.mode == Mode::train, net.name, ": backward through an eval-mode forward");
  check_shape(dy, t.output().shape, (net.name + " output gradient").c_str());
  const ParamStore& p = net.params;
  // The gradients between the layers take turns in two buffers of the largest one's size: a
  // layer's output gradient da gives du (before batchnorm/activation), du gives din (the layer
  // input's gradient, the next da), and each is dead once the next is computed.
  Shape largest = t.conv_out[0].shape;
  for (size_t i = 0; i < net.layers.size(); i++)
    for (const Tensor* g : {&t.conv_out[i], i > 0 ? &t.layer_out[i - 1] : &t.conv_out[i]})
      if (g->numel() > largest.numel()) largest = g->shape;
  const Tensor turns[2] = {ctx.alloc(largest), ctx.alloc(largest)};
  auto other_than = [&](const Tensor& g, const Shape& shape) {
    const Tensor& turn = g.data == turns[0].data ? turns[1] : turns[0];
    const Tensor r = turn.slice(0, shape);
    ctx.arena().reuse(turn.data, size_t(turn.bytes()), size_t(r.bytes()));  // (fresh to the sanitizers)
    return r;
  };
  Tensor da = dy;  // gradient at the current layer's output
  for (int i = int(net.layers.size()) - 1; i >= 0; i--) {
    const LayerSpec& l = net.layers[i];
    const Tensor& u = t.conv_out[i];
    Tensor du = da;
    if (l.batchnorm) {
      du = other_than(da, u.shape);
      Tensor gamma = p.param(l.bn_prefix + ".weight"), beta = p.param(l.bn_prefix + ".bias");
      Tensor dgamma = param_grads ? p.grad(l.bn_prefix + ".weight") : Tensor{};
      Tensor dbeta = param_grads ? p.grad(l.bn_prefix + ".bias") : Tensor{};
      batchnorm2d_backward(ctx, layer_bn(net, l), da, u, gamma, beta, t.bn_saved[i], du, dgamma, dbeta);
    } else if (l.act.kind != Act::identity) {
      du = other_than(da, u.shape);
      if (t.layer_out[i].data == u.data)  // u was overwritten by the activation's output
        activation_backward_at_output(ctx, l.act, u, da, du);
      else
        activation_backward(ctx, l.act, u, da, du);
    }
    const Tensor& in = i > 0 ? t.layer_out[i - 1] : t.input;
    Tensor w = p.param(l.conv_name);
    if (param_grads) {
      if (l.transposed)
        conv_transpose2d_backward_filter(ctx, in, du, l.geom, p.grad(l.conv_name));
      else
        conv2d_backward_filter(ctx, in, du, l.geom, p.grad(l.conv_name));
      if (layer_done) layer_done(i);
    }
    Tensor din = i > 0 ? other_than(du, in.shape) : dx;
    if (din.data == nullptr) break;  // the input gradient is not wanted
    if (l.transposed)
      conv_transpose2d_backward_data(ctx, du, w, l.geom, din);
    else
      conv2d_backward_data(ctx, du, w, l.geom, din);
    da = din;
  }
}

int64_t network_forward_macs(const Network& net) {
  int64_t macs = 0;
  int size = net.in_size;
  for (const LayerSpec& l : net.layers) {
    // Each output pixel of a conv costs in*k*k MACs per output channel; a transposed conv
    // costs the same counted per input pixel.
    int64_t pixels = l.transposed ? int64_t(size) * size : int64_t(l.out_size) * l.out_size;
    macs += pixels * l.in_channels * l.out_channels * l.kernel * l.kernel;
    size = l.out_size;
  }
  return macs;
}

}  // namespace dg
