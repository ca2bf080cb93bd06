// A DCGAN-style network: a chain of (transposed) convolutions, each followed by an optional
// BatchNorm (with the activation fused) or by a standalone activation. Parameters live in a
// ParamStore under PyTorch's nn.Sequential names ("main.<index>.weight").
//
// forward() returns a Trace holding everything backward() needs, so the same network can
// run several times before any backward (a discriminator sees real, then fake, then fake
// again) without one pass overwriting another's state. Traces live in the arena: release
// them with the step's scratch scope.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "kernels/activation/activation.h"
#include "kernels/batchnorm/batchnorm.h"
#include "kernels/conv/conv.h"
#include "engine/param_store.h"

namespace dg {

struct LayerSpec {
  bool transposed = false;  // ConvTranspose2d instead of Conv2d
  int in_channels = 0, out_channels = 0;
  int kernel = 4;
  ConvGeom geom;
  bool batchnorm = false;
  Activation act;          // after batchnorm (fused) or after the conv
  int out_size = 0;        // spatial size after this layer (square)
  std::string conv_name;   // "main.0.weight"
  std::string bn_prefix;   // "main.1" (weight, bias, running_mean, running_var)
};

struct Network {
  std::string name;        // "G", "D0", ...
  int in_channels = 0, in_size = 0;
  std::vector<LayerSpec> layers;
  ParamStore params;
  BatchNormConfig bn;      // eps and momentum (the activation comes from each layer)
};

enum class Mode { train, eval };

// Per layer: the conv output u and the layer output a (the same tensor when there is nothing
// after the conv, or when a standalone activation whose derivative follows from its output
// overwrote u), and the batch statistics when there is a batchnorm.
struct Trace {
  Tensor input;
  std::vector<Tensor> conv_out, layer_out;
  std::vector<BatchNormSaved> bn_saved;
  Mode mode = Mode::train;
  Tensor output() const { return layer_out.back(); }
};

// Declares the parameters of `net.layers` in net.params (call before allocate).
void declare_parameters(Network& net);

// x (N, in_channels, in_size, in_size) -> trace with output (N, C_last, out, out).
// Training mode uses batch statistics and updates the running ones.
Trace network_forward(Context& ctx, Network& net, const Tensor& x, Mode mode);

// dy: gradient at the output. Parameter gradients accumulate into net.params.grads() when
// param_grads; dx (gradient at the input, overwritten) is computed when dx.data != nullptr.
// layer_done(i), if given, is called once layer i's parameter gradients are complete (layers
// go last to first): the hook of the gradient buckets (models/grad_buckets.h).
void network_backward(Context& ctx, Network& net, const Trace& trace, const Tensor& dy, Tensor dx,
                      bool param_grads, const std::function<void(int layer)>& layer_done = nullptr);

// Multiply-add count of one forward pass for a batch of 1 (for throughput reports).
int64_t network_forward_macs(const Network& net);

}  // namespace dg
