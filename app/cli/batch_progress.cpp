#include "app/cli/batch_progress.h"

#include <algorithm>
#include <cstdio>

namespace attnscope::cli {

void BatchProgress::update(const plugins::JobProgress& p) {
  if (!line_.due(p.message != last_message_)) return;
  last_message_ = p.message;
  const double share = std::clamp(p.fraction, 0.0, 1.0);
  const std::string text = p.detail.empty() ? p.message : p.message + " (" + p.detail + ")";
  char percent[16];
  std::snprintf(percent, sizeof percent, " %3.0f%%, ", 100 * share);
  line_.print(progress_bar(share) + percent + eta_text(seconds_left(line_.elapsed(), share)) + " left: " +
              shortened(text, 70));  // a terminal line of about 120 characters
}

void BatchProgress::log(plugins::LogLevel level, const std::string& message) {
  line_.above("attnscope-cli: " + std::string(plugins::log_level_name(level)) + ": " + message);
}

}  // namespace attnscope::cli
