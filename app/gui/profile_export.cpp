#include "app/gui/profile_export.h"

#include "analysis/export/profile_export.h"
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

namespace {

ex::ExportFormat format_of(ProfileExport format) {
  switch (format) {
    case ProfileExport::Duo: return ex::ExportFormat::Duo;
    case ProfileExport::Moa: return ex::ExportFormat::Moa;
    case ProfileExport::Minference: return ex::ExportFormat::Minference;
    case ProfileExport::RetrievalHead:
    case ProfileExport::HeadKvReasoning: return ex::ExportFormat::RetrievalHead;
    case ProfileExport::Razor: return ex::ExportFormat::Razor;
    case ProfileExport::Json: return ex::ExportFormat::Json;
    case ProfileExport::Csv: return ex::ExportFormat::Csv;
  }
  return ex::ExportFormat::Json;
}

}  // namespace

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
  const std::vector<ex::StoredProfile> runs = {ex::read_stored_profile(db, run, shape)};
  ex::ExportOptions options;
  options.reasoning = format == ProfileExport::HeadKvReasoning;
  ex::export_profile_runs(db, runs, shape, format_of(format), options, out);
}

void export_plan(const masks::MaskPlan& plan, ProfileExport format, const std::filesystem::path& model_dir,
                 const std::filesystem::path& out) {
  ex::export_plan(plan, ex::read_model_shape(model_dir), format_of(format), out, "mask plan");
}

}  // namespace attnscope::gui
