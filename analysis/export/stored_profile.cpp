#include "analysis/export/stored_profile.h"

#include <cmath>

#include "analysis/store/head_metric_records.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

std::string run_name(const store::RunRecord& run) { return "run " + std::to_string(int64_t(run.id)); }

void check_run_shape(const store::RunRecord& run, const ModelShape& shape, const std::string& where) {
  const store::ModelIdentity& m = run.model.identity;
  if (m.num_layers == shape.layers && m.num_heads == shape.heads && m.num_kv_heads == shape.kv_heads) return;
  throw Error(where, run_name(run) + " profiled a model of " + std::to_string(m.num_layers) + " layers, " +
                         std::to_string(m.num_heads) + " query heads and " + std::to_string(m.num_kv_heads) +
                         " KV heads, not " + shape.describe());
}

}  // namespace

ModelShape shape_for_run(const store::RunRecord& run, const std::optional<std::filesystem::path>& model_dir) {
  const std::filesystem::path dir = model_dir ? *model_dir : std::filesystem::path(run.model.identity.path);
  std::error_code ec;
  if (!model_dir && !std::filesystem::exists(dir / "config.json", ec))
    throw Error(run_name(run), "its model's config.json is not at " + dir.string() +
                                   " where the store last saw it; give the model directory (--model DIR)");
  ModelShape shape = read_model_shape(dir);
  check_run_shape(run, shape, (dir / "config.json").string());
  return shape;
}

StoredProfile read_stored_profile(const store::Database& db, store::RunId run, const ModelShape& shape) {
  StoredProfile out;
  out.run = store::get_run(db, run);
  check_run_shape(out.run, shape, db.path().string());
  out.units = store::list_units(db, run);
  const store::RunHeadValues values = store::run_head_values(db, run);
  out.from_units = values.from_units;
  out.heads = profile::HeadProfile(shape.layers, shape.heads);
  for (const store::HeadMetric& m : values.metrics) {
    if (!m.is_text() && !std::isfinite(m.number())) continue;  // undefined for this head
    if (m.is_text()) out.heads.set(m.name, m.layer, m.head, m.text());
    else out.heads.set(m.name, m.layer, m.head, m.number());
  }
  return out;
}

RetrievalHeadScores stored_retrieval_lists(const store::Database& db, const StoredProfile& profile,
                                           std::string_view metric, const ModelShape& shape) {
  RetrievalHeadScores scores;
  scores.layers = shape.layers;
  scores.heads = shape.heads;
  scores.tests.resize(size_t(shape.layers) * size_t(shape.heads));
  int64_t counted = 0;
  for (const store::UnitRecord& unit : profile.units) {
    bool any = false;
    for (const store::HeadMetric& m : store::read_head_metrics(db, profile.run.id, unit.id)) {
      if (m.name != metric || m.is_text() || !std::isfinite(m.number())) continue;
      scores.tests[size_t(m.layer) * size_t(shape.heads) + size_t(m.head)].push_back(m.number());
      any = true;
    }
    counted += any ? 1 : 0;
  }
  if (counted == 0)
    throw Error(run_name(profile.run), "no unit has a " + std::string(metric) +
                                           " (it is kept for needle and passkey prompts answered correctly)");
  return scores;
}

std::vector<std::vector<profile::SpanSample>> stored_span_samples(const store::Database& db,
                                                                  std::span<const StoredProfile> profiles,
                                                                  const ModelShape& shape) {
  std::vector<std::vector<profile::SpanSample>> samples(size_t(shape.layers) * size_t(shape.heads));
  bool any = false;
  for (const StoredProfile& p : profiles)
    for (const store::UnitRecord& unit : p.units)
      for (const store::HeadMetric& m : store::read_head_metrics(db, p.run.id, unit.id)) {
        if (m.name != profile::metric::span_90 || m.is_text() || !std::isfinite(m.number())) continue;
        samples[size_t(m.layer) * size_t(shape.heads) + size_t(m.head)].push_back(
            {double(unit.prompt_tokens), m.number()});
        any = true;
      }
  if (!any)
    throw Error(db.path().string(), "no unit of the runs has span_90 (profiles from before it was added, or runs "
                                    "without capture metrics)");
  return samples;
}

}  // namespace attnscope::exports
