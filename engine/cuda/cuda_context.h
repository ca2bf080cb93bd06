// CudaState: the GPU side of a dg::Context (engine/context.h): device, stream, cuDNN and
// cuBLAS handles bound to that stream, and the cache of convolution algorithms chosen by
// measurement (engine/cuda/conv_cudnn.cu). Everything runs on the one stream.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <map>
#include <string>
#include <vector>

#include "engine/arena.h"

namespace dg {

// One algorithm cuDNN's Find ran for a shape, with its own timing of it.
struct ConvTrial {
  int algo = 0;
  float ms = 0;
  size_t workspace_bytes = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  bool deterministic = false;
};

struct ConvAlgo {
  int algo = 0;               // a cudnnConvolution{Fwd,BwdData,BwdFilter}Algo_t
  size_t workspace_bytes = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;  // what Find measured it with: set it to run it
  std::vector<ConvTrial> trials;              // every algorithm that ran, fastest first (dgbench)
};

struct CudaState {
  // Throws dg::Error (and releases what it made) when the device or a library fails.
  CudaState(int device, bool strict_fp32);
  ~CudaState();
  CudaState(const CudaState&) = delete;
  CudaState& operator=(const CudaState&) = delete;

  // cudaMalloc-backed blocks for the arena; running out of memory says how much was asked
  // for and is free, and suggests a smaller batch.
  ArenaBacking device_backing();
  void copy_to_device(float* dst, const float* src, size_t bytes);
  void copy_to_host(float* dst, const float* src, size_t bytes);
  void fill(float* p, int64_t n, float value);
  void synchronize();

  int device = 0;
  bool strict_fp32 = false;  // no TF32: cuDNN CUDNN_FMA_MATH, cuBLAS pedantic
  // Only convolution algorithms cuDNN reports as deterministic (no atomics); set it before
  // the first convolution (it joins the cache key, so a later switch searches again).
  bool deterministic_convs = false;
  // Context::when_any_nonzero may make conditional graph nodes during a capture (off once a
  // capture failed inside one: engine/step_graph.h); whether the latest capture did.
  bool conditional_nodes = true;
  bool conditional_failed = false;
  cudaStream_t stream = nullptr;
  cudnnHandle_t cudnn = nullptr;
  cublasHandle_t cublas = nullptr;
  // key: primitive, shapes, geometry, math mode, determinism (engine/cuda/conv_cudnn.cu)
  std::map<std::string, ConvAlgo> conv_algos;

 private:
  void release();
};

// Launch configuration of a 1-d grid-stride kernel over n elements.
inline int blocks_for(int64_t n, int threads) {
  int64_t b = (n + threads - 1) / threads;
  return int(b < 1 ? 1 : b > 65535 * 32 ? 65535 * 32 : b);
}

}  // namespace dg
