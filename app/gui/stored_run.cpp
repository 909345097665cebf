#include "app/gui/stored_run.h"

#include <cmath>
#include <numeric>

#include "analysis/store/database.h"
#include "analysis/store/pooled_map_records.h"
#include "kernels/error.h"

namespace attnscope::gui {

StoredRun load_stored_run(const std::filesystem::path& database, store::RunId run) {
  const store::Database db = store::Database::open(database, store::OpenMode::ReadOnly);
  StoredRun out;
  out.database = database;
  out.record = store::get_run(db, run);
  out.values = store::run_head_values(db, run);
  out.units = store::list_units(db, run);
  return out;
}

std::string unit_label(const store::UnitRecord& unit) {
  // Appended piece by piece: GCC 12 warns wrongly (-Wrestrict) about "literal" + std::string.
  std::string label = "#";
  label += std::to_string(unit.ordinal);
  label += ' ';
  label += unit.task;
  if (unit.prompt_tokens > 0) {
    label += ", ";
    label += std::to_string(unit.prompt_tokens);
    label += " tokens";
  }
  const nlohmann::json& p = unit.parameters;
  if (p.is_object() && p.contains("depth") && p["depth"].is_number()) {
    label += ", depth ";
    label += std::to_string(int(std::lround(p["depth"].get<double>() * 100)));
    label += '%';
  }
  return label;
}

std::shared_ptr<const StoredMaps> load_unit_maps(const std::filesystem::path& database, store::RunId run,
                                                 store::UnitId unit, int layers, int heads) {
  const store::Database db = store::Database::open(database, store::OpenMode::ReadOnly);
  const std::vector<store::PooledMapRecord> records = store::read_pooled_maps(db, run, unit);
  auto out = std::make_shared<StoredMaps>();
  out->run = run;
  out->layers = layers;
  out->heads = heads;
  out->maps.resize(size_t(layers) * size_t(heads));
  out->present.assign(out->maps.size(), false);
  for (const store::PooledMapRecord& r : records) {
    if (r.layer < 0 || r.layer >= layers || r.head < 0 || r.head >= heads) continue;
    const int64_t tokens = std::accumulate(r.rows_in_block.begin(), r.rows_in_block.end(), int64_t(0));
    if (out->tokens != 0 && tokens != out->tokens)
      throw Error(db.where(), "run " + std::to_string(int64_t(run)) + " stored pooled maps of " +
                                  std::to_string(out->tokens) + " and " + std::to_string(tokens) + " rows for one prompt");
    out->tokens = tokens;
    kernels::PooledMap& map = out->maps[size_t(r.layer) * size_t(heads) + size_t(r.head)];
    map.block = r.block;
    map.rows_in_block = r.rows_in_block;
    map.sums.resize(size_t(r.block_rows()));
    for (int64_t i = 0; i < r.block_rows(); ++i) {
      map.sums[size_t(i)].resize(size_t(i + 1));
      for (int64_t j = 0; j <= i; ++j) map.sums[size_t(i)][size_t(j)] = r.sum(i, j);
    }
    out->present[size_t(r.layer) * size_t(heads) + size_t(r.head)] = true;
  }
  return out;
}

views::HeadMap stored_head_map(const std::shared_ptr<const StoredMaps>& maps, int layer, int head) {
  const size_t i = size_t(layer) * size_t(maps->heads) + size_t(head);
  if (layer < 0 || head < 0 || layer >= maps->layers || head >= maps->heads || !maps->present[i])
    throw Error("run " + std::to_string(int64_t(maps->run)),
                "stored no pooled map of layer " + std::to_string(layer) + " head " + std::to_string(head));
  views::HeadMap map;
  map.layer = layer;
  map.head = head;
  map.tokens = maps->tokens;
  map.pooled = &maps->maps[i];
  map.owner = maps;
  return map;
}

}  // namespace attnscope::gui
