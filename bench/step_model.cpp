// model_step (bench/step_model.h): the trainer's step (models/gan_trainer.cpp, queue_step) op by
// op, as the CUDA bodies issue them, with each op's launches, bytes and convolution FLOPs.
#include "bench/step_model.h"

#include "models/dcgan.h"

namespace dg {

namespace {

constexpr double kF = sizeof(float);

struct Counter {
  StepModel m;
  bool in_body = false;  // inside a conditional node's body: runs, but is not one of the graph's nodes
  void op(int64_t launches, double floats, double flops = 0) {
    m.launches += launches;
    if (!in_body) m.nodes += launches;
    m.bytes += kF * floats;
    m.flops += flops;
  }
};

// Layer i of a network: its input's channels and size, and the element counts for batch N.
struct LayerShapes {
  double in, w, out, macs;  // elements of input, weight, output; multiply-adds of one pass
  int bn_C = 0;
  int64_t bn_P = 0;
};
std::vector<LayerShapes> shapes(const Network& net, int N) {
  std::vector<LayerShapes> v;
  int ch = net.in_channels, size = net.in_size;
  for (const LayerSpec& l : net.layers) {
    LayerShapes s;
    s.in = double(N) * ch * size * size;
    s.w = double(l.in_channels) * l.out_channels * l.kernel * l.kernel;
    s.out = double(N) * l.out_channels * l.out_size * l.out_size;
    // Each output pixel of a conv costs in*k*k MACs per output channel; a transposed conv the
    // same per input pixel (models/network.cpp, network_forward_macs).
    const double pixels = l.transposed ? double(size) * size : double(l.out_size) * l.out_size;
    s.macs = double(N) * pixels * l.in_channels * l.out_channels * l.kernel * l.kernel;
    s.bn_C = l.out_channels;
    s.bn_P = int64_t(l.out_size) * l.out_size;
    v.push_back(s);
    ch = l.out_channels;
    size = l.out_size;
  }
  return v;
}

// The batchnorm's split kernels: S > 1, or synchronized BN (which takes them at any S).
bool split(int N, const LayerShapes& s, bool sync) { return sync || batchnorm_cuda_splits(N, s.bn_C, s.bn_P) > 1; }

// network_forward in training mode: the conv, then the fused batchnorm (1 launch, or 5 split)
// or a standalone activation.
void forward(Counter& c, const Network& net, int N, bool sync) {
  const std::vector<LayerShapes> v = shapes(net, N);
  for (size_t i = 0; i < v.size(); i++) {
    const LayerSpec& l = net.layers[i];
    c.op(1, v[i].in + v[i].w + v[i].out, 2 * v[i].macs);
    if (l.batchnorm) c.op(split(N, v[i], sync) ? 5 : 1, 2 * v[i].out);
    else if (l.act.kind != Act::identity) c.op(1, 2 * v[i].out);
  }
}

// network_backward: last layer first; the batchnorm's backward (1 launch, or 3 split) or the
// activation's, the filter gradient when wanted (accumulated: dw read and written), the data
// gradient for every layer but the first, and for the first when dx is wanted.
void backward(Counter& c, const Network& net, int N, bool sync, bool param_grads, bool dx) {
  const std::vector<LayerShapes> v = shapes(net, N);
  for (int i = int(v.size()) - 1; i >= 0; i--) {
    const LayerSpec& l = net.layers[size_t(i)];
    if (l.batchnorm) c.op(split(N, v[size_t(i)], sync) ? 3 : 1, 3 * v[size_t(i)].out);
    else if (l.act.kind != Act::identity) c.op(1, 3 * v[size_t(i)].out);
    if (param_grads) c.op(1, v[size_t(i)].in + v[size_t(i)].out + 2 * v[size_t(i)].w, 2 * v[size_t(i)].macs);
    if (i == 0 && !dx) break;
    c.op(1, v[size_t(i)].out + v[size_t(i)].w + v[size_t(i)].in, 2 * v[size_t(i)].macs);
  }
}

}  // namespace

StepModel model_step(const TrainConfig& cfg, bool graph) {
  const int K = cfg.discriminators, B = cfg.batch_size;
  const bool sync = cfg.sync_bn;
  const Network g = build_generator(cfg.model);
  std::vector<Network> d;
  for (int i = 0; i < K; i++) d.push_back(build_discriminator(cfg.model, i));
  const double n_g = double(g.params.param_count()), n_d = double(d[0].params.param_count());
  const double fake = double(B) * cfg.model.channels * cfg.model.image_size * cfg.model.image_size;
  Counter c;
  c.op(1, double(B) * cfg.model.nz);  // the noise
  forward(c, g, B, sync);
  for (const Network& net : d) {      // each D: zero grads, real and fake passes with BCE
    c.op(1, n_d);
    for (int pass = 0; pass < 2; pass++) {
      forward(c, net, B, sync);
      c.op(1, 2.0 * B);
      backward(c, net, B, sync, true, false);
    }
  }
  for (int i = 0; i < K; i++) c.op(1, 7 * n_d);  // Adam: p, g, m, v read; p, m, v written
  if (cfg.g_loss.mode == GLoss::seed) c.op(1, 4.0 * K);
  for (const Network& net : d) {  // every D scores the fake batch; logits side by side
    forward(c, net, B, sync);
    c.op(1, 2.0 * B);
  }
  c.op(1, 3.0 * K * B);  // generator loss
  if (K == 1) {
    backward(c, d[0], B, sync, false, true);
  } else {
    c.op(1, fake);  // dfake = 0
    // Each D's backward and dfake += dfake_i, when_any_nonzero of its dlogits: queued one by
    // one every D's runs; in a graph, a kernel sets a conditional node's value (B dlogits
    // read), the node runs the body when set: under max and seed one D's, under max-sample
    // those given a sample (all K here: an upper bound), otherwise every D's.
    const bool one = cfg.g_loss.mode == GLoss::max || cfg.g_loss.mode == GLoss::seed;
    for (int i = 0; i < K; i++) {
      if (graph) {
        c.op(1, double(B));
        c.m.nodes += 1;  // the conditional node
      }
      if (graph && one && i > 0) continue;
      c.in_body = graph;
      backward(c, d[size_t(i)], B, sync, false, true);
      c.op(1, 3 * fake);
      c.in_body = false;
    }
  }
  c.op(1, n_g);  // G: zero grads, backward, Adam
  backward(c, g, B, sync, true, false);
  c.op(1, 7 * n_g);
  c.op(1, 2.0 + 4 * K);  // the non-finite record
  c.op(1, 0);            // the step counter
  return c.m;
}

// Dense TF32 tensor-core rates: NVIDIA's H100/H200 SXM datasheets (989 TFLOP/s with sparsity,
// half that dense). Bandwidth: a device-to-device copy measured on these machines (the tool
// library's device/KINDS.md: about 3.0 TB/s on an H100, 4.3 on an H200, bytes read + written).
// Per-launch costs are assumptions: about 1.5 us per node of a replayed graph (the device's gap
// between dependent kernels) and 4 us per launch queued one by one (the host's launch call and
// that gap); measure them when a GPU is lent.
const std::vector<DeviceModel>& device_models() {
  static const std::vector<DeviceModel> models = {
      {"h100", 494.7, 3.0, 1.5, 4.0, "TF32 dense from the H100 SXM datasheet; copy 3.0 TB/s measured (KINDS.md)"},
      {"h200", 494.7, 4.3, 1.5, 4.0, "TF32 dense from the H200 SXM datasheet; copy 4.3 TB/s measured (KINDS.md)"},
  };
  return models;
}

double model_ms(const TrainConfig& cfg, const DeviceModel& d, bool graph) {
  const StepModel m = model_step(cfg, graph);
  const double launch_us = graph ? d.graph_launch_us : d.stream_launch_us;
  return m.flops / (d.tf32_tflop_s * 1e12) * 1e3 + m.bytes / (d.hbm_tb_s * 1e12) * 1e3 +
         double(m.launches) * launch_us * 1e-3;
}

}  // namespace dg
