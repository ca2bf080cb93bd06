// BatchUpload on the GPU (engine/batch_upload.h): batches uploaded ahead of the device arrive
// whole and in order, and training steps fed by it never make the host wait for the compute
// stream (the emulator counts the host's waits per stream).
#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "engine/batch_upload.h"
#include "kernels/elementwise/elementwise.h"
#include "tests/gpu_twin.h"
#ifdef DG_CUDA_EMU
#include "dgemu/introspect.h"
#include "engine/cuda/cuda_context.h"
#include "models/gan_trainer.h"
#endif

using namespace dg;
using dg::test::gpu;

TEST_CASE("batches uploaded ahead of the device arrive whole and in order") {
  Context dev(gpu(true));
  const Shape shape{2, 3, 5, 7};
  const size_t n = size_t(shape.numel());
  BatchUpload up(dev, shape);
  Tensor sum = dev.zeros(shape);
  std::vector<float> host(n), expect(n, 0.0f);
  for (int b = 0; b < 7; b++) {  // more batches than buffers: each buffer is reused
    for (size_t i = 0; i < n; i++) host[i] = float((b * 31 + int(i) * 7) % 17);  // small integers: exact sums
    const Tensor batch = up.next(host.data());
    // Weighted by the batch's place: a batch that arrives late, early or twice changes the sum.
    axpy(dev, float(1 << b), batch, sum);
    for (size_t i = 0; i < n; i++) expect[i] += float(1 << b) * host[i];
    std::fill(host.begin(), host.end(), -1000.0f);  // next() has read the host batch: reuse it at once
  }
  std::vector<float> got(n);
  dev.download(sum, got.data());
  CHECK(got == expect);
}

#ifdef DG_CUDA_EMU
TEST_CASE("training steps fed by BatchUpload never make the host wait for the compute stream") {
  Context dev(gpu(false));
  const Shape shape{4, 1, 32, 32};
  BatchUpload up(dev, shape);
  TrainConfig cfg;  // tiny nets, K = 2
  cfg.model.nz = 16;
  cfg.model.ngf = cfg.model.ndf = 8;
  cfg.batch_size = shape[0];
  GanTrainer trainer(dev, cfg);
  trainer.init_weights();
  std::vector<float> host(size_t(shape.numel()));
  for (size_t i = 0; i < host.size(); i++) host[i] = float(int(i % 41) - 20) / 20.0f;
  trainer.train_step(up.next(host.data()));  // warm-up: algorithm searches, first allocations
  dev.synchronize();
  cudaStream_t compute = dev.cuda().stream;
  const size_t waits = dgemu_host_waits(compute), forced = dgemu_forced_ops(compute);
  for (int step = 0; step < 4; step++) trainer.train_step(up.next(host.data()));
  CHECK(dgemu_host_waits(compute) == waits);    // no wait on the compute stream itself
  CHECK(dgemu_forced_ops(compute) == forced);   // nor on one that waits for it
  // The counts see a wait: reading the statistics back is one.
  trainer.stats();
  CHECK(dgemu_host_waits(compute) > waits);
  CHECK(dgemu_forced_ops(compute) > forced);
}
#endif
