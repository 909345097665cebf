#include "app/cli/progress.h"

#include <cstdio>

namespace attnscope::cli {

void ProgressReporter::update(const runtime::Progress& p) {
  const double elapsed = line_.elapsed();
  if (elapsed < 1.0 || !line_.due(false)) return;
  const double rate = double(p.done) / elapsed;
  const double eta = rate > 0 ? double(p.total - p.done) / rate : 0;
  char text[160];
  std::snprintf(text, sizeof text, "%s %lld/%lld tokens (%.0f%%), %.0f tokens/s, %.0f s left",
                p.decoding ? "decode " : "prefill", (long long)p.done, (long long)p.total,
                100.0 * double(p.done) / double(p.total > 0 ? p.total : 1), rate, eta);
  line_.print(text);
}

}  // namespace attnscope::cli
