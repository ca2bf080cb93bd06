#include "tools/run/train_options.h"

#include <algorithm>
#include <cmath>

#include "tools/run/json_number.h"
#include "tools/run/resume_flags.h"

namespace dg {

GLoss parse_gloss(const std::string& s) {
  for (GLoss m : {GLoss::max, GLoss::max_sample, GLoss::mean, GLoss::softmax, GLoss::gman, GLoss::seed})
    if (s == gloss_name(m)) return m;
  DG_FAIL("--g-loss '", s, "' is not one of max, max-sample, mean, softmax, gman, seed");
}

Act parse_g_act(const std::string& s) {
  if (s == "relu") return Act::relu;
  if (s == "mish") return Act::mish;
  DG_FAIL("--g-act '", s, "' is not one of relu, mish");
}

void resolve_flags(TrainOptions& o) {
  TrainConfig& t = o.train;
  t.g_loss.mode = parse_gloss(o.g_loss);
  t.model.g_act = parse_g_act(o.g_act);
  t.lr_decay_linear = o.lr_decay == "linear";
  t.adam_d.beta1 = t.adam_g.beta1;
  t.adam_d.beta2 = t.adam_g.beta2;
}

void check_flag_combinations(const TrainOptions& o) {
  DG_CHECK(o.eval_every == 0 || !o.eval_features.empty(),
           "--eval-every needs --eval-features FILE: a classifier made by `dgeval train-classifier --data ", o.data,
           " --out classifier.safetensors`, or FID Inception weights converted by tools/convert_fid_inception.py");
  DG_CHECK(o.target_fid == 0 || o.eval_every > 0, "--target-fid ", o.target_fid, " needs --eval-every N");
  DG_CHECK(o.early_stop == 0 || o.eval_every > 0, "--early-stop ", o.early_stop, " needs --eval-every N");
}

// dg's real-valued settings are float32: 0.0002 and 0.00019999999494757503 are one setting.
static bool same_setting(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number_float() || b.is_number_float())
    return a.is_number() && b.is_number() && float(a.get<double>()) == float(b.get<double>());
  return a == b;
}

std::string differing_run_settings(const nlohmann::json& a, const nlohmann::json& b) {
  std::string out;
  for (const auto& [key, value] : a.items()) {
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    if (key == "total_steps" || allowed_with_resume(flag) || !b.contains(key) || same_setting(value, b[key])) continue;
    out += (out.empty() ? "" : ", ") + key + " (" + value.dump() + " vs " + b[key].dump() + ")";
  }
  return out;
}

nlohmann::json to_json(const TrainOptions& o) {
  const TrainConfig& t = o.train;
  return {
      {"data", o.data},
      {"data_format", o.data_format},
      {"arch", t.model.arch},
      {"image_size", t.model.image_size},
      {"channels", t.model.channels},
      {"nz", t.model.nz},
      {"ngf", t.model.ngf},
      {"ndf", t.model.ndf},
      {"g_act", o.g_act},
      {"discriminators", t.discriminators},
      {"g_loss", o.g_loss},
      {"softmax_lambda", shortest_decimal(t.g_loss.lambda)},
      {"batch_size", t.batch_size},
      {"steps", o.steps},
      {"epochs", o.epochs},
      {"total_steps", t.total_steps},
      {"lr_g", shortest_decimal(t.adam_g.lr)},
      {"lr_d", shortest_decimal(t.adam_d.lr)},
      {"beta1", shortest_decimal(t.adam_g.beta1)},
      {"beta2", shortest_decimal(t.adam_g.beta2)},
      {"adam_eps", shortest_decimal(t.adam_g.eps)},
      {"lr_decay", o.lr_decay},
      {"label_smooth", shortest_decimal(t.label_smooth)},
      {"seed", t.seed},
      {"device", o.device},
      {"deterministic", o.deterministic},
      {"cuda_graph", o.cuda_graph},
      {"out", o.out},
      {"run_name", o.run_name},
      {"sample_every", o.sample_every},
      {"checkpoint_every", o.checkpoint_every},
      {"log_every", o.log_every},
      {"keep_checkpoints", o.keep_checkpoints},
      {"dashboard", o.dashboard},
      {"eval_every", o.eval_every},
      {"eval_samples", o.eval_samples},
      {"eval_features", o.eval_features},
      {"target_fid", o.target_fid},
      {"early_stop", o.early_stop},
  };
}

