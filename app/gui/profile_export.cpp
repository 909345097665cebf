#include "app/gui/profile_export.h"

#include "analysis/export/duo_attention.h"
#include "analysis/export/format_text.h"
#include "analysis/export/minference_pattern.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_document.h"
#include "analysis/export/razor_heads.h"
#include "analysis/export/retrieval_head_scores.h"
#include "analysis/export/stored_profile.h"
#include "analysis/profile/head_profile.h"
#include "analysis/store/database.h"
#include "kernels/error.h"

namespace attnscope::gui {

namespace ex = exports;

const std::vector<ProfileExportFormat>& profile_export_formats() {
  static const std::vector<ProfileExportFormat> formats = {
      {ProfileExport::Duo, "DuoAttention (full_attention_heads.tsv + config.json)", "", "duo_attention", true},
      {ProfileExport::Moa, "MoA plan", "MoA (*.json)", "moa_plan.json", true},
      {ProfileExport::Minference, "MInference pattern", "MInference (*.json)", "minference_pattern.json", true},
      {ProfileExport::RetrievalHead, "Retrieval_Head scores", "Retrieval_Head (*.json)", "retrieval_heads.json", false},
      {ProfileExport::HeadKvReasoning, "HeadKV reasoning scores", "HeadKV (*.json)", "reasoning_heads.json", false},
      {ProfileExport::Razor, "RazorAttention heads", "RazorAttention (*.json)", "razor_heads.json", false},
      {ProfileExport::Json, "AttnScope profile JSON", "JSON (*.json)", "profile.json", false},
      {ProfileExport::Csv, "CSV (a row per head)", "CSV (*.csv)", "profile.csv", false},
  };
  return formats;
}

void export_stored_run(const std::filesystem::path& database, store::RunId run, ProfileExport format,
                       const std::filesystem::path& out, const std::optional<std::filesystem::path>& model_dir) {
  const store::Database db = store::Database::open(database, store::OpenMode::ReadOnly);
  const store::RunRecord record = store::get_run(db, run);
  ex::ModelShape shape;
  try {
    shape = ex::shape_for_run(record, std::nullopt);
  } catch (const Error&) {
    if (!model_dir) throw;
    shape = ex::shape_for_run(record, model_dir);  // the model moved: the open one, if its counts match
  }
  const ex::StoredProfile stored = ex::read_stored_profile(db, run, shape);
  switch (format) {
    case ProfileExport::Duo: {
      ex::DuoPattern p = ex::duo_from_profile(stored.heads, shape, profile::KvReduction::Max);
      // The probe's window: what the gates measured.
      const nlohmann::json& streaming = record.parameters.value("streaming", nlohmann::json::object());
      p.sink_size = streaming.value("sink_tokens", int64_t(128));
      p.recent_size = streaming.value("recent_tokens", int64_t(256));
      p.config["model_name"] = shape.name;
      p.config["attnscope_run"] = int64_t(run);
      p.config["attnscope_version"] = ATTNSCOPE_VERSION;
      p.config["gate"] = "streaming_gate (attnscope streaming probe, docs/profiling.md)";
      p.config["kv_reduction"] = "max";
      ex::write_duo_directory(p, shape, out);
      return;
    }
    case ProfileExport::Moa: {
      const std::vector<ex::StoredProfile> runs = {stored};
      ex::write_text_file(out, ex::moa_text(ex::moa_from_span_samples(ex::stored_span_samples(db, runs, shape), shape), shape));
      return;
    }
    case ProfileExport::Minference:
      ex::write_text_file(out, ex::minference_text(ex::minference_from_profile(stored.heads, shape), shape));
      return;
    case ProfileExport::RetrievalHead:
    case ProfileExport::HeadKvReasoning: {
      const auto metric = format == ProfileExport::RetrievalHead ? profile::metric::retrieval_score
                                                                 : profile::metric::retrieval_reasoning_score;
      ex::write_text_file(out, ex::retrieval_head_text(ex::stored_retrieval_lists(db, stored, metric, shape), shape));
      return;
    }
    case ProfileExport::Razor:
      ex::write_text_file(out, ex::razor_text(ex::razor_from_profile(stored.heads, shape), shape));
      return;
    case ProfileExport::Json:
      ex::write_text_file(out, ex::profile_json_text(ex::profile_document(stored, shape), shape));
      return;
    case ProfileExport::Csv: ex::write_text_file(out, ex::profile_csv_text(stored.heads, shape)); return;
  }
}

void export_plan(const masks::MaskPlan& plan, ProfileExport format, const std::filesystem::path& model_dir,
                 const std::filesystem::path& out) {
  const ex::ModelShape shape = ex::read_model_shape(model_dir);
  if (plan.num_layers() != shape.layers || plan.num_heads() != shape.heads)
    throw Error("mask plan", "the plan has " + std::to_string(plan.num_layers()) + " layers and " +
                                 std::to_string(plan.num_heads()) + " heads; " + shape.describe());
  switch (format) {
    case ProfileExport::Duo: ex::write_duo_directory(ex::duo_from_plan(plan, shape), shape, out); return;
    case ProfileExport::Moa: ex::write_text_file(out, ex::moa_text(ex::moa_from_plan(plan, shape), shape)); return;
    case ProfileExport::Minference:
      ex::write_text_file(out, ex::minference_text(ex::minference_from_plan(plan, shape), shape));
      return;
    default:
      throw Error("mask plan", "plans are written as DuoAttention, MoA or MInference files (or saved as AttnScope "
                               "plans from the mask lab); the other formats hold a profile run");
  }
}

}  // namespace attnscope::gui
