// cuBLAS, the calls dg makes: handles bound to a stream and a math mode, and SGEMM as a direct
// loop (never engine/cpu, so the CPU reference and this are two implementations). From the
// cuBLAS documentation of cublas<t>gemm: column-major storage; lda >= max(1, rows of A as
// stored), likewise ldb, ldc >= max(1, m); m, n, k >= 0, else CUBLAS_STATUS_INVALID_VALUE;
// "if beta == 0, C does not have to be a valid input" (it is never read then).
#include <cublas_v2.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "emu.h"
#include "tf32.h"

struct dgemu_cublas {
  cudaStream_t stream = nullptr;
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
  cublasPointerMode_t pointer_mode = CUBLAS_POINTER_MODE_HOST;
};

using namespace dgemu;

namespace {

std::set<cublasHandle_t>& handles() {
  static auto* h = new std::set<cublasHandle_t>;
  return *h;
}

thread_local std::string tl_why;  // why the latest CUBLAS_STATUS_INVALID_VALUE (cuBLAS keeps its
                                  // errors apart from the runtime's last error)
cublasStatus_t invalid(const std::string& why) {
  tl_why = why;
  return CUBLAS_STATUS_INVALID_VALUE;
}

// "" when the column-major rows x cols matrix at p with leading dimension ld lies in device memory.
std::string check_matrix(const char* name, const float* p, int rows, int cols, int ld) {
  if (rows == 0 || cols == 0) return "";
  const size_t span = (size_t(cols) - 1) * size_t(ld) + size_t(rows);
  std::string why = check_device_range(p, span * sizeof(float));
  return why.empty() ? "" : std::string("cublasSgemm: ") + name + ": " + why;
}

}  // namespace

extern "C" {

cublasStatus_t cublasCreate(cublasHandle_t* handle) {
  Lock lock(device_mutex());
  if (!handle) return invalid("cublasCreate: handle is null");
  *handle = new dgemu_cublas;
  handles().insert(*handle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t handle) {
  Lock lock(device_mutex());
  if (!handles().erase(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete handle;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetStream(cublasHandle_t handle, cudaStream_t stream) {
  Lock lock(device_mutex());
  if (!handles().count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream_of(stream, "cublasSetStream")) {
    cudaGetLastError();
    return invalid("cublasSetStream: " + hex(stream) + " is not a live stream");
  }
  handle->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetStream(cublasHandle_t handle, cudaStream_t* stream) {
  Lock lock(device_mutex());
  if (!handles().count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  *stream = handle->stream;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  Lock lock(device_mutex());
  if (!handles().count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  const int base = int(mode) & ~int(CUBLAS_MATH_DISALLOW_REDUCED_PRECISION_REDUCTION);
  if (base < 0 || base > 3) return invalid("cublasSetMathMode: mode " + std::to_string(int(mode)));
  handle->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasGetMathMode(cublasHandle_t handle, cublasMath_t* mode) {
  Lock lock(device_mutex());
  if (!handles().count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  *mode = handle->math;
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasSetPointerMode(cublasHandle_t handle, cublasPointerMode_t mode) {
  Lock lock(device_mutex());
  if (!handles().count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  handle->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char* cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  }
  return "unknown cuBLAS status";
}

// The status's name and, for an argument the emulator refused, why (this thread's latest).
const char* cublasGetStatusString(cublasStatus_t status) {
  thread_local std::string text;
  text = cublasGetStatusName(status);
  if (status == CUBLAS_STATUS_INVALID_VALUE && !tl_why.empty()) text += " [dgemu: " + tl_why + "]";
  return text.c_str();
}

cublasStatus_t cublasSgemm(cublasHandle_t handle, cublasOperation_t transa, cublasOperation_t transb, int m, int n,
                           int k, const float* alpha, const float* A, int lda, const float* B, int ldb,
                           const float* beta, float* C, int ldc) {
  Lock lock(device_mutex());
  if (!handles().count(handle)) return CUBLAS_STATUS_NOT_INITIALIZED;
  auto op_ok = [](cublasOperation_t t) { return t == CUBLAS_OP_N || t == CUBLAS_OP_T || t == CUBLAS_OP_C; };
  if (!op_ok(transa) || !op_ok(transb)) return invalid("cublasSgemm: unknown transa/transb");
  if (m < 0 || n < 0 || k < 0)
    return invalid("cublasSgemm: m " + std::to_string(m) + ", n " + std::to_string(n) + ", k " + std::to_string(k));
  const bool ta = transa != CUBLAS_OP_N, tb = transb != CUBLAS_OP_N;  // real data: C is T
  const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
  if (lda < std::max(1, a_rows))
    return invalid("cublasSgemm: lda " + std::to_string(lda) + " < " + std::to_string(std::max(1, a_rows)) +
                   " (A is stored " + std::to_string(a_rows) + " x " + std::to_string(a_cols) + ")");
  if (ldb < std::max(1, b_rows))
    return invalid("cublasSgemm: ldb " + std::to_string(ldb) + " < " + std::to_string(std::max(1, b_rows)) +
                   " (B is stored " + std::to_string(b_rows) + " x " + std::to_string(b_cols) + ")");
  if (ldc < std::max(1, m)) return invalid("cublasSgemm: ldc " + std::to_string(ldc) + " < max(1, m = " + std::to_string(m) + ")");
  if (m == 0 || n == 0) return CUBLAS_STATUS_SUCCESS;
  if (!alpha || !beta) return invalid("cublasSgemm: alpha or beta is null");
  for (const std::string& why : {check_matrix("A", A, a_rows, a_cols, lda), check_matrix("B", B, b_rows, b_cols, ldb),
                                 check_matrix("C", C, m, n, ldc)})
    if (!why.empty()) return invalid(why);
  Stream* s = stream_of(handle->stream, "cublasSgemm");
  if (!s) return CUBLAS_STATUS_INVALID_VALUE;
  const bool device_scalars = handle->pointer_mode == CUBLAS_POINTER_MODE_DEVICE;
  const float a_host = device_scalars ? 0.0f : *alpha, b_host = device_scalars ? 0.0f : *beta;
  const bool tf32 = (int(handle->math) & 3) == CUBLAS_TF32_TENSOR_OP_MATH;
  const cudaError_t e = enqueue(s, "cublasSgemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k), [=] {
    const float al = device_scalars ? *alpha : a_host, be = device_scalars ? *beta : b_host;
    auto a_at = [&](int i, int p) { const float v = ta ? A[size_t(i) * lda + p] : A[size_t(p) * lda + i]; return tf32 ? to_tf32(v) : v; };
    auto b_at = [&](int p, int j) { const float v = tb ? B[size_t(p) * ldb + j] : B[size_t(j) * ldb + p]; return tf32 ? to_tf32(v) : v; };
    std::vector<float> column(static_cast<size_t>(m));
    for (int j = 0; j < n; j++) {
      for (int i = 0; i < m; i++) {
        float sum = 0.0f;
        for (int p = 0; p < k; p++) sum += a_at(i, p) * b_at(p, j);
        column[size_t(i)] = sum;
      }
      for (int i = 0; i < m; i++) {
        float& c = C[size_t(j) * ldc + i];
        c = be == 0.0f ? al * column[size_t(i)] : al * column[size_t(i)] + be * c;
      }
    }
  });
  return e == cudaSuccess ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_EXECUTION_FAILED;
}

}  // extern "C"
