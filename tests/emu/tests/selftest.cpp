// The emulator's self-tests (label gpu, built only with -DDG_CUDA=EMU): each breaks a kernel or
// a call in a way real CUDA code breaks, and checks that the emulator catches it, by a wrong
// result in some schedule (DGEMU_ORDER's forward, reverse or random), an error code naming the
// call, or an abort naming the kernel and the line; each beside the correct version, which must
// pass in every schedule. Aborts are checked in a forked child.
#include <doctest/doctest.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include <nccl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <csignal>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "dgemu/introspect.h"
#include "engine/context.h"
#include "engine/cuda/cuda_context.h"
#include "tests/emu/tests/broken_kernels.h"

namespace {

const char* const kOrders[] = {"forward", "reverse", "random"};

// Runs `body` in a child process; returns its exit status (128 + signal when killed) and what
// it wrote to stderr.
struct Child {
  int status;
  std::string err;
};
struct Started {
  pid_t pid;
  int fd;
};
Started start_child(const std::function<void()>& body) {
  int fd[2];
  REQUIRE(pipe(fd) == 0);
  std::fflush(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: stderr to the pipe, and no doctest crash handlers
    close(fd[0]);
    dup2(fd[1], 2);
    if (FILE* null = std::freopen("/dev/null", "w", stdout)) (void)null;
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) std::signal(sig, SIG_DFL);
    body();
    _exit(0);
  }
  close(fd[1]);
  return {pid, fd[0]};
}
Child finish_child(Started c) {
  std::string err;
  char buf[4096];
  for (ssize_t n; (n = read(c.fd, buf, sizeof buf)) > 0;) err.append(buf, size_t(n));
  close(c.fd);
  int st = 0;
  waitpid(c.pid, &st, 0);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), err};
}
Child in_child(const std::function<void()>& body) { return finish_child(start_child(body)); }

struct Device {
  cudaStream_t s = nullptr;
  Device() { REQUIRE(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking) == cudaSuccess); }
  ~Device() { cudaStreamDestroy(s); }
  float* alloc(size_t n) {
    void* p = nullptr;
    REQUIRE(cudaMalloc(&p, n * sizeof(float)) == cudaSuccess);
    ptrs.push_back(p);
    return static_cast<float*>(p);
  }
  void put(float* d, const std::vector<float>& h) {
    REQUIRE(cudaMemcpyAsync(d, h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice, s) == cudaSuccess);
  }
  std::vector<float> get(const float* d, size_t n) {
    std::vector<float> h(n);
    REQUIRE(cudaMemcpyAsync(h.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, s) == cudaSuccess);
    REQUIRE(cudaStreamSynchronize(s) == cudaSuccess);
    return h;
  }
  std::vector<void*> ptrs;
  Device(const Device&) = delete;
};

bool asan() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#else
  return false;
#endif
}

}  // namespace

TEST_CASE("a missing __syncthreads in a shared-memory reduction gives a wrong sum in some order, with it never") {
  int wrong = 0;
  for (const char* order : kOrders) {
    CAPTURE(order);
    dgemu_set_order(order, 7);
    Device d;
    std::vector<float> x(256);
    float sum = 0;  // small integers: every order sums them exactly
    for (int i = 0; i < 256; i++) sum += x[size_t(i)] = float(i % 7);
    float *dx = d.alloc(256), *out = d.alloc(1);
    d.put(dx, x);
    REQUIRE(emutest::tree_sum(dx, out, true, d.s) == cudaSuccess);
    CHECK(d.get(out, 1)[0] == sum);
    REQUIRE(emutest::tree_sum(dx, out, false, d.s) == cudaSuccess);
    wrong += d.get(out, 1)[0] != sum;
  }
  CHECK(wrong > 0);
  dgemu_set_order("forward", 1);
}

