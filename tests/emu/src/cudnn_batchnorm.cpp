// cuDNN's spatial batch normalization, forward training and backward (the alternative dgbench
// times next to dg's fused kernels), from the cuDNN API reference: statistics per channel over
// N*H*W values; y = alpha * (scale (x - mean) invstd + bias) + beta * y; the running mean and
// variance move by the exponential average factor f, the variance taking the unbiased
// estimate; resultSaveMean/resultSaveInvVariance keep the batch mean and 1/sqrt(var + eps).
// Backward: dx blended with alphaDataDiff/betaDataDiff, dScale and dBias with
// alphaParamDiff/betaParamDiff; the saved statistics are used when given, else recomputed.
// Sums in double (cuDNN does not say how it sums; this is the emulator's choice).
#include <cmath>
#include <vector>

#include "cudnn_emu.h"

using namespace dgemu;

namespace {

struct Bn {
  int N, C, HW;
};

cudnnStatus_t check(const char* call, cudnnHandle_t handle, cudnnBatchNormMode_t mode, cudnnTensorDescriptor_t x,
                    cudnnTensorDescriptor_t y, cudnnTensorDescriptor_t channel, double epsilon, Bn* bn) {
  if (!live_cudnn(handle)) return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": not a live handle");
  if (mode != CUDNN_BATCHNORM_SPATIAL)
    return cudnn_fail(CUDNN_STATUS_NOT_SUPPORTED, std::string(call) + ": the emulator has CUDNN_BATCHNORM_SPATIAL only");
  if (!live_desc(x) || !live_desc(y) || !live_desc(channel) || !x->set || !y->set || !channel->set)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": a descriptor is not live or not set");
  if (x->n != y->n || x->c != y->c || x->h != y->h || x->w != y->w)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": x and y descriptors differ");
  if (channel->n != 1 || channel->c != x->c || channel->h != 1 || channel->w != 1)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": the scale/bias descriptor must be 1 x C x 1 x 1");
  if (epsilon < CUDNN_BN_MIN_EPSILON)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": epsilon " + std::to_string(epsilon));
  *bn = {x->n, x->c, x->h * x->w};
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t check_range(const char* call, const char* what, const void* p, size_t floats) {
  if (std::string why = check_device_range(p, 4 * floats); !why.empty())
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": " + what + ": " + why);
  return CUDNN_STATUS_SUCCESS;
}

}  // namespace

