#include "tools/run/run_folder.h"

#include <stb/stb_image_write.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "engine/error.h"

namespace fs = std::filesystem;

namespace dg {

static std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%06lld", static_cast<long long>(step));
  return buf;
}

RunFolder::RunFolder(const std::string& path, bool existing) : path_(path) {
  std::error_code ec;
  if (existing) {
    DG_CHECK(fs::is_directory(path_), "--resume ", path_, ": not a run folder");
    DG_CHECK(fs::exists(fs::path(path_) / "config.json"), "--resume ", path_, ": has no config.json");
  } else {
    DG_CHECK(!fs::exists(fs::path(path_) / "config.json"), "run folder ", path_,
             " already holds a run: choose another --run-name, or continue it with --resume ", path_);
  }
  for (const char* sub : {"samples", "checkpoints"}) {
    fs::create_directories(fs::path(path_) / sub, ec);
    DG_CHECK(!ec, "cannot create ", (fs::path(path_) / sub).string(), ": ", ec.message());
  }
  metrics_.open(fs::path(path_) / "metrics.jsonl", std::ios::app);
  DG_CHECK(metrics_.good(), "cannot write ", (fs::path(path_) / "metrics.jsonl").string());
}

void RunFolder::write_config(const nlohmann::json& config) {
  const fs::path p = fs::path(path_) / "config.json", tmp = fs::path(path_) / "config.json.tmp";
  {
    std::ofstream f(tmp);
    f << config.dump(2) << "\n";
    DG_CHECK(f.good(), "cannot write ", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, p, ec);
  DG_CHECK(!ec, "cannot write ", p.string(), ": ", ec.message());
}

nlohmann::json RunFolder::read_config() const {
  const fs::path p = fs::path(path_) / "config.json";
  std::ifstream f(p);
  DG_CHECK(f.good(), "cannot read ", p.string());
  try {
    return nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    DG_FAIL(p.string(), ": not valid JSON: ", e.what());
  }
}

void RunFolder::append_metrics(const nlohmann::json& line) {
  metrics_ << line.dump() << "\n";
  metrics_.flush();
  DG_CHECK(metrics_.good(), "cannot append to ", path_, "/metrics.jsonl (disk full?)");
}

std::string RunFolder::checkpoint_path(int64_t step) const {
  return (fs::path(path_) / "checkpoints" / (step_name(step) + ".safetensors")).string();
}

// The run's checkpoints, oldest first. step_XXXXXX.safetensors: zero padding makes the names
// sort by step up to 10^6 - 1; beyond that the longer name is the larger step.
static std::vector<std::string> checkpoints_by_step(const std::string& run) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(fs::path(run) / "checkpoints")) {
    const std::string name = e.path().filename().string();
    if (name.rfind("step_", 0) == 0 && e.path().extension() == ".safetensors") names.push_back(name);
  }
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  for (std::string& n : names) n = (fs::path(run) / "checkpoints" / n).string();
  return names;
}

std::string RunFolder::best_checkpoint_path() const {
  return (fs::path(path_) / "checkpoints" / "best.safetensors").string();
}

std::vector<std::string> RunFolder::checkpoints() const { return checkpoints_by_step(path_); }

std::string RunFolder::latest_checkpoint() const {
  std::vector<std::string> all = checkpoints_by_step(path_);
  return all.empty() ? "" : all.back();
}

std::string RunFolder::set_aside(const std::string& checkpoint) {
  std::string to = checkpoint + ".damaged";
  for (int i = 2; fs::exists(to); i++) to = checkpoint + ".damaged." + std::to_string(i);
  std::error_code ec;
  fs::rename(checkpoint, to, ec);
  DG_CHECK(!ec, "cannot rename the damaged checkpoint ", checkpoint, " to ", to, ": ", ec.message());
  return to;
}