TEST_CASE("a __syncthreads reached by half the block aborts, naming the kernel and the line") {
  Child c = in_child([] {
    Device d;
    float* out = d.alloc(64);
    emutest::divergent_barrier(out, d.s);
    cudaStreamSynchronize(d.s);
  });
  INFO(c.err);
  CHECK(c.status != 0);
  CHECK(c.err.find("divergent barrier") != std::string::npos);
  CHECK(c.err.find("divergent_barrier_kernel") != std::string::npos);
  CHECK(c.err.find("broken_kernels.cu:28") != std::string::npos);  // the barrier's line
}

TEST_CASE("lanes of one warp at different shuffles abort as a divergent warp") {
  Child c = in_child([] {
    Device d;
    float* out = d.alloc(32);
    emutest::divergent_shuffle(out, d.s);
    cudaStreamSynchronize(d.s);
  });
  INFO(c.err);
  CHECK(c.status != 0);
  CHECK(c.err.find("divergent warp") != std::string::npos);
  CHECK(c.err.find("divergent_shuffle_kernel") != std::string::npos);
}

TEST_CASE("a write one past the end of a cudaMalloc buffer is an AddressSanitizer report") {
  if (!asan()) {
    MESSAGE("SKIPPED: this build has no AddressSanitizer");
    return;
  }
  Child c = in_child([] {
    Device d;
    float *x = d.alloc(100), *y = d.alloc(100);
    emutest::fill(x, 100, 1.0f, d.s);
    emutest::off_by_one(x, y, 100, d.s);
    cudaStreamSynchronize(d.s);
  });
  CHECK(c.status != 0);
  CHECK(c.err.find("heap-buffer-overflow") != std::string::npos);
  CHECK(c.err.find("off_by_one_kernel") != std::string::npos);
}

TEST_CASE("a write past a tensor's end into dg's arena guard zone is an AddressSanitizer report") {
  if (!asan()) {
    MESSAGE("SKIPPED: this build has no AddressSanitizer");
    return;
  }
  Child c = in_child([] {
    dg::ContextOptions o;
    o.device = dg::Device::cuda;
    dg::Context ctx(o);
    dg::Tensor a = ctx.alloc({64}), b = ctx.alloc({64});  // neighbours in one arena block
    ctx.fill(a, 1.0f);
    ctx.fill(b, 1.0f);
    emutest::off_by_one(a.data, a.data, 64, ctx.cuda().stream);
    ctx.synchronize();
  });
  CHECK(c.status != 0);
  CHECK(c.err.find("use-after-poison") != std::string::npos);
  CHECK(c.err.find("off_by_one_kernel") != std::string::npos);
}

TEST_CASE("a read of device memory nobody wrote gives NaN") {
  Device d;
  float *x = d.alloc(64), *y = d.alloc(64);
  REQUIRE(emutest::add_one(x, y, 64, d.s) == cudaSuccess);
  for (float v : d.get(y, 64)) CHECK(std::isnan(v));
}

TEST_CASE("a missing cudaStreamWaitEvent between two streams gives a wrong result in some order, with it never") {
  int wrong = 0;
  for (const char* order : kOrders) {
    CAPTURE(order);
    dgemu_set_order(order, 3);
    for (bool wait : {true, false}) {
      Device a, b;
      cudaEvent_t written;
      REQUIRE(cudaEventCreateWithFlags(&written, cudaEventDisableTiming) == cudaSuccess);
      float *x = a.alloc(64), *y = a.alloc(64);
      REQUIRE(emutest::fill(x, 64, 2.0f, a.s) == cudaSuccess);
      REQUIRE(cudaEventRecord(written, a.s) == cudaSuccess);
      if (wait) REQUIRE(cudaStreamWaitEvent(b.s, written, 0) == cudaSuccess);
      REQUIRE(emutest::add_one(x, y, 64, b.s) == cudaSuccess);
      REQUIRE(cudaDeviceSynchronize() == cudaSuccess);
      const float got = b.get(y, 64)[0];
      if (wait) CHECK(got == 3.0f);
      else wrong += got != 3.0f;
      cudaEventDestroy(written);
    }
  }
  CHECK(wrong > 0);
  dgemu_set_order("forward", 1);
}

