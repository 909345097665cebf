#include "analysis/export/profile_export.h"

#include "analysis/export/duo_attention.h"
#include "analysis/export/format_text.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_document.h"
#include "analysis/export/retrieval_head_scores.h"
#include "kernels/error.h"

namespace attnscope::exports {
namespace {

// DuoAttention's window when neither the user nor the run says (its README's deployment).
constexpr int64_t kDefaultSink = 128;
constexpr int64_t kDefaultRecent = 256;

}  // namespace

bool describes_plans(ExportFormat format) {
  return format == ExportFormat::Duo || format == ExportFormat::Moa || format == ExportFormat::Minference;
}

void export_profile_runs(const store::Database& db, std::span<const StoredProfile> runs, const ModelShape& shape,
                         ExportFormat format, const ExportOptions& options, const std::filesystem::path& out) {
  if (runs.empty()) throw Error(db.path().string(), "no run to export");
  const StoredProfile& run = runs.front();
  switch (format) {
    case ExportFormat::Duo: {
      const bool max = options.duo_kv_reduction == profile::KvReduction::Max;
      DuoPattern p = duo_from_profile(run.heads, shape, options.duo_kv_reduction);
      // The probe's window: what the gates measured.
      const nlohmann::json& streaming = run.run.parameters.value("streaming", nlohmann::json::object());
      p.sink_size = options.duo_sink.value_or(streaming.value("sink_tokens", kDefaultSink));
      p.recent_size = options.duo_recent.value_or(streaming.value("recent_tokens", kDefaultRecent));
      p.config["model_name"] = shape.name;
      p.config["attnscope_run"] = int64_t(run.run.id);
      p.config["attnscope_version"] = ATTNSCOPE_VERSION;
      p.config["gate"] = "streaming_gate (attnscope streaming probe, docs/profiling.md)";
      p.config["kv_reduction"] = max ? "max" : "mean";
      write_duo_directory(p, shape, out);
      return;
    }
    case ExportFormat::Moa:
      write_text_file(out, moa_text(moa_from_span_samples(stored_span_samples(db, runs, shape), shape), shape));
      return;
    case ExportFormat::Minference:
      write_text_file(out, minference_text(minference_from_profile(run.heads, shape, options.minference), shape));
      return;
    case ExportFormat::RetrievalHead: {
      const auto metric = options.reasoning ? profile::metric::retrieval_reasoning_score : profile::metric::retrieval_score;
      write_text_file(out, retrieval_head_text(stored_retrieval_lists(db, run, metric, shape), shape));
      return;
    }
    case ExportFormat::Razor:
      write_text_file(out, razor_text(razor_from_profile(run.heads, shape, options.razor), shape));
      return;
    case ExportFormat::Json: write_text_file(out, profile_json_text(profile_document(run, shape), shape)); return;
    case ExportFormat::Csv: write_text_file(out, profile_csv_text(run.heads, shape)); return;
  }
}

void export_plan(const masks::MaskPlan& plan, const ModelShape& shape, ExportFormat format,
                 const std::filesystem::path& out, const std::string& where) {
  if (plan.num_layers() != shape.layers || plan.num_heads() != shape.heads)
    throw Error(where, "the plan has " + std::to_string(plan.num_layers()) + " layers and " +
                           std::to_string(plan.num_heads()) + " heads; " + shape.describe());
  switch (format) {
    case ExportFormat::Duo: write_duo_directory(duo_from_plan(plan, shape), shape, out); return;
    case ExportFormat::Moa: write_text_file(out, moa_text(moa_from_plan(plan, shape), shape)); return;
    case ExportFormat::Minference: write_text_file(out, minference_text(minference_from_plan(plan, shape), shape)); return;
    default:
      throw Error(where, "plans are written as DuoAttention, MoA or MInference files (or saved as AttnScope plans); "
                         "the other formats hold a profile run");
  }
}

}  // namespace attnscope::exports
