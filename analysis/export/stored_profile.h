#pragma once
// What the exporters read of a run in the store: the run and its model, the run-level
// value of every metric per (layer, query head), the completed units, and per unit the
// values the per-test formats need (Retrieval_Head's lists, span_90 at each length).
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/export/model_shape.h"
#include "analysis/export/retrieval_head_scores.h"
#include "analysis/profile/head_profile.h"
#include "analysis/profile/span_rule.h"
#include "analysis/store/database.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"

namespace attnscope::exports {

struct StoredProfile {
  store::RunRecord run;
  std::vector<store::UnitRecord> units;   // completed, by ordinal
  profile::HeadProfile heads;             // run-level values; NaN (undefined) left out
  bool from_units = false;                // the run stopped before its aggregate: means over units
};

// attnscope::Error naming the store for a run that does not exist, or whose model's
// stored shape is not `shape`'s.
StoredProfile read_stored_profile(const store::Database& db, store::RunId run, const ModelShape& shape);

// The shape of the run's model: config.json in `model_dir` when given, else in the path
// the store last saw the model at; attnscope::Error when that config.json is missing
// ("give --model DIR") or its counts differ from the ones stored with the run.
ModelShape shape_for_run(const store::RunRecord& run, const std::optional<std::filesystem::path>& model_dir);

// Retrieval_Head's lists from the units: per head, its value of `metric`
// (retrieval_score, or retrieval_reasoning_score for HeadKV's reasoning file) in each
// unit that has it, in unit order (the profile stores it only for counted tests, for
// every head). attnscope::Error when no unit has the metric.
RetrievalHeadScores stored_retrieval_lists(const store::Database& db, const StoredProfile& profile,
                                           std::string_view metric, const ModelShape& shape);

// span_90 of every head in every unit of `profiles` that has it, with the unit's prompt
// tokens as the length: [layer-major head][sample]. attnscope::Error when no unit has it.
std::vector<std::vector<profile::SpanSample>> stored_span_samples(const store::Database& db,
                                                                  std::span<const StoredProfile> profiles,
                                                                  const ModelShape& shape);

}  // namespace attnscope::exports
