// Backend dispatch for the op rooms (kernels/<op>/): an op's entry (kernels/<op>/<op>.cpp)
// checks its arguments once, then hands the call to the CUDA body (dg::cuda::, in the room's
// .cu file) when the context is on the GPU, or to the CPU body (dg::cpu::, <op>_cpu.cpp).
#pragma once
#include "engine/context.h"
#include "engine/error.h"

// Declares the two bodies of the entry dg::op, dg::cpu::op and dg::cuda::op, with the entry's
// own signature (from the room's header): a signature is written once, in the contract. At
// namespace dg scope in the entry file; a body whose signature differs is declared by hand.
#define DG_OP_BODIES(op)          \
  namespace cpu {                 \
  decltype(::dg::op) op;          \
  }                               \
  namespace cuda {                \
  decltype(::dg::op) op;          \
  }

#ifdef DG_HAVE_CUDA
#define DG_DISPATCH_CUDA(ctx, call) \
  do {                              \
    if ((ctx).on_cuda()) return ::dg::cuda::call; \
  } while (0)
#else
#define DG_DISPATCH_CUDA(ctx, call) \
  DG_CHECK(!(ctx).on_cuda(), "this dg was built without the CUDA backend")
#endif

// The whole dispatch at the end of an entry: the CUDA body on the GPU, else the CPU body, with
// the call written once (`return DG_DISPATCH(...)` is not needed: it returns).
#define DG_DISPATCH(ctx, call)      \
  do {                              \
    DG_DISPATCH_CUDA(ctx, call);    \
    return ::dg::cpu::call;         \
  } while (0)
