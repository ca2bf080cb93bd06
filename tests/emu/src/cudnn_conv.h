// The cuDNN convolutions' shared pieces: a call's shape, the algorithms' entries, the checks
// of the arguments and the run that a queued convolution executes; used by cudnn_conv.cpp (the
// algorithms and the calls that run them), cudnn_conv_arithmetic.cpp (the loops) and
// cudnn_conv_find.cpp (the algorithm queries and Find*Ex).
#pragma once
#include <cstddef>
#include <cstdint>

#include "cudnn_emu.h"

namespace dgemu {

enum class Primitive { forward, backward_data, backward_filter };
enum class Sum { in_order, reversed, pairwise, chunks4, chunks8, shuffled };

// One convolution "x (N, C, H, W) * w (K, C, R, S) -> y (N, K, P, Q)".
struct Geometry {
  int N, C, H, W, K, R, S, P, Q, pad_h, pad_w, u, v, dil_h, dil_w;
  bool flip;  // CUDNN_CONVOLUTION mirrors the filter
  double macs() const { return double(N) * K * P * Q * C * R * S; }
};

struct Algo {
  int id;
  const char* name;
  Sum sum;
  bool deterministic;
  bool tensor_ops;     // may use TF32 tensor cores
  bool aligned16;      // needs 16-byte aligned buffers
  int workspace;       // 0: none, 1: a copy of the input read from the workspace
  double cost;         // relative time per multiply-add in the cost model
  bool (*supports)(const Geometry&);
};

// ---- the algorithms and the arguments (cudnn_conv.cpp) ----
const Algo* table(Primitive p, int* count);
cudnnStatus_t geometry(const char* call, cudnnTensorDescriptor_t x, cudnnFilterDescriptor_t w,
                       cudnnConvolutionDescriptor_t conv, cudnnTensorDescriptor_t y, Geometry* g);
size_t input_bytes(Primitive p, const Geometry& g);
size_t workspace_bytes(Primitive p, const Algo& a, const Geometry& g);
bool tf32_for(const Algo& a, cudnnMathType_t math);
bool aligned(const void* p);
cudnnStatus_t check_buffers(const char* call, Primitive prim, const Geometry& g, const void* a, const void* b,
                            const void* out);

// ---- the arithmetic (cudnn_conv_arithmetic.cpp) ----
struct Run {
  Primitive prim;
  Geometry g;
  Algo algo;
  bool tf32;
  float alpha, beta;
  const float* a;  // forward: x; backward-data: dy; backward-filter: x
  const float* b;  // forward: w; backward-data: w;  backward-filter: dy
  float* out;
  float* workspace;
  uint64_t seed;
};
void execute(const Run& r);

}  // namespace dgemu
