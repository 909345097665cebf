// attnscope-cli export: a stored profile run (or a mask plan) in the file formats of
// DuoAttention, MoA, MInference, Retrieval_Head / HeadKV, RazorAttention, or our own
// profile JSON / CSV (analysis/export; docs/export-formats.md). Every file is checked
// against the model's config.json before it is written.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/export/duo_attention.h"
#include "analysis/export/format_text.h"
#include "analysis/export/minference_pattern.h"
#include "analysis/export/moa_plan_file.h"
#include "analysis/export/profile_document.h"
#include "analysis/export/razor_heads.h"
#include "analysis/export/retrieval_head_scores.h"
#include "analysis/export/stored_profile.h"
#include "analysis/masks/mask_plan.h"
#include "analysis/store/database.h"
#include "app/cli/commands.h"
#include "app/cli/profile_formats.h"
#include "app/cli/store_options.h"
#include "kernels/error.h"

namespace attnscope::cli {
namespace {

namespace ex = exports;

const std::set<std::string> kValueOptions = {"format", "plan", "db", "out", "model", "kv-reduction", "sink",
                                             "recent", "echo-ratio", "induction-ratio", "stream", "vertical-slash"};
const std::set<std::string> kSwitches = {"json", "reasoning"};

store::RunId run_id(const std::string& text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0)
    throw UsageError("a run id is a positive integer, not '" + text + "'");
  return store::RunId(v);
}

// "V,S" for MInference's (v, s) pairs.
std::pair<int64_t, int64_t> size_pair(const Arguments& args, const std::string& name, std::pair<int64_t, int64_t> fallback) {
  const auto text = args.value(name);
  if (!text) return fallback;
  const size_t comma = text->find(',');
  std::pair<int64_t, int64_t> out{-1, -1};
  if (comma != std::string::npos) {
    std::from_chars(text->data(), text->data() + comma, out.first);
    std::from_chars(text->data() + comma + 1, text->data() + text->size(), out.second);
  }
  if (out.first < 0 || out.second < 0 || comma == std::string::npos)
    throw UsageError("--" + name + " takes two token counts V,S, not '" + *text + "'");
  return out;
}

// What a file is written from, for its summary.
struct Source {
  std::optional<ex::ModelShape> shape;
  std::vector<ex::StoredProfile> runs;
  std::optional<masks::MaskPlan> plan;
  std::string description;
};

void export_from_plan(ProfileFormat format, const masks::MaskPlan& plan, const ex::ModelShape& shape,
                      const std::filesystem::path& out) {
  switch (format) {
    case ProfileFormat::Duo: ex::write_duo_directory(ex::duo_from_plan(plan, shape), shape, out); return;
    case ProfileFormat::Moa: ex::write_text_file(out, ex::moa_text(ex::moa_from_plan(plan, shape), shape)); return;
    case ProfileFormat::Minference:
      ex::write_text_file(out, ex::minference_text(ex::minference_from_plan(plan, shape), shape));
      return;
    default: break;  // run_export refused the others
  }
}

void export_from_runs(ProfileFormat format, const Arguments& args, const store::Database& db, const Source& source,
                      const std::filesystem::path& out) {
  const ex::ModelShape& shape = *source.shape;
  const ex::StoredProfile& run = source.runs.front();
  switch (format) {
    case ProfileFormat::Duo: {
      const std::string reduction = args.value_or("kv-reduction", "max");
      if (reduction != "max" && reduction != "mean") throw UsageError("--kv-reduction is max or mean, not '" + reduction + "'");
      ex::DuoPattern p = ex::duo_from_profile(run.heads, shape,
                                              reduction == "max" ? profile::KvReduction::Max : profile::KvReduction::Mean);
      // The probe's window (what the gates measured) unless asked otherwise.
      const nlohmann::json& streaming = run.run.parameters.value("streaming", nlohmann::json::object());
      p.sink_size = args.integer_or("sink", streaming.value("sink_tokens", int64_t(128)), 0, int64_t(1) << 40);
      p.recent_size = args.integer_or("recent", streaming.value("recent_tokens", int64_t(256)), 1, int64_t(1) << 40);
      p.config["model_name"] = shape.name;
      p.config["attnscope_run"] = int64_t(run.run.id);
      p.config["attnscope_version"] = ATTNSCOPE_VERSION;
      p.config["gate"] = "streaming_gate (attnscope streaming probe, docs/profiling.md)";
      p.config["kv_reduction"] = reduction;
      ex::write_duo_directory(p, shape, out);
      return;
    }
    case ProfileFormat::Moa: {
      const auto samples = ex::stored_span_samples(db, source.runs, shape);
      ex::write_text_file(out, ex::moa_text(ex::moa_from_span_samples(samples, shape), shape));
      return;
    }
    case ProfileFormat::Minference: {
      ex::MinferenceProfileOptions o;
      o.stream = size_pair(args, "stream", o.stream);
      o.vertical_slash = size_pair(args, "vertical-slash", o.vertical_slash);
      ex::write_text_file(out, ex::minference_text(ex::minference_from_profile(run.heads, shape, o), shape));
      return;
    }
    case ProfileFormat::RetrievalHead: {
      const auto metric = args.flag("reasoning") ? profile::metric::retrieval_reasoning_score : profile::metric::retrieval_score;
      ex::write_text_file(out, ex::retrieval_head_text(ex::stored_retrieval_lists(db, run, metric, shape), shape));
      return;
    }
    case ProfileFormat::Razor: {
      ex::RazorSelection s;
      s.echo_ratio = number_or(args, "echo-ratio", s.echo_ratio, 0, 1);
      s.induction_ratio = number_or(args, "induction-ratio", s.induction_ratio, 0, 1);
      ex::write_text_file(out, ex::razor_text(ex::razor_from_profile(run.heads, shape, s), shape));
      return;
    }
    case ProfileFormat::Json:
      ex::write_text_file(out, ex::profile_json_text(ex::profile_document(run, shape), shape));
      return;
    case ProfileFormat::Csv: ex::write_text_file(out, ex::profile_csv_text(run.heads, shape)); return;
  }
}

}  // namespace

