// attnscope-cli export: a stored profile run (or a mask plan) in the file formats of
// DuoAttention, MoA, MInference, Retrieval_Head / HeadKV, RazorAttention, or our own
// profile JSON / CSV (analysis/export; docs/export-formats.md). Every file is checked
// against the model's config.json before it is written.
#include <charconv>
#include <cstdio>
#include <iostream>
#include <set>

#include <nlohmann/json.hpp>

#include "analysis/export/profile_export.h"
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

// The options of `format`'s file that the command line sets (the others' are not read).
ex::ExportOptions export_options(const Arguments& args, ProfileFormat format) {
  ex::ExportOptions o;
  if (format == ProfileFormat::Duo) {
    const std::string reduction = args.value_or("kv-reduction", "max");
    if (reduction != "max" && reduction != "mean") throw UsageError("--kv-reduction is max or mean, not '" + reduction + "'");
    o.duo_kv_reduction = reduction == "max" ? profile::KvReduction::Max : profile::KvReduction::Mean;
    if (args.has("sink")) o.duo_sink = args.integer_or("sink", 0, 0, int64_t(1) << 40);
    if (args.has("recent")) o.duo_recent = args.integer_or("recent", 0, 1, int64_t(1) << 40);
  } else if (format == ProfileFormat::Minference) {
    o.minference.stream = size_pair(args, "stream", o.minference.stream);
    o.minference.vertical_slash = size_pair(args, "vertical-slash", o.minference.vertical_slash);
  } else if (format == ProfileFormat::Razor) {
    o.razor.echo_ratio = number_or(args, "echo-ratio", o.razor.echo_ratio, 0, 1);
    o.razor.induction_ratio = number_or(args, "induction-ratio", o.razor.induction_ratio, 0, 1);
  }
  o.reasoning = args.flag("reasoning");
  return o;
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

  if (args.has("plan") && !ex::describes_plans(format))
    throw UsageError("--format " + format_name(format) + " exports a profile run (--run ID), not a plan");

  Source source;
  if (const auto plan_file = args.value("plan")) {
    if (!model) throw UsageError("--plan needs --model DIR: the plan is checked against the model's config.json");
    source.shape = ex::read_model_shape(*model);
    source.plan = masks::read_plan_file(*plan_file);
    source.description = "plan " + *plan_file;
    ex::export_plan(*source.plan, *source.shape, format, out, *plan_file);
  } else {
    const auto db = store::Database::open(database_path(args), store::OpenMode::ReadOnly);
    std::string first_hash;
    for (const std::string& text : run_ids) {
      const store::RunRecord record = store::get_run(db, parse_run_id(text));
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
    ex::export_profile_runs(db, source.runs, *source.shape, format, export_options(args, format), out);
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
