#pragma once
// A run reopened from the store without recomputing: its record, what it says about each
// head (store::run_head_values), its units, and on demand one unit's stored pooled maps
// as the attention map shows them (pooled means at every zoom; exact tiles are not stored).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "analysis/store/head_metric_records.h"
#include "analysis/store/run_records.h"
#include "analysis/store/unit_records.h"
#include "kernels/attention_capture.h"
#include "views/head_map.h"

namespace attnscope::gui {

struct StoredRun {
  std::filesystem::path database;
  store::RunRecord record;
  store::RunHeadValues values;
  std::vector<store::UnitRecord> units;
};

// attnscope::Error naming the file when it is not a store or has no such run.
StoredRun load_stored_run(const std::filesystem::path& database, store::RunId run);

// "needle, 1024 tokens, depth 50%": a unit as the history's prompt list names it.
std::string unit_label(const store::UnitRecord& unit);

// One unit's pooled maps, every head of the model in place ([layer * heads + head]).
struct StoredMaps {
  store::RunId run{};
  int layers = 0, heads = 0;
  int64_t tokens = 0;  // rows summed into the blocks, the map's side
  std::vector<kernels::PooledMap> maps;
  std::vector<bool> present;
};

// std::nullopt-like empty result (no maps) when the unit stored none; attnscope::Error for
// a damaged blob or maps of different sizes.
std::shared_ptr<const StoredMaps> load_unit_maps(const std::filesystem::path& database, store::RunId run,
                                                 store::UnitId unit, int layers, int heads);

// The map view of one stored head (pooled only; `maps` kept alive by the HeadMap).
// attnscope::Error when the unit stored no map for it.
views::HeadMap stored_head_map(const std::shared_ptr<const StoredMaps>& maps, int layer, int head);

}  // namespace attnscope::gui
