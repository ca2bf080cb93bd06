// Backend dispatch: each op in engine/ops.h is defined in engine/cpu/<op>.cpp, whose first
// line hands the call to the CUDA twin (engine/cuda/cuda_ops.h, same signature) when the
// context is on the GPU. The rest of that function is the CPU reference.
#pragma once
#include "engine/context.h"
#include "engine/error.h"

#ifdef DG_HAVE_CUDA
#include "engine/cuda/cuda_ops.h"
#define DG_DISPATCH_CUDA(ctx, call) \
  do {                              \
    if ((ctx).on_cuda()) return ::dg::cuda::call; \
  } while (0)
#else
#define DG_DISPATCH_CUDA(ctx, call) \
  DG_CHECK(!(ctx).on_cuda(), "this dg was built without the CUDA backend")
#endif
