// Backend dispatch for the op rooms (kernels/<op>/): an op's entry (kernels/<op>/<op>.cpp)
// checks its arguments once, then hands the call to the CUDA body (dg::cuda::, in the room's
// .cu file) when the context is on the GPU, or to the CPU body (dg::cpu::, <op>_cpu.cpp).
#pragma once
#include "engine/context.h"
#include "engine/error.h"

#ifdef DG_HAVE_CUDA
#define DG_DISPATCH_CUDA(ctx, call) \
  do {                              \
    if ((ctx).on_cuda()) return ::dg::cuda::call; \
  } while (0)
#else
#define DG_DISPATCH_CUDA(ctx, call) \
  DG_CHECK(!(ctx).on_cuda(), "this dg was built without the CUDA backend")
#endif