std::string RunFolder::tidy_for_resume(int64_t step) {
  int partial = 0;
  for (const char* sub : {"checkpoints", "samples", "."})
    for (const auto& e : fs::directory_iterator(fs::path(path_) / sub)) {
      if (e.path().extension() != ".tmp") continue;
      std::error_code ec;
      fs::remove(e.path(), ec);
      DG_CHECK(!ec, "cannot delete the partial file ", e.path().string(), ": ", ec.message());
      partial++;
    }

  const fs::path p = fs::path(path_) / "metrics.jsonl", tmp = fs::path(path_) / "metrics.jsonl.tmp";
  std::ifstream in(p);
  std::string kept, line;
  int dropped = 0;
  while (std::getline(in, line)) {
    // A line without its newline is one a kill cut short; so is one that does not parse.
    const bool complete = !in.eof();
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (complete && j.is_object() && j.contains("step") && j["step"].is_number_integer() &&
        j["step"].get<int64_t>() <= step) {
      kept += line + "\n";
    } else {
      dropped++;
    }
  }
  in.close();
  if (dropped > 0) {
    metrics_.close();
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << kept;
      out.flush();
      DG_CHECK(out.good(), "cannot write ", tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, p, ec);
    DG_CHECK(!ec, "cannot write ", p.string(), ": ", ec.message());
    metrics_.open(p, std::ios::app);
    DG_CHECK(metrics_.good(), "cannot write ", p.string());
  }

  std::string what;
  if (partial > 0) what += "deleted " + std::to_string(partial) + " partly written file(s) of the interrupted run";
  if (dropped > 0)
    what += std::string(what.empty() ? "" : "; ") + "dropped " + std::to_string(dropped) +
            " metrics line(s) logged after step " + std::to_string(step) + " or cut short";
  return what;
}

void RunFolder::prune_checkpoints(int keep, const std::string& protect) {
  if (keep <= 0) return;
  std::vector<std::string> all = checkpoints_by_step(path_);
  for (size_t i = 0; i + size_t(keep) < all.size(); i++) {
    if (all[i] == protect) continue;
    std::error_code ec;
    fs::remove(all[i], ec);
    DG_CHECK(!ec, "cannot delete old checkpoint ", all[i], ": ", ec.message());
  }
}

std::string encode_png(const unsigned char* hwc, int width, int height, int channels) {
  std::string png;
  auto append = [](void* to, void* data, int size) { static_cast<std::string*>(to)->append(static_cast<char*>(data), size); };
  DG_CHECK(stbi_write_png_to_func(append, &png, width, height, channels, hwc, width * channels) != 0,
           "cannot encode a ", width, "x", height, "x", channels, " PNG");
  return png;
}

static void write_png_bytes(const std::string& path, const std::string& png) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    f << png;
    DG_CHECK(f.good(), "cannot write ", tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  DG_CHECK(!ec, "cannot write ", path, ": ", ec.message());
}

RunFolder::Grid RunFolder::write_sample_grid(int64_t step, const float* images, int n, int channels, int size) {
  const int cols = 8, rows = (n + cols - 1) / cols, pad = 2;
  const int W = cols * (size + pad) + pad, H = rows * (size + pad) + pad;
  std::vector<unsigned char> grid(size_t(W) * H * channels, 255);
  for (int k = 0; k < n; k++) {
    const int x0 = pad + (k % cols) * (size + pad), y0 = pad + (k / cols) * (size + pad);
    for (int c = 0; c < channels; c++)
      for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++) {
          float v = images[((size_t(k) * channels + c) * size + y) * size + x];
          v = std::clamp((v + 1.0f) * 127.5f, 0.0f, 255.0f);
          grid[(size_t(y0 + y) * W + x0 + x) * channels + c] = static_cast<unsigned char>(std::lround(v));
        }
  }
  Grid out{(fs::path(path_) / "samples" / (step_name(step) + ".png")).string(), encode_png(grid.data(), W, H, channels),
           W, H, channels};
  write_png_bytes(out.path, out.png);
  return out;
}

}  // namespace dg