extern "C" {

cudnnStatus_t cudnnBatchNormalizationForwardTraining(
    cudnnHandle_t handle, cudnnBatchNormMode_t mode, const void* alpha, const void* beta,
    cudnnTensorDescriptor_t xDesc, const void* x, cudnnTensorDescriptor_t yDesc, void* y,
    cudnnTensorDescriptor_t bnScaleBiasMeanVarDesc, const void* bnScale, const void* bnBias,
    double exponentialAverageFactor, void* resultRunningMean, void* resultRunningVariance, double epsilon,
    void* resultSaveMean, void* resultSaveInvVariance) {
  const char* call = "cudnnBatchNormalizationForwardTraining";
  Lock lock(device_mutex());
  Bn bn;
  if (cudnnStatus_t s = check(call, handle, mode, xDesc, yDesc, bnScaleBiasMeanVarDesc, epsilon, &bn); s) return s;
  if (!alpha || !beta) return cudnn_fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, std::string(call) + ": alpha or beta is null");
  if (!resultRunningMean != !resultRunningVariance || !resultSaveMean != !resultSaveInvVariance)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": running (or saved) mean and variance: both or neither");
  const size_t n = size_t(bn.N) * bn.C * bn.HW, C = size_t(bn.C);
  for (auto [what, p, count] : {std::tuple{"x", x, n}, std::tuple{"y", (const void*)y, n}, std::tuple{"scale", bnScale, C},
                                std::tuple{"bias", bnBias, C}})
    if (cudnnStatus_t s = check_range(call, what, p, count); s) return s;
  for (auto [what, p] : {std::pair{"running mean", resultRunningMean}, std::pair{"running variance", resultRunningVariance},
                         std::pair{"saved mean", resultSaveMean}, std::pair{"saved inverse variance", resultSaveInvVariance}})
    if (p)
      if (cudnnStatus_t s = check_range(call, what, p, C); s) return s;
  Stream* st = stream_of(handle->stream, call);
  if (!st) return CUDNN_STATUS_BAD_PARAM;
  const float al = *static_cast<const float*>(alpha), be = *static_cast<const float*>(beta);
  auto* X = static_cast<const float*>(x);
  auto* Y = static_cast<float*>(y);
  auto *gamma = static_cast<const float*>(bnScale), *bias = static_cast<const float*>(bnBias);
  auto *rm = static_cast<float*>(resultRunningMean), *rv = static_cast<float*>(resultRunningVariance);
  auto *sm = static_cast<float*>(resultSaveMean), *si = static_cast<float*>(resultSaveInvVariance);
  const double f = exponentialAverageFactor, eps = epsilon;
  const cudaError_t queued = enqueue(st, call, [=] {
    const double M = double(bn.N) * bn.HW;
    for (int c = 0; c < bn.C; c++) {
      auto at = [&](int i, int k) { return size_t(i) * bn.C * bn.HW + size_t(c) * bn.HW + size_t(k); };
      double sum = 0.0, sq = 0.0;
      for (int i = 0; i < bn.N; i++)
        for (int k = 0; k < bn.HW; k++) sum += X[at(i, k)];
      const double mean = sum / M;
      for (int i = 0; i < bn.N; i++)
        for (int k = 0; k < bn.HW; k++) sq += (X[at(i, k)] - mean) * (X[at(i, k)] - mean);
      const double var = sq / M, invstd = 1.0 / std::sqrt(var + eps);
      for (int i = 0; i < bn.N; i++)
        for (int k = 0; k < bn.HW; k++) {
          const float v = float(gamma[c] * (X[at(i, k)] - mean) * invstd + bias[c]);
          Y[at(i, k)] = be == 0.0f ? al * v : al * v + be * Y[at(i, k)];
        }
      if (rm) {
        rm[c] = float((1.0 - f) * rm[c] + f * mean);
        rv[c] = float((1.0 - f) * rv[c] + f * var * M / (M - 1.0));
      }
      if (sm) {
        sm[c] = float(mean);
        si[c] = float(invstd);
      }
    }
  });
  if (queued != cudaSuccess)
    return cudnn_fail(CUDNN_STATUS_EXECUTION_FAILED, std::string(call) + ": " + cudaGetErrorString(cudaGetLastError()));
  return CUDNN_STATUS_SUCCESS;
}