TEST_CASE("cuBLAS: a swapped transpose gives another product, a too small leading dimension is refused") {
  Device d;
  cublasHandle_t h;
  REQUIRE(cublasCreate(&h) == CUBLAS_STATUS_SUCCESS);
  REQUIRE(cublasSetStream(h, d.s) == CUBLAS_STATUS_SUCCESS);
  // Column-major A (2 x 3), B (3 x 2): C = A B (2 x 2).
  const std::vector<float> A = {1, 2, 3, 4, 5, 6}, B = {1, 0, 2, 1, 1, 0};
  std::vector<float> want(4, 0.0f);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 2; j++)
      for (int p = 0; p < 3; p++) want[size_t(j * 2 + i)] += A[size_t(p * 2 + i)] * B[size_t(j * 3 + p)];
  float *a = d.alloc(6), *b = d.alloc(6), *c = d.alloc(4);
  d.put(a, A);
  d.put(b, B);
  const float one = 1, zero = 0;
  REQUIRE(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a, 2, b, 3, &zero, c, 2) == CUBLAS_STATUS_SUCCESS);
  CHECK(d.get(c, 4) == want);  // beta = 0: C's NaN bytes were never read
  // B read transposed (as 2 x 3 with ldb 2): a valid call, a different product.
  REQUIRE(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_T, 2, 2, 3, &one, a, 2, b, 2, &zero, c, 2) == CUBLAS_STATUS_SUCCESS);
  CHECK(d.get(c, 4) != want);
  CHECK(cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 2, 2, 3, &one, a, 1, b, 3, &zero, c, 2) == CUBLAS_STATUS_INVALID_VALUE);
  CHECK(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, 2, 2, 3, &one, a, 2, b, 3, &zero, c, 2) == CUBLAS_STATUS_INVALID_VALUE);
  cublasDestroy(h);
}

