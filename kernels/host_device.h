// DG_HD: a function compiled for the host and, under nvcc, for the device too, so the CPU
// reference and the CUDA kernels share one definition of the per-element math.
#pragma once

#if defined(__CUDACC__)
#define DG_HD __host__ __device__ __forceinline__
#else
#define DG_HD inline
#endif
