#include "models/dcgan.h"

namespace dg {

void validate(const ModelConfig& c) {
  DG_CHECK(c.arch == "dcgan" || c.arch == "seed32", "--arch: unknown architecture '", c.arch,
           "' (accepted: dcgan, seed32)");
  if (c.arch == "dcgan")
    DG_CHECK(c.image_size == 32 || c.image_size == 64 || c.image_size == 128, "--image-size ", c.image_size,
             " is not supported by dcgan (accepted: 32, 64, 128)");
  else
    DG_CHECK(c.image_size == 32, "--image-size ", c.image_size, ": seed32 is a 32x32 network");
  DG_CHECK(c.channels == 1 || c.channels == 3, "--channels ", c.channels, " (accepted: 1, 3)");
  DG_CHECK(c.nz >= 1 && c.ngf >= 1 && c.ndf >= 1, "nz, ngf and ndf must be positive (got ", c.nz, ", ", c.ngf,
           ", ", c.ndf, ")");
  DG_CHECK(c.g_act == Act::relu || c.g_act == Act::mish, "the generator activation must be relu or mish");
}

// Appends a layer named after its nn.Sequential index; BN (when present) takes the next
// index and the activation the one after, as in pytorch/examples.
static void push_layer(Network& net, int& index, bool transposed, int in, int out, int kernel, ConvGeom g,
                       bool batchnorm, Activation act, int out_size) {
  LayerSpec l;
  l.transposed = transposed;
  l.in_channels = in;
  l.out_channels = out;
  l.kernel = kernel;
  l.geom = g;
  l.batchnorm = batchnorm;
  l.act = act;
  l.out_size = out_size;
  l.conv_name = "main." + std::to_string(index) + ".weight";
  index++;
  if (batchnorm) l.bn_prefix = "main." + std::to_string(index++);
  if (act.kind != Act::identity) index++;
  net.layers.push_back(l);
}

static int log2_exact(int v) {
  int k = 0;
  while ((1 << k) < v) k++;
  return k;
}

Network build_generator(const ModelConfig& c) {
  validate(c);
  Network g;
  g.name = "G";
  g.in_channels = c.nz;
  g.in_size = 1;
  const bool seed = c.arch == "seed32";
  const int start = seed ? 2 : 4;                   // spatial size after the first layer
  const int doublings = log2_exact(c.image_size / start);
  const Activation act{c.g_act};
  int index = 0, size = start, ch = c.ngf << (doublings - 1);
  push_layer(g, index, true, c.nz, ch, start, {1, 0}, true, act, size);
  for (int d = 1; d < doublings; d++) {
    size *= 2;
    push_layer(g, index, true, ch, ch / 2, 4, {2, 1}, true, act, size);
    ch /= 2;
  }
  push_layer(g, index, true, ch, c.channels, 4, {2, 1}, false, {Act::tanh}, size * 2);
  declare_parameters(g);
  return g;
}

Network build_discriminator(const ModelConfig& c, int which) {
  validate(c);
  Network d;
  d.name = "D" + std::to_string(which);
  d.in_channels = c.channels;
  d.in_size = c.image_size;
  const bool seed = c.arch == "seed32";
  const int end = seed ? 2 : 4;                     // spatial size before the last conv
  const int halvings = log2_exact(c.image_size / end);
  const Activation lrelu{Act::leaky_relu, 0.2f};
  int index = 0, size = c.image_size / 2, ch = c.ndf;
  push_layer(d, index, false, c.channels, ch, 4, {2, 1}, false, lrelu, size);
  for (int h = 1; h < halvings; h++) {
    size /= 2;
    push_layer(d, index, false, ch, ch * 2, 4, {2, 1}, true, lrelu, size);
    ch *= 2;
  }
  push_layer(d, index, false, ch, 1, end, {1, 0}, false, {Act::identity}, 1);
  declare_parameters(d);
  return d;
}

}  // namespace dg
