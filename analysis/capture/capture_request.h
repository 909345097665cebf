#pragma once
// What to record while a model runs: which layers and query heads, and the options
// of each statistic.
#include <string>
#include <vector>

#include "analysis/model/model_spec.h"
#include "kernels/attention_capture.h"

namespace attnscope::capture {

struct CaptureRequest {
  std::vector<int> layers;  // empty: every layer
  std::vector<int> heads;   // query heads; empty: every head
  kernels::CaptureOptions options;
};

// Parses "all", "3", "0,2,5-7" into sorted unique indices below `count`; throws
// attnscope::Error naming `what` ("--layers") on bad syntax or an index out of range.
std::vector<int> parse_index_list(const std::string& text, int count, const std::string& what);

// Checks already-parsed indices against `count` (empty means all of them) and returns
// them sorted and unique; throws like parse_index_list.
std::vector<int> resolve_indices(const std::vector<int>& indices, int count, const std::string& what);

}  // namespace attnscope::capture
