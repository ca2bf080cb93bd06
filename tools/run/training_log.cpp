// log_step (tools/run/training_run.h): at each log point, a line of metrics.jsonl, the same
// scalars for TensorBoard, and the progress line. The only place the loop waits for the
// device to report the losses.
#include <cmath>
#include <sstream>

#include "tools/run/json_number.h"
#include "tools/run/training_run.h"

namespace dg {

namespace {

std::string loss_summary(const StepStats& s) {
  std::ostringstream o;
  o.precision(3);
  o << "G " << s.g_loss;
  for (size_t i = 0; i < s.d_real.size(); i++) o << "  D" << i << " " << s.d_real[i] + s.d_fake[i];
  return o.str();
}

// A metrics line's scalars for TensorBoard: losses, each D's share of the selections since
// the last line, speed and the learning rates of the last step.
std::vector<std::pair<std::string, double>> train_scalars(const StepStats& s, double img_s, float lr_g, float lr_d) {
  std::vector<std::pair<std::string, double>> v = {{"loss/G", s.g_loss}};
  double selections = 0;
  for (float n : s.selected) selections += n;
  for (size_t i = 0; i < s.d_real.size(); i++) {
    const std::string d = "D" + std::to_string(i);
    v.push_back({"loss/" + d + "_real", s.d_real[i]});
    v.push_back({"loss/" + d + "_fake", s.d_fake[i]});
    v.push_back({"selection/" + d, selections > 0 ? s.selected[i] / selections : 0.0});
  }
  v.push_back({"perf/img_per_s", img_s});
  v.push_back({"lr/G", lr_g});
  v.push_back({"lr/D", lr_d});
  return v;
}

}  // namespace

std::optional<int> log_step(TrainingRun& r) {
  const StepStats s = r.trainer->stats();  // synchronizes: only here
  if (const std::string why = loss_went_bad(r); !why.empty()) return nonfinite_stop(r, why);
  const int64_t step = r.trainer->step();
  const auto now = Clock::now();
  const double dt = std::chrono::duration<double>(now - r.last_log_time).count();
  const double global_batch = double(r.o.train.batch_size) * r.dist.world_size();
  const double img_s = dt > 0 ? double(step - r.last_log_step) * global_batch / dt : 0.0;
  const double eta = img_s > 0 ? double(r.total - step) * global_batch / img_s : NAN;
  const nlohmann::json line = {{"step", step},
                               {"epoch", double(step) / double(r.loader->batches_per_epoch())},
                               {"wall_s", r.wall_s()},
                               {"img_per_s", img_s},
                               {"g_loss", shortest_decimal(s.g_loss)},
                               {"d_real", shortest_decimals(s.d_real)},
                               {"d_fake", shortest_decimals(s.d_fake)},
                               {"selected", shortest_decimals(s.selected)}};
  if (r.root) {
    r.folder->append_metrics(line);
    r.events->scalars(step, train_scalars(s, img_s, r.trainer->lr(r.o.train.adam_g, step - 1),
                                          r.trainer->lr(r.o.train.adam_d, step - 1)));
  }
  r.progress.update(step, img_s, loss_summary(s), eta);
  r.last_log_time = now;
  r.last_log_step = step;
  return std::nullopt;
}

}  // namespace dg