// Numbers of config.json with their type and range checked before any conversion: a
// hand-edited or damaged file gets an error naming the field, never an out-of-range cast
// (fuzzing found log_every = 1.1e36 converted to int64). Meaning is checked later (validate).
static int64_t int_field(const nlohmann::json& j, const char* key, int64_t lo, int64_t hi) {
  const nlohmann::json& v = j.at(key);
  DG_CHECK(v.is_number_integer(), "config.json: ", key, " must be an integer, got ", v.dump());
  const bool fits = v.is_number_unsigned() ? v.get<uint64_t>() <= uint64_t(hi) : v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  DG_CHECK(fits, "config.json: ", key, " = ", v.dump(), " is outside [", lo, ", ", hi, "]");
  return v.is_number_unsigned() ? int64_t(v.get<uint64_t>()) : v.get<int64_t>();
}

static float float_field(const nlohmann::json& j, const char* key) {
  const nlohmann::json& v = j.at(key);
  DG_CHECK(v.is_number(), "config.json: ", key, " must be a number, got ", v.dump());
  const double d = v.get<double>();
  DG_CHECK(std::isfinite(d) && std::fabs(d) <= 3.0e38, "config.json: ", key, " = ", v.dump(),
           " is not a finite float");
  return float(d);
}

TrainOptions options_from_json(const nlohmann::json& j) {
  TrainOptions o;
  TrainConfig& t = o.train;
  const int64_t big = int64_t(1) << 50, small = int64_t(1) << 20;
  try {
    o.data = j.at("data");
    o.data_format = j.at("data_format");
    t.model.arch = j.at("arch");
    t.model.image_size = int(int_field(j, "image_size", 1, small));
    t.model.channels = int(int_field(j, "channels", 0, 4));
    t.model.nz = int(int_field(j, "nz", 1, small));
    t.model.ngf = int(int_field(j, "ngf", 1, small));
    t.model.ndf = int(int_field(j, "ndf", 1, small));
    o.g_act = j.at("g_act");
    t.discriminators = int(int_field(j, "discriminators", 1, 1024));
    o.g_loss = j.at("g_loss");
    t.g_loss.lambda = float_field(j, "softmax_lambda");
    t.batch_size = int(int_field(j, "batch_size", 1, int64_t(1) << 30));
    o.steps = int_field(j, "steps", 0, big);
    o.epochs = int_field(j, "epochs", 0, big);
    t.total_steps = int_field(j, "total_steps", 0, big);
    t.adam_g.lr = float_field(j, "lr_g");
    t.adam_d.lr = float_field(j, "lr_d");
    t.adam_g.beta1 = float_field(j, "beta1");
    t.adam_g.beta2 = float_field(j, "beta2");
    t.adam_g.eps = t.adam_d.eps = float_field(j, "adam_eps");
    o.lr_decay = j.at("lr_decay");
    t.label_smooth = float_field(j, "label_smooth");
    const nlohmann::json& seed = j.at("seed");
    DG_CHECK(seed.is_number_unsigned() || (seed.is_number_integer() && seed.get<int64_t>() >= 0),
             "config.json: seed must be a non-negative integer, got ", seed.dump());
    t.seed = seed.get<uint64_t>();
    o.device = j.at("device");
    o.deterministic = j.value("deterministic", false);
    o.cuda_graph = j.value("cuda_graph", "on");  // (runs made before graphs: on, the same results)
    DG_CHECK(o.cuda_graph == "on" || o.cuda_graph == "off", "config.json: cuda_graph must be on or off, got ", o.cuda_graph);
    o.out = j.at("out");
    o.run_name = j.at("run_name");
    o.sample_every = int_field(j, "sample_every", 0, big);
    o.checkpoint_every = int_field(j, "checkpoint_every", 0, big);
    o.log_every = int_field(j, "log_every", 1, big);
    o.keep_checkpoints = j.contains("keep_checkpoints") ? int(int_field(j, "keep_checkpoints", 0, small)) : 0;
    o.dashboard = j.value("dashboard", "on");  // (runs made before the dashboard: on)
    DG_CHECK(o.dashboard == "on" || o.dashboard == "off", "config.json: dashboard must be on or off, got ", o.dashboard);
    if (j.contains("eval_every")) {  // runs made before evaluation existed have none of these
      o.eval_every = int_field(j, "eval_every", 0, big);
      o.eval_samples = int_field(j, "eval_samples", 2, int64_t(1) << 24);
      o.eval_features = j.at("eval_features");
      o.target_fid = float_field(j, "target_fid");
      o.early_stop = int(int_field(j, "early_stop", 0, small));
    }
  } catch (const nlohmann::json::exception& e) {
    DG_FAIL("config.json: ", e.what());
  }
  resolve_flags(o);
  return o;
}

}  // namespace dg
