#pragma once
// One finished run as the window keeps it: the tokens, the continuation, the capture of
// every layer and head, and its per-head summaries. Immutable once made; shared with the
// views through HeadMap spans (shared_ptr keeps it alive).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/capture/capture.h"
#include "analysis/tasks/task_prompt.h"
#include "views/head_map.h"

namespace attnscope::gui {

struct RunSettings {
  int64_t generate = 0;      // tokens to generate greedily after the prompt
  int64_t exact_limit = 0;   // exact rows kept; 0: auto_exact_limit
};

struct RunResult {
  uint64_t id = 0;
  std::string prompt_text;
  std::shared_ptr<const tasks::TaskPrompt> task;  // the generated task the prompt is, if it is one
  std::vector<int32_t> prompt;        // ids
  std::vector<int32_t> continuation;  // generated ids
  std::string continuation_text;
  std::vector<int32_t> tokens;        // the captured rows' tokens: prompt + generated ones fed back
  std::vector<std::string> pieces;    // each of `tokens` decoded on its own
  std::unique_ptr<capture::Capture> capture;
  std::vector<capture::HeadSummary> summaries;
  double seconds = 0;
  bool cancelled = false;

  int64_t rows() const { return int64_t(tokens.size()); }
};

// The pool block for `tokens` rows: the smallest power of two that keeps the pooled map
// at most kPooledCells blocks a side (1 for short runs: then the pooled map is exact).
constexpr int64_t kPooledCells = 256;
int64_t auto_pool_block(int64_t tokens);

// Exact rows to keep so that all `heads` (layer x head pairs) stay under `budget_bytes`
// (rows^2 / 2 floats each), at most `tokens`.
constexpr uint64_t kExactBudgetBytes = uint64_t(512) << 20;
int64_t auto_exact_limit(int64_t heads, int64_t tokens, uint64_t budget_bytes = kExactBudgetBytes);

// The capture's options for a run of `tokens` rows under `settings`.
kernels::CaptureOptions run_capture_options(const RunSettings& settings, int64_t heads, int64_t tokens);

// The view of one head; the HeadMap keeps `run` alive. attnscope::Error when the run did
// not capture that head.
views::HeadMap head_map(const std::shared_ptr<const RunResult>& run, int layer, int head);

}  // namespace attnscope::gui