TEST_CASE("cuDNN: beta 1 accumulates, beta 0 overwrites without reading, a too small workspace is refused") {
  Device d;
  cudnnHandle_t h;
  REQUIRE(cudnnCreate(&h) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetStream(h, d.s) == CUDNN_STATUS_SUCCESS);
  cudnnTensorDescriptor_t x, y;
  cudnnFilterDescriptor_t w;
  cudnnConvolutionDescriptor_t conv;
  cudnnCreateTensorDescriptor(&x);
  cudnnCreateTensorDescriptor(&y);
  cudnnCreateFilterDescriptor(&w);
  cudnnCreateConvolutionDescriptor(&conv);
  REQUIRE(cudnnSetTensor4dDescriptor(x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 2, 5, 5) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetFilter4dDescriptor(w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, 3, 2, 3, 3) == CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetConvolution2dDescriptor(conv, 1, 1, 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(cudnnSetConvolutionMathType(conv, CUDNN_FMA_MATH) == CUDNN_STATUS_SUCCESS);
  int n, c, hh, ww;
  REQUIRE(cudnnGetConvolution2dForwardOutputDim(conv, x, w, &n, &c, &hh, &ww) == CUDNN_STATUS_SUCCESS);
  CHECK((n == 1 && c == 3 && hh == 5 && ww == 5));
  REQUIRE(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 5, 5) == CUDNN_STATUS_SUCCESS);
  std::vector<float> hx(50), hdy(75), hdw0(54);
  for (size_t i = 0; i < hx.size(); i++) hx[i] = float(i % 5) - 2.0f;
  for (size_t i = 0; i < hdy.size(); i++) hdy[i] = float(i % 3) - 1.0f;
  for (size_t i = 0; i < hdw0.size(); i++) hdw0[i] = 0.5f;
  float *dx = d.alloc(50), *ddy = d.alloc(75), *dw = d.alloc(54);
  d.put(dx, hx);
  d.put(ddy, hdy);
  const float one = 1, zero = 0;
  const auto algo = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1;
  REQUIRE(cudnnConvolutionBackwardFilter(h, &one, x, dx, y, ddy, conv, algo, nullptr, 0, &zero, w, dw) ==
          CUDNN_STATUS_SUCCESS);
  const std::vector<float> grad = d.get(dw, 54);  // beta 0 on NaN bytes: finite
  for (float v : grad) REQUIRE(std::isfinite(v));
  d.put(dw, hdw0);
  REQUIRE(cudnnConvolutionBackwardFilter(h, &one, x, dx, y, ddy, conv, algo, nullptr, 0, &one, w, dw) ==
          CUDNN_STATUS_SUCCESS);
  const std::vector<float> acc = d.get(dw, 54);
  for (size_t i = 0; i < acc.size(); i++) CHECK(acc[i] == grad[i] + 0.5f);
  // An algorithm that needs a workspace, run without one.
  size_t need = 0;
  REQUIRE(cudnnGetConvolutionForwardWorkspaceSize(h, x, w, conv, y, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, &need) ==
          CUDNN_STATUS_SUCCESS);
  REQUIRE(need > 0);
  float* out = d.alloc(75);
  CHECK(cudnnConvolutionForward(h, &one, x, dx, w, dw, conv, CUDNN_CONVOLUTION_FWD_ALGO_GEMM, nullptr, 0, &zero, y,
                                out) == CUDNN_STATUS_BAD_PARAM);
  // Shapes that do not chain.
  REQUIRE(cudnnSetTensor4dDescriptor(y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1, 3, 4, 5) == CUDNN_STATUS_SUCCESS);
  CHECK(cudnnConvolutionForward(h, &one, x, dx, w, dw, conv, CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, nullptr, 0,
                                &zero, y, out) == CUDNN_STATUS_BAD_PARAM);
  cudnnDestroyConvolutionDescriptor(conv);
  cudnnDestroyFilterDescriptor(w);
  cudnnDestroyTensorDescriptor(y);
  cudnnDestroyTensorDescriptor(x);
  cudnnDestroy(h);
}

TEST_CASE("stream capture: a forbidden call fails and invalidates the capture, a clean one replays as a graph") {
  Device d;
  float* x = d.alloc(64);
  REQUIRE(emutest::fill(x, 64, 1.0f, d.s) == cudaSuccess);
  REQUIRE(cudaStreamBeginCapture(d.s, cudaStreamCaptureModeGlobal) == cudaSuccess);
  REQUIRE(emutest::add_one(x, x, 64, d.s) == cudaSuccess);
  void* p = nullptr;
  CHECK(cudaMalloc(&p, 64) == cudaErrorStreamCaptureUnsupported);
  CHECK(std::string(cudaGetErrorString(cudaErrorStreamCaptureUnsupported)).find("cudaMalloc") != std::string::npos);
  cudaGraph_t g = nullptr;
  CHECK(cudaStreamEndCapture(d.s, &g) == cudaErrorStreamCaptureInvalidated);
  CHECK(g == nullptr);
  // A synchronization inside a capture is forbidden too.
  REQUIRE(cudaStreamBeginCapture(d.s, cudaStreamCaptureModeGlobal) == cudaSuccess);
  CHECK(cudaStreamSynchronize(d.s) == cudaErrorStreamCaptureUnsupported);
  CHECK(cudaStreamEndCapture(d.s, &g) == cudaErrorStreamCaptureInvalidated);
  cudaGetLastError();
  // Clean: captured work runs only when the graph is launched, as often as it is launched.
  CHECK(d.get(x, 1)[0] == 1.0f);
  REQUIRE(cudaStreamBeginCapture(d.s, cudaStreamCaptureModeGlobal) == cudaSuccess);
  REQUIRE(emutest::add_one(x, x, 64, d.s) == cudaSuccess);
  REQUIRE(cudaStreamEndCapture(d.s, &g) == cudaSuccess);
  cudaGraphExec_t exec;
  REQUIRE(cudaGraphInstantiate(&exec, g, 0) == cudaSuccess);
  CHECK(d.get(x, 1)[0] == 1.0f);
  for (int i = 0; i < 3; i++) REQUIRE(cudaGraphLaunch(exec, d.s) == cudaSuccess);
  CHECK(d.get(x, 1)[0] == 4.0f);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(g);
}

namespace {
// An IF node reading `h`, added to `g` after `deps`: the node (null on failure) and its body.
cudaGraphNode_t add_if_node(cudaGraph_t g, cudaGraphConditionalHandle h, const cudaGraphNode_t* deps, size_t n,
                            cudaGraph_t* body) {
  cudaGraphNodeParams p{};
  p.type = cudaGraphNodeTypeConditional;
  p.conditional.handle = h;
  p.conditional.type = cudaGraphCondTypeIf;
  p.conditional.size = 1;
  cudaGraphNode_t node = nullptr;
  if (cudaGraphAddNode(&node, g, deps, nullptr, n, &p) != cudaSuccess) return nullptr;
  *body = p.conditional.phGraph_out[0];
  return node;
}
}  // namespace

// A handle has one node, the node owns its body graph, and a graph a capture is recording into
// is not to be destroyed.
TEST_CASE("stream capture: one conditional node per handle, its body the node's, a capturing graph not destroyed") {
  Device d;
  cudaGraph_t g = nullptr;
  REQUIRE(cudaGraphCreate(&g, 0) == cudaSuccess);
  REQUIRE(cudaStreamBeginCaptureToGraph(d.s, g, nullptr, nullptr, 0, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
  CHECK(cudaGraphDestroy(g) == cudaErrorIllegalState);
  cudaGraphConditionalHandle h = 0;
  REQUIRE(cudaGraphConditionalHandleCreate(&h, g, 1, cudaGraphCondAssignDefault) == cudaSuccess);
  cudaGraph_t body = nullptr;
  REQUIRE(add_if_node(g, h, nullptr, 0, &body) != nullptr);
  CHECK(add_if_node(g, h, nullptr, 0, &body) == nullptr);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);
  cudaGraph_t got = nullptr;
  REQUIRE(cudaStreamEndCapture(d.s, &got) == cudaSuccess);
  CHECK(got == g);
  CHECK(cudaGraphDestroy(body) == cudaErrorInvalidValue);
  cudaGetLastError();
  CHECK(cudaGraphDestroy(g) == cudaSuccess);
}

TEST_CASE("stream capture: a conditional node runs its body's work when set, skips it when not") {
  for (const char* order : kOrders) {
    CAPTURE(order);
    dgemu_set_order(order, 7);
    Device d;
    float* flag = d.alloc(1);
    float* x = d.alloc(64);
    REQUIRE(emutest::fill(x, 64, 0.0f, d.s) == cudaSuccess);
    REQUIRE(cudaStreamBeginCapture(d.s, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    cudaStreamCaptureStatus status;
    cudaGraph_t g = nullptr;
    const cudaGraphNode_t* deps = nullptr;
    size_t n = 0;
    REQUIRE(cudaStreamGetCaptureInfo(d.s, &status, nullptr, &g) == cudaSuccess);
    cudaGraphConditionalHandle h = 0;
    REQUIRE(cudaGraphConditionalHandleCreate(&h, g, 0, cudaGraphCondAssignDefault) == cudaSuccess);
    REQUIRE(emutest::set_if_positive(h, flag, d.s) == cudaSuccess);
    REQUIRE(cudaStreamGetCaptureInfo(d.s, &status, nullptr, &g, &deps, nullptr, &n) == cudaSuccess);
    cudaGraph_t body = nullptr;
    cudaGraphNode_t node = add_if_node(g, h, deps, n, &body);
    REQUIRE(node != nullptr);
    REQUIRE(cudaStreamEndCapture(d.s, &g) == cudaSuccess);
    REQUIRE(cudaStreamBeginCaptureToGraph(d.s, body, nullptr, nullptr, 0, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    REQUIRE(emutest::add_one(x, x, 64, d.s) == cudaSuccess);
    REQUIRE(emutest::add_one(x, x, 64, d.s) == cudaSuccess);
    cudaGraph_t got = nullptr;
    REQUIRE(cudaStreamEndCapture(d.s, &got) == cudaSuccess);
    REQUIRE(cudaStreamBeginCaptureToGraph(d.s, g, &node, nullptr, 1, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    REQUIRE(emutest::add_one(x, x, 64, d.s) == cudaSuccess);  // after the node: it sees the body's work
    REQUIRE(cudaStreamEndCapture(d.s, &got) == cudaSuccess);
    cudaGraphExec_t exec = nullptr;
    REQUIRE(cudaGraphInstantiate(&exec, g, 0) == cudaSuccess);
    REQUIRE(emutest::fill(flag, 1, 1.0f, d.s) == cudaSuccess);
    REQUIRE(cudaGraphLaunch(exec, d.s) == cudaSuccess);  // set: 0 + 2 + 1
    CHECK(d.get(x, 1)[0] == 3.0f);
    CHECK(dgemu_graph_nodes_run() == 4);
    // The kernel leaves the value alone now: the default (0), assigned at every launch, skips.
    REQUIRE(emutest::fill(flag, 1, -1.0f, d.s) == cudaSuccess);
    REQUIRE(cudaGraphLaunch(exec, d.s) == cudaSuccess);  // not set: + 1
    CHECK(d.get(x, 1)[0] == 4.0f);
    CHECK(dgemu_graph_nodes_run() == 2);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(g);
    // A handle no node reads makes instantiation fail.
    REQUIRE(cudaStreamBeginCapture(d.s, cudaStreamCaptureModeThreadLocal) == cudaSuccess);
    REQUIRE(cudaStreamGetCaptureInfo(d.s, &status, nullptr, &g) == cudaSuccess);
    REQUIRE(cudaGraphConditionalHandleCreate(&h, g, 0, 0) == cudaSuccess);
    REQUIRE(emutest::add_one(x, x, 64, d.s) == cudaSuccess);
    REQUIRE(cudaStreamEndCapture(d.s, &g) == cudaSuccess);
    CHECK(cudaGraphInstantiate(&exec, g, 0) == cudaErrorInvalidValue);
    cudaGetLastError();
    cudaGraphDestroy(g);
  }
  dgemu_set_order("forward", 1);
}

TEST_CASE("two CUDA threads spinning on each other's flags are reported as a deadlock") {
  Child c = in_child([] {
    dgemu_set_watchdog(2.0);
    Device d;
    int* flag = nullptr;
    cudaMalloc(reinterpret_cast<void**>(&flag), 2 * sizeof(int));
    cudaMemsetAsync(flag, 0, 2 * sizeof(int), d.s);
    emutest::spin(flag, d.s);
    cudaStreamSynchronize(d.s);
  });
  INFO(c.err);
  CHECK(c.status != 0);
  CHECK(c.err.find("deadlock") != std::string::npos);
  CHECK(c.err.find("spin_kernel") != std::string::npos);
}

TEST_CASE("launch and copy checks: too many threads, a host pointer for a device one, a copy against its kind") {
  Device d;
  float* x = d.alloc(64);
  std::vector<float> host(64, 1.0f);
  CHECK(emutest::too_big_block(x, d.s) == cudaErrorInvalidConfiguration);
  CHECK(std::string(cudaGetErrorString(cudaErrorInvalidConfiguration)).find("1025 threads") != std::string::npos);
  CHECK(emutest::add_one(host.data(), x, 64, d.s) == cudaErrorInvalidValue);
  CHECK(std::string(cudaGetErrorString(cudaErrorInvalidValue)).find("argument 1") != std::string::npos);
  CHECK(cudaMemcpyAsync(host.data(), x, 256, cudaMemcpyHostToDevice, d.s) == cudaErrorInvalidValue);
  CHECK(cudaMemcpyAsync(x, host.data(), 260, cudaMemcpyHostToDevice, d.s) == cudaErrorInvalidValue);  // 4 bytes too many
  CHECK(std::string(cudaGetErrorString(cudaErrorInvalidValue)).find("past the end") != std::string::npos);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);  // a failed call is also the last error, as in CUDA
  CHECK(cudaGetLastError() == cudaSuccess);            // and reading it clears it
}

TEST_CASE("dynamic shared memory, partial-mask shuffles and ballots give the right values in every order") {
  for (const char* order : kOrders) {
    CAPTURE(order);
    dgemu_set_order(order, 11);
    Device d;
    std::vector<float> x(64);
    for (int i = 0; i < 64; i++) x[size_t(i)] = float(i % 3) - 1.0f;
    float *dx = d.alloc(64), *out = d.alloc(64);
    unsigned* ballot = nullptr;
    REQUIRE(cudaMalloc(reinterpret_cast<void**>(&ballot), sizeof(unsigned)) == cudaSuccess);
    d.put(dx, x);
    REQUIRE(emutest::scan(dx, out, 64, d.s) == cudaSuccess);
    const std::vector<float> s = d.get(out, 64);
    float run = 0;
    for (int i = 0; i < 64; i++) CHECK(s[size_t(i)] == (run += x[size_t(i)]));
    REQUIRE(emutest::half_warp(dx, out, ballot, d.s) == cudaSuccess);
    const std::vector<float> v = d.get(out, 16);
    float total = 0;
    unsigned want = 0;
    for (int i = 0; i < 16; i++) total += x[size_t(i)], want |= (x[size_t(i)] > 0 ? 1u : 0u) << i;
    for (float e : v) CHECK(e == total);
    unsigned got = 0;
    REQUIRE(cudaMemcpy(&got, ballot, sizeof got, cudaMemcpyDeviceToHost) == cudaSuccess);
    CHECK(got == want);
  }
  dgemu_set_order("forward", 1);
}

TEST_CASE("NCCL: two ranks that issue different collectives abort naming both") {
  ncclUniqueId id;
  REQUIRE(ncclGetUniqueId(&id) == ncclSuccess);
  auto rank = [&](int r) {
    return start_child([&id, r] {
      cudaSetDevice(r);
      ncclComm_t comm;
      if (ncclCommInitRank(&comm, 2, id, r) != ncclSuccess) _exit(3);
      Device d;
      float* x = d.alloc(16);
      emutest::fill(x, 16, 1.0f, d.s);
      // Rank 0 sums 16 floats, rank 1 broadcasts 8.
      if (r == 0) ncclAllReduce(x, x, 16, ncclFloat, ncclSum, comm, d.s);
      else ncclBroadcast(x, x, 8, ncclFloat, 0, comm, d.s);
      cudaStreamSynchronize(d.s);
    });
  };
  const Started s0 = rank(0), s1 = rank(1);  // both running before either is waited for
  const Child c0 = finish_child(s0), c1 = finish_child(s1);
  const std::string both = c0.err + c1.err;
  INFO(both);
  CHECK((c0.status != 0 || c1.status != 0));
  CHECK(both.find("collectives out of order") != std::string::npos);
  CHECK(both.find("ncclAllReduce(sum, float, 16 elements)") != std::string::npos);
  CHECK(both.find("ncclBroadcast(root 0, float, 8 elements)") != std::string::npos);
}