cudnnStatus_t cudnnBatchNormalizationBackward(cudnnHandle_t handle, cudnnBatchNormMode_t mode,
                                              const void* alphaDataDiff, const void* betaDataDiff,
                                              const void* alphaParamDiff, const void* betaParamDiff,
                                              cudnnTensorDescriptor_t xDesc, const void* x,
                                              cudnnTensorDescriptor_t dyDesc, const void* dy,
                                              cudnnTensorDescriptor_t dxDesc, void* dx,
                                              cudnnTensorDescriptor_t dBnScaleBiasDesc, const void* bnScale,
                                              void* dBnScaleResult, void* dBnBiasResult, double epsilon,
                                              const void* savedMean, const void* savedInvVariance) {
  const char* call = "cudnnBatchNormalizationBackward";
  Lock lock(device_mutex());
  Bn bn;
  if (cudnnStatus_t s = check(call, handle, mode, xDesc, dxDesc, dBnScaleBiasDesc, epsilon, &bn); s) return s;
  if (!live_desc(dyDesc) || dyDesc->n != bn.N || dyDesc->c != bn.C || dyDesc->h * dyDesc->w != bn.HW)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": dy descriptor differs from x");
  if (!alphaDataDiff || !betaDataDiff || !alphaParamDiff || !betaParamDiff)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM_NULL_POINTER, std::string(call) + ": a blend factor is null");
  if (!savedMean != !savedInvVariance)
    return cudnn_fail(CUDNN_STATUS_BAD_PARAM, std::string(call) + ": saved mean and inverse variance: both or neither");
  const size_t n = size_t(bn.N) * bn.C * bn.HW, C = size_t(bn.C);
  for (auto [what, p, count] : {std::tuple{"x", x, n}, std::tuple{"dy", dy, n}, std::tuple{"dx", (const void*)dx, n},
                                std::tuple{"scale", bnScale, C}, std::tuple{"dScale", (const void*)dBnScaleResult, C},
                                std::tuple{"dBias", (const void*)dBnBiasResult, C}})
    if (cudnnStatus_t s = check_range(call, what, p, count); s) return s;
  if (savedMean)
    for (const void* p : {savedMean, savedInvVariance})
      if (cudnnStatus_t s = check_range(call, "saved statistics", p, C); s) return s;
  Stream* st = stream_of(handle->stream, call);
  if (!st) return CUDNN_STATUS_BAD_PARAM;
  const float ad = *static_cast<const float*>(alphaDataDiff), bd = *static_cast<const float*>(betaDataDiff);
  const float ap = *static_cast<const float*>(alphaParamDiff), bp = *static_cast<const float*>(betaParamDiff);
  auto *X = static_cast<const float*>(x), *DY = static_cast<const float*>(dy), *gamma = static_cast<const float*>(bnScale);
  auto* DX = static_cast<float*>(dx);
  auto *dgamma = static_cast<float*>(dBnScaleResult), *dbias = static_cast<float*>(dBnBiasResult);
  auto *smean = static_cast<const float*>(savedMean), *sinv = static_cast<const float*>(savedInvVariance);
  const double eps = epsilon;
  const cudaError_t queued = enqueue(st, call, [=] {
    const double M = double(bn.N) * bn.HW;
    for (int c = 0; c < bn.C; c++) {
      auto at = [&](int i, int k) { return size_t(i) * bn.C * bn.HW + size_t(c) * bn.HW + size_t(k); };
      double mean, invstd;
      if (smean) {
        mean = smean[c];
        invstd = sinv[c];
      } else {
        double s = 0.0, q = 0.0;
        for (int i = 0; i < bn.N; i++)
          for (int k = 0; k < bn.HW; k++) s += X[at(i, k)];
        mean = s / M;
        for (int i = 0; i < bn.N; i++)
          for (int k = 0; k < bn.HW; k++) q += (X[at(i, k)] - mean) * (X[at(i, k)] - mean);
        invstd = 1.0 / std::sqrt(q / M + eps);
      }
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      for (int i = 0; i < bn.N; i++)
        for (int k = 0; k < bn.HW; k++) {
          sum_dy += DY[at(i, k)];
          sum_dy_xhat += DY[at(i, k)] * (X[at(i, k)] - mean) * invstd;
        }
      for (int i = 0; i < bn.N; i++)
        for (int k = 0; k < bn.HW; k++) {
          const double xhat = (X[at(i, k)] - mean) * invstd;
          const float v = float(gamma[c] * invstd / M * (M * DY[at(i, k)] - sum_dy - xhat * sum_dy_xhat));
          DX[at(i, k)] = bd == 0.0f ? ad * v : ad * v + bd * DX[at(i, k)];
        }
      dgamma[c] = bp == 0.0f ? float(ap * sum_dy_xhat) : float(ap * sum_dy_xhat + bp * dgamma[c]);
      dbias[c] = bp == 0.0f ? float(ap * sum_dy) : float(ap * sum_dy + bp * dbias[c]);
    }
  });
  if (queued != cudaSuccess)
    return cudnn_fail(CUDNN_STATUS_EXECUTION_FAILED, std::string(call) + ": " + cudaGetErrorString(cudaGetLastError()));
  return CUDNN_STATUS_SUCCESS;
}

}  // extern "C"
