// DCGAN generator and discriminator builders (DESIGN §4).
//   dcgan, S in {32, 64, 128}: G = ConvT(nz -> ngf*S/8, k4 s1 p0) to 4x4, then ConvT k4 s2 p1
//     doublings with BN + act, last ConvT to nc + Tanh. D mirrors it: Conv k4 s2 p1 + LeakyReLU
//     (no BN on the first), Conv + BN + LeakyReLU down to 4x4, Conv(-> 1, k4 s1 p0), a logit.
//     S = 64 is exactly pytorch/examples' DCGAN.
//   seed32: the seed project's 32x32 net: G's first ConvT k2 s1 p0 to 2x2, four doublings;
//     D halves 32 -> 2 and ends with Conv(-> 1, k2 s1 p0).
// No biases anywhere. Parameter names are those of nn.Sequential `main` in pytorch/examples.
#pragma once
#include <string>

#include "models/network.h"

namespace dg {

struct ModelConfig {
  std::string arch = "dcgan";  // "dcgan" or "seed32"
  int image_size = 32;
  int channels = 1;            // nc
  int nz = 100, ngf = 64, ndf = 64;
  Act g_act = Act::relu;       // relu or mish
};

// Throws a dg::Error naming the bad field and the accepted values.
void validate(const ModelConfig& cfg);
Network build_generator(const ModelConfig& cfg);
Network build_discriminator(const ModelConfig& cfg, int index);

}  // namespace dg