int run_export(const std::vector<std::string>& raw_args) {
  std::vector<std::string> raw = raw_args;
  const std::vector<std::string> run_ids = take_repeated(raw, "run");
  const Arguments args(raw, kValueOptions, kSwitches);
  const ProfileFormat format = profile_format(args);
  const auto out_text = args.value("out");
  if (!out_text || out_text->empty()) throw UsageError("--out PATH is needed (a directory for --format duo)");
  const std::filesystem::path out = *out_text;
  if (run_ids.empty() == !args.has("plan")) throw UsageError("give --run ID (a stored profile) or --plan FILE, one of them");
  if (run_ids.size() > 1 && format != ProfileFormat::Moa)
    throw UsageError("--run is given more than once only for --format moa (spans at several lengths)");
  const std::optional<std::filesystem::path> model =
      args.value("model") ? std::optional<std::filesystem::path>(*args.value("model")) : std::nullopt;

  const bool plan_format = format == ProfileFormat::Duo || format == ProfileFormat::Moa || format == ProfileFormat::Minference;
  if (args.has("plan") && !plan_format)
    throw UsageError("--format " + format_name(format) + " exports a profile run (--run ID), not a plan");

  Source source;
  if (const auto plan_file = args.value("plan")) {
    if (!model) throw UsageError("--plan needs --model DIR: the plan is checked against the model's config.json");
    source.shape = ex::read_model_shape(*model);
    source.plan = masks::read_plan_file(*plan_file);
    if (source.plan->num_layers() != source.shape->layers || source.plan->num_heads() != source.shape->heads)
      throw Error(*plan_file, "the plan has " + std::to_string(source.plan->num_layers()) + " layers and " +
                                  std::to_string(source.plan->num_heads()) + " heads; " + source.shape->describe());
    source.description = "plan " + *plan_file;
    export_from_plan(format, *source.plan, *source.shape, out);
  } else {
    const auto db = store::Database::open(database_path(args), store::OpenMode::ReadOnly);
    std::string first_hash;
    for (const std::string& text : run_ids) {
      const store::RunRecord record = store::get_run(db, run_id(text));
      if (!source.shape) {
        source.shape = ex::shape_for_run(record, model);
        first_hash = record.model.identity.content_hash;
      } else if (record.model.identity.content_hash != first_hash) {
        throw Error(db.path().string(), "run " + text + " profiled another model than run " + run_ids.front() +
                                            "; the spans of one model's heads are fitted together");
      }
      source.runs.push_back(ex::read_stored_profile(db, record.id, *source.shape));
      source.description += (source.description.empty() ? "run " : ", run ") + text;
    }
    export_from_runs(format, args, db, source, out);
  }

  const ex::ModelShape& shape = *source.shape;
  if (args.flag("json")) {
    nlohmann::json j = {{"format", format_name(format)},
                        {"out", out.string()},
                        {"source", source.description},
                        {"model", {{"name", shape.name}, {"config", shape.config_file}, {"num_layers", shape.layers},
                                   {"num_heads", shape.heads}, {"num_kv_heads", shape.kv_heads}}}};
    std::cout << j.dump(1) << "\n";
  } else {
    std::printf("wrote %s (%s) from %s\nmodel: %s\n", out.string().c_str(), format_name(format).c_str(),
                source.description.c_str(), shape.describe().c_str());
  }
  return 0;
}

}  // namespace attnscope::cli
