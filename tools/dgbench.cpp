// dgbench: measurements on one device (DESIGN §10).
//   dgbench limits   the device's copy bandwidth and dense math rate
//   dgbench kernels  every custom kernel and convolution, checked against the CPU, then timed
//                    (bench/bench_kernels.h)
//   dgbench train    whole training steps: ms/step, img/s, peak memory, MFU (bench/bench_train.h),
//                    on the GPU with and without CUDA graphs, beside the model below
//   dgbench model    a step's launches, bytes and FLOPs from the op shapes and a MODELLED step time
//                    on an H100 and an H200 (bench/step_model.h; no device needed)
//   dgbench fid      seconds of one FID evaluation per feature network (bench/bench_fid.h)
//   dgbench allreduce  the gradient all-reduce per network, under `mpirun -np N` (bench/bench_allreduce.h)
// Tables to stdout; --json FILE appends one JSON object per line for bench/compare.sh.
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "bench/bench_allreduce.h"
#include "bench/bench_fid.h"
#include "bench/bench_kernels.h"
#include "bench/bench_train.h"
#include "bench/step_model.h"
#include "engine/timing.h"
#include "tools/run/device_choice.h"
#include "tools/run/distributed.h"

namespace {

std::vector<int> parse_ints(const std::string& list, const char* flag) {
  std::vector<int> v;
  std::stringstream s(list);
  for (std::string item; std::getline(s, item, ',');) {
    try {
      v.push_back(std::stoi(item));
    } catch (const std::exception&) {
      DG_FAIL(flag, ": '", item, "' is not a number (give a comma-separated list, e.g. 32,64)");
    }
  }
  DG_CHECK(!v.empty(), flag, ": empty list");
  return v;
}

// Every flag of dgbench and its subcommands. (repeats, warmup and steps are shared by the
// subcommands that have them.)
struct BenchArgs {
  std::string device = "auto", json_path;
  bool strict = false;
  int warmup = 5, steps = 20, repeats = 50;
  std::string kernel_batches = "64,128";
  std::string archs = "dcgan32,dcgan64", ks = "1,2", batches = "32,64,128,256";
  std::string cuda_graph = "both";
  std::string model_batches = "64,128";
  int64_t fid_samples = 10000;
  std::string fid_networks = "dg-classifier,inception-v3-fid";
  std::string allreduce_sizes = "32,64";
  int step_batch = 64;
  double bucket_mb = 2;
  CLI::App *limits = nullptr, *kernels = nullptr, *train = nullptr, *fid = nullptr, *allreduce = nullptr,
           *model = nullptr;
};

void add_bench_flags(CLI::App& app, BenchArgs& a) {
  app.add_option("--device", a.device, "auto: the GPU when there is one")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_flag("--strict-fp32", a.strict, "GPU: no TF32 (PyTorch's default uses TF32 convolutions)");
  app.add_option("--json", a.json_path, "append one JSON object per result to this file");
  a.limits = app.add_subcommand("limits", "copy bandwidth and dense math rate of the device");
  a.kernels = app.add_subcommand("kernels", "every custom kernel and convolution of dcgan32/64");
  a.kernels->add_option("--batch", a.kernel_batches, "comma-separated batch sizes");
  a.kernels->add_option("--repeats", a.repeats, "timed repeats, L2 flushed before each (the median is reported)")
      ->check(CLI::Range(1, 100000));
  a.train = app.add_subcommand("train", "whole training steps per model, K and batch");
  a.train->add_option("--arch", a.archs, "comma-separated: dcgan32, dcgan64, dcgan128");
  a.train->add_option("--k", a.ks, "comma-separated discriminator counts");
  a.train->add_option("--batch", a.batches, "comma-separated batch sizes");
  a.train->add_option("--warmup", a.warmup, "untimed steps first (cuDNN's algorithm search happens here)")
      ->check(CLI::Range(1, 1000));
  a.train->add_option("--steps", a.steps, "timed steps (the median is reported)")->check(CLI::Range(1, 100000));
  a.train->add_option("--cuda-graph", a.cuda_graph, "GPU: steps replayed as one CUDA graph (on), queued one by one "
                      "(off), or both side by side")
      ->check(CLI::IsMember({"on", "off", "both"}));
  a.model = app.add_subcommand("model", "the step's launches, bytes and FLOPs from the op shapes, and a MODELLED "
                                       "step time on an H100 and an H200 (bench/step_model.h; needs no GPU)");
  a.model->add_option("--arch", a.archs, "comma-separated: dcgan32, dcgan64, dcgan128");
  a.model->add_option("--k", a.ks, "comma-separated discriminator counts");
  a.model->add_option("--batch", a.model_batches, "comma-separated batch sizes");
  a.fid = app.add_subcommand("fid", "seconds of one FID evaluation, classifier and Inception features");
  a.fid->add_option("--network", a.fid_networks, "comma-separated: dg-classifier, inception-v3-fid");
  a.fid->add_option("--samples", a.fid_samples, "generated (and real) samples")
      ->check(CLI::Range(int64_t(2), int64_t(1) << 24));
  a.allreduce =
      app.add_subcommand("allreduce", "the gradient all-reduce of G and D; launch as mpirun -np N dgbench allreduce");
  a.allreduce->add_option("--image-size", a.allreduce_sizes, "comma-separated dcgan image sizes");
  a.allreduce->add_option("--repeats", a.repeats, "timed all-reduces (the median is reported)")
      ->check(CLI::Range(1, 100000));
  a.allreduce->add_option("--step-batch", a.step_batch, "then K=2 training steps alone, averaged after each backward "
                          "and in buckets during it, with this batch per rank (0: skip)")
      ->check(CLI::Range(0, 65536));
  a.allreduce->add_option("--bucket-mb", a.bucket_mb, "bucket size of the overlapped steps (MiB)")
      ->check(CLI::Range(0.001, 1024.0));
  a.allreduce->add_option("--steps", a.steps, "timed training steps of each kind (the median is reported)")
      ->check(CLI::Range(1, 100000));
}

// dgbench allreduce: every rank measures, rank 0 prints.
int run_allreduce(const BenchArgs& a, const dg::ContextOptions& copt, dg::Distributed& dist) {
  dg::Context ctx(copt);
  dg::Communicator& comm = dist.connect(ctx);
  const bool root = dist.is_root();
  if (root)
    std::printf("%d rank(s), %s%s\n%-12s %10s %10s %12s %14s\n", comm.world_size(), comm.name(),
                comm.world_size() == 1 ? " (nothing to reduce: launch with mpirun -np N)" : "", "net", "params",
                "MB", "median ms", "bus GB/s");
  std::ofstream json;
  if (!a.json_path.empty() && root) json.open(a.json_path, std::ios::app);
  const std::vector<int> sizes = parse_ints(a.allreduce_sizes, "--image-size");
  dg::bench_allreduce(ctx, comm, sizes, a.repeats, [&](const dg::AllreduceResult& r) {
    if (!root) return;
    std::printf("%-12s %10lld %10.2f %12.4f %14.2f\n", r.net.c_str(), static_cast<long long>(r.params),
                double(r.params) * 4 / 1e6, r.median_ms, r.bus_gb_s);
    std::fflush(stdout);
    if (json.is_open()) json << r.to_json().dump() << "\n";
  });
  if (a.step_batch == 0) return 0;
  if (root)
    std::printf("\n%-22s %10s %10s %10s %9s %9s   (share: of the step, what averaging adds)\n",
                "step (slowest rank)", "alone ms", "after ms", "bucket ms", "after", "bucket");
  dg::bench_step_share(ctx, comm, sizes, a.step_batch, a.warmup, a.steps, a.bucket_mb,
                       [&](const dg::StepShareResult& r) {
                         if (!root) return;
                         std::printf("%-22s %10.3f %10.3f %10.3f %8.1f%% %8.1f%%\n", r.net.c_str(), r.alone_ms,
                                     r.after_ms, r.overlap_ms, 100 * r.after_share, 100 * r.overlap_share);
                         std::fflush(stdout);
                         if (json.is_open()) json << r.to_json().dump() << "\n";
                       });
  return 0;
}

// The configurations of --arch (dcgan<size>), --k and `batches`, as trainer configs.
std::vector<dg::TrainConfig> train_configs(const BenchArgs& a, const std::string& batches) {
  std::vector<dg::TrainConfig> v;
  std::stringstream arch_list(a.archs);
  for (std::string arch; std::getline(arch_list, arch, ',');) {
    DG_CHECK(arch.rfind("dcgan", 0) == 0, "--arch: '", arch, "' (use dcgan32, dcgan64 or dcgan128)");
    for (int k : parse_ints(a.ks, "--k"))
      for (int b : parse_ints(batches, "--batch")) {
        dg::TrainConfig cfg;
        cfg.model.image_size = parse_ints(arch.substr(5), "--arch")[0];
        cfg.model.channels = 3;
        cfg.discriminators = k;
        cfg.batch_size = b;
        dg::validate(cfg);
        v.push_back(cfg);
      }
  }
  return v;
}

// dgbench model: no device; every figure a model (bench/step_model.h).
int run_model(const BenchArgs& a) {
  std::ofstream json;
  if (!a.json_path.empty()) json.open(a.json_path, std::ios::app);
  std::printf("MODEL, not a measurement (bench/step_model.h): launches, bytes and convolution FLOPs of one step from "
              "the op shapes, as a graph replay runs it (under max, one D's backward in the G step; `no graph`: "
              "queued one by one, every D's);\nqueued: the launches of the step queued one by one; nodes: the "
              "captured graph's own (a conditional node 1, its body none);\nms = FLOPs / TF32 rate + bytes / "
              "bandwidth + launches x launch cost, no overlap\n");
  for (const dg::DeviceModel& d : dg::device_models())
    std::printf("  %s: %.1f TFLOP/s, %.1f TB/s, %.1f us per graph node, %.1f us per queued launch (%s)\n",
                d.name.c_str(), d.tf32_tflop_s, d.hbm_tb_s, d.graph_launch_us, d.stream_launch_us, d.source.c_str());
  std::printf("%-8s %2s %5s %9s %7s %6s %9s %10s", "model", "K", "batch", "launches", "queued", "nodes", "MB/step",
              "GFLOP/step");
  for (const dg::DeviceModel& d : dg::device_models())
    std::printf(" %9s %9s %9s", (d.name + " ms").c_str(), "no graph", "img/s");
  std::printf("\n");
  for (const dg::TrainConfig& cfg : train_configs(a, a.model_batches)) {
    const dg::StepModel m = dg::model_step(cfg, true), queued = dg::model_step(cfg, false);
    const std::string arch = "dcgan" + std::to_string(cfg.model.image_size);
    std::printf("%-8s %2d %5d %9lld %7lld %6lld %9.1f %10.2f", arch.c_str(), cfg.discriminators, cfg.batch_size,
                static_cast<long long>(m.launches), static_cast<long long>(queued.launches),
                static_cast<long long>(m.nodes), m.bytes / 1e6, m.flops / 1e9);
    nlohmann::json row{{"bench", "model"},  {"arch", arch},       {"k", cfg.discriminators}, {"batch", cfg.batch_size},
                       {"launches", m.launches}, {"launches_queued", queued.launches}, {"graph_nodes", m.nodes},
                       {"mb", m.bytes / 1e6}, {"gflop", m.flops / 1e9}};
    for (const dg::DeviceModel& d : dg::device_models()) {
      const double graph = dg::model_ms(cfg, d, true), stream = dg::model_ms(cfg, d, false);
      std::printf(" %9.3f %9.3f %9.0f", graph, stream, cfg.batch_size / (graph * 1e-3));
      row[d.name + "_ms_graph"] = graph;
      row[d.name + "_ms_no_graph"] = stream;
    }
    std::printf("\n");
    if (json.is_open()) json << row.dump() << "\n";
  }
  return 0;
}

dg::DeviceLimits run_limits(const dg::ContextOptions& copt, std::ofstream& json) {
  dg::DeviceLimits limits;
  {
    dg::Context ctx(copt);
    limits = dg::measure_device_limits(ctx);
  }
  std::printf("device: %s\ncopy %.1f GB/s, GEMM %.2f TFLOP/s\n", limits.describe.c_str(), limits.copy_gb_s,
              limits.gemm_tflop_s);
  if (json.is_open())
    json << nlohmann::json{{"bench", "limits"}, {"device", limits.describe}, {"copy_gb_s", limits.copy_gb_s},
                           {"gemm_tflop_s", limits.gemm_tflop_s}}.dump()
         << "\n";
  return limits;
}

void run_kernels(const BenchArgs& a, const dg::ContextOptions& copt, const dg::DeviceLimits& limits,
                 std::ofstream& json) {
  std::printf("%-44s %-30s %10s %12s %8s %9s\n", "kernel", "shape", "median us", "rate", "of limit", "vs CPU");
  dg::bench_kernels(copt, parse_ints(a.kernel_batches, "--batch"), {3, a.repeats, true}, limits,
                    [&](const dg::KernelResult& r) {
                      char rate[32];
                      if (r.tflop_s > 0)
                        std::snprintf(rate, sizeof rate, "%.2f TFLOP/s", r.tflop_s);
                      else
                        std::snprintf(rate, sizeof rate, "%.1f GB/s", r.gb_s);
                      char check[16] = "-";  // on the CPU there is nothing to check against
                      if (r.check_error >= 0) std::snprintf(check, sizeof check, "%.1e", r.check_error);
                      std::printf("%-44s %-30s %10.1f %12s %7.1f%% %9s\n", r.name.c_str(), r.shape.c_str(), r.us,
                                  rate, 100 * r.of_limit, check);
                      for (const std::string& line : r.alternatives) std::printf("    %s\n", line.c_str());
                      std::fflush(stdout);
                      if (json.is_open()) json << r.to_json().dump() << "\n";
                    });
}

// The step model of the device dgbench measures on, when it is one the model knows.
const dg::DeviceModel* model_of(const dg::DeviceLimits& limits) {
  for (const dg::DeviceModel& d : dg::device_models()) {
    std::string upper = d.name;
    for (char& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
    if (limits.describe.find(upper) != std::string::npos) return &d;
  }
  return nullptr;
}

void run_train(const BenchArgs& a, const dg::ContextOptions& copt, const dg::DeviceLimits& limits,
               std::ofstream& json) {
  std::printf("model FLOPs per step = 3 F_G + (7K + 1) F_D (bench/bench_train.h); MFU against the GEMM rate\n");
  const dg::DeviceModel* model = copt.device == dg::Device::cuda ? model_of(limits) : nullptr;
  if (model)
    std::printf("model ms: MODELLED for %s from the op shapes (bench/step_model.h, `dgbench model`), beside the "
                "measured ms\n", model->name.c_str());
  std::printf("peak MB: the arena's high-water mark; held MB: the same without the ops' workspaces (cuDNN's, "
              "im2col's), equal on every backend\n");
  std::printf("%-8s %2s %5s %5s %10s %10s %9s %9s %10s %9s %6s %11s %9s\n", "model", "K", "batch", "graph",
              "ms/step", "img/s", "peak MB", "held MB", "GFLOP/step", "TFLOP/s", "MFU", "graph nodes", "model ms");
  std::vector<bool> graphs;  // (the CPU has no graphs)
  if (a.cuda_graph != "on" || copt.device != dg::Device::cuda) graphs.push_back(false);
  if (a.cuda_graph != "off" && copt.device == dg::Device::cuda) graphs.push_back(true);
  for (const dg::TrainConfig& cfg : train_configs(a, a.batches))
    for (bool graph : graphs) {
      const int size = cfg.model.image_size, k = cfg.discriminators, b = cfg.batch_size;
      const dg::TrainBenchResult r = dg::bench_train_case(copt, {"dcgan", size, k, b, graph}, a.warmup, a.steps, limits);
      const std::string modelled =
          model ? std::to_string(dg::model_ms(cfg, *model, graph)).substr(0, 7) : "-";
      std::printf("dcgan%-3d %2d %5d %5s %10.3f %10.0f %9.1f %9.1f %10.2f %9.3f %5.1f%% %11s %9s\n", size, k, b,
                  graph ? "on" : "off", r.ms_per_step, r.img_per_s, r.peak_mb, r.held_mb, r.gflop_per_step, r.tflop_s,
                  100 * r.mfu, graph ? std::to_string(r.graph_nodes).c_str() : "-", modelled.c_str());
      if (!r.graph_failure.empty()) std::printf("    no graph: %s\n", r.graph_failure.c_str());
      std::fflush(stdout);
      if (json.is_open()) json << r.to_json().dump() << "\n";
    }
}

void run_fid(const BenchArgs& a, const dg::ContextOptions& copt, std::ofstream& json) {
  std::printf("%-18s %8s %12s %10s %10s %10s\n", "features", "samples", "generated s", "real s", "frechet s",
              "total s");
  std::vector<std::string> nets;
  std::stringstream list(a.fid_networks);
  for (std::string n; std::getline(list, n, ',');) nets.push_back(n);
  dg::bench_fid(copt, a.fid_samples, nets, [&](const dg::FidBenchResult& r) {
    std::printf("%-18s %8lld %12.2f %10.2f %10.2f %10.2f\n", r.network.c_str(), static_cast<long long>(r.samples),
                r.generated_s, r.real_s, r.frechet_s, r.total_s());
    std::fflush(stdout);
    if (json.is_open()) json << r.to_json().dump() << "\n";
  });
}

// The subcommands of one device (all but allreduce): the device's limits first, which the
// others report against.
int run_on_one_device(const BenchArgs& a, const dg::ContextOptions& copt) {
  std::ofstream json;
  if (!a.json_path.empty()) {
    json.open(a.json_path, std::ios::app);
    DG_CHECK(json.good(), "--json: cannot write ", a.json_path);
  }
  const dg::DeviceLimits limits = run_limits(copt, json);
  if (*a.limits) return 0;
  if (*a.kernels) run_kernels(a, copt, limits, json);
  if (*a.train) run_train(a, copt, limits, json);
  if (*a.fid) run_fid(a, copt, json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"dgbench: measurements on one device (dg)", "dgbench"};
  app.require_subcommand(1);
  BenchArgs a;
  add_bench_flags(app, a);
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<dg::Distributed> dist;
  try {
    dist = std::make_unique<dg::Distributed>();
    if (dist->idle()) return 0;
    const dg::DeviceChoice chosen = dg::choose_device(a.device);
    if (chosen.runtime_failed) std::fprintf(stderr, "dgbench: %s: measuring on the CPU\n", chosen.cpu_because.c_str());
    dg::ContextOptions copt;
    copt.device = chosen.device;
    copt.strict_fp32 = a.strict;
    if (copt.device == dg::Device::cuda) copt.cuda_device = dist->cuda_device();
    if (*a.model) return run_model(a);
    return *a.allreduce ? run_allreduce(a, copt, *dist) : run_on_one_device(a, copt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dgbench: error: %s\n", e.what());
    if (dist) dist->abort_others(1);
    return 1;
  }
}
