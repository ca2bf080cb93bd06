#include "tools/run/progress.h"

#include <cmath>
#include <cstdio>

namespace dg {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  char buf[32];
  const long t = std::lround(s);
  if (t >= 3600)
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  else if (t >= 60)
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  else
    std::snprintf(buf, sizeof buf, "%lds", t);
  return buf;
}

void Progress::update(int64_t step, double img_per_s, const std::string& losses, double eta_s) {
  if (quiet_) return;
  char buf[512];
  std::snprintf(buf, sizeof buf, "step %lld/%lld  %.0f img/s  %s  ETA %s", static_cast<long long>(step),
                static_cast<long long>(total_), img_per_s, losses.c_str(), format_duration(eta_s).c_str());
  if (terminal_) {
    std::printf("\r\033[K%s", buf);
    line_open_ = true;
  } else {
    std::printf("%s\n", buf);
  }
  std::fflush(stdout);
}

void Progress::message(const std::string& line) {
  if (quiet_) return;
  if (line_open_) std::printf("\n");
  line_open_ = false;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void Progress::finish() {
  if (line_open_) std::printf("\n");
  line_open_ = false;
  std::fflush(stdout);
}

}  // namespace dg
