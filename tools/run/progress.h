// Progress display: on a terminal one line rewritten in place (step/total, img/s, losses,
// ETA); otherwise a plain line per log point, for log files.
#pragma once
#include <cstdint>
#include <string>

namespace dg {

class Progress {
 public:
  // quiet: print nothing (the ranks other than 0 of a multi-process run).
  Progress(int64_t total_steps, bool terminal, bool quiet = false)
      : total_(total_steps), terminal_(terminal), quiet_(quiet) {}
  void set_total(int64_t total_steps) { total_ = total_steps; }
  // `losses` is a short preformatted string ("G 1.23 D0 0.45 D1 0.51").
  void update(int64_t step, double img_per_s, const std::string& losses, double eta_s);
  void message(const std::string& line);  // a line of its own, not overwritten
  void finish();

 private:
  int64_t total_;
  bool terminal_;
  bool quiet_;
  bool line_open_ = false;
};

std::string format_duration(double seconds);  // "1h02m", "3m05s", "12s"

}  // namespace dg
