#include "app/cli/job_progress.h"

#include <algorithm>

namespace attnscope::cli {

void JobProgress::update(const profile::ProfileProgress& p) {
  const bool new_unit = p.unit != last_unit_;
  if (!line_.due(new_unit)) return;
  last_unit_ = p.unit;
  const double share = p.work_total > 0 ? std::min(1.0, p.work_done / p.work_total) : 0.0;
  char counts[96];
  std::snprintf(counts, sizeof counts, " %3.0f%% unit %lld/%lld, ", 100 * share,
                (long long)std::min(p.units_done + 1, p.units_total), (long long)p.units_total);
  line_.print(progress_bar(share) + counts + eta_text(seconds_left(line_.elapsed(), share)) + " left: " +
              shortened(p.unit, 60));  // a terminal line of about 120 characters
}

}  // namespace attnscope::cli
