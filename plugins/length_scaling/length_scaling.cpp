// length-scaling: how each head's attention span grows with the context, and MoA's
// elastic rule fitted to it. At every length of a list the profiling job (the host's
// profile service) runs the task prompts of that length and gives each head's span_90
// (the fewest tokens S = 64 + w of MoA's sink plus w recent keys that provably keep 90%
// of its attention, docs/metrics.md); each length is one unit of the model's run, so an
// interrupted job resumes at the first length not done. Then, from the units read back
// from the store, every head's span rule S = alpha + beta N is fitted over the lengths
// (the host's fit_span_rules: the export's fitter) and written as
//   moa_<m>.json          MoA's plan {"alphas", "betas"} (the host's export_profile,
//                         checked against the model's config.json), ready for MoA;
//   length_scaling.csv    per model, head and length: the prompt's tokens, span_90, the
//                         head's alpha and beta and the fitted span at that length;
// and the rules are the run's values (span_alpha, span_beta). Needs two or more lengths.
// Written against attnscope/plugin.h alone (through plugins/support).
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "attnscope/plugin.h"
#include "plugins/support/chart_style.h"
#include "plugins/support/csv_text.h"
#include "plugins/support/plugin_job.h"

namespace {

namespace ps = attnscope::plugin_support;
using ps::HeadValue;
using ps::PluginJob;

struct Settings {
  std::vector<int64_t> lengths;
  std::string tasks;
  std::vector<double> depths;
  int64_t needles = 1;
  int64_t seed = 0;
  bool chat = false;
};

Settings read_settings(const PluginJob& job) {
  Settings s;
  s.lengths = job.param_ints("lengths");
  s.tasks = job.param_string("tasks");
  s.depths = job.param_floats("depths");
  s.needles = job.param_int("needles");
  s.seed = job.param_int("seed");
  s.chat = job.param_bool("chat");
  const auto invalid = [](const std::string& why) { throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, why); };
  // The host's fitter (analysis/profile/span_rule.h, kMinSpanLengthRatio) refuses lengths
  // closer than 1.25x: say so before any prompt is profiled.
  const auto [shortest, longest] = std::minmax_element(s.lengths.begin(), s.lengths.end());
  if (s.lengths.empty() || double(*longest) < 1.25 * double(*shortest))
    invalid("lengths: a span rule alpha + beta N needs two or more different lengths, the longest at least 1.25x "
            "the shortest");
  if (s.depths.empty()) invalid("depths: give at least one needle / passkey depth");
  if (s.needles == 0 || s.needles < -1) invalid("needles: 1 or more needles of the file per length, or -1 for all");
  return s;
}

// Profiles the length's prompts for span_90 and commits them as unit `ordinal`.
void run_length(const PluginJob& job, const ps::ModelHandle& model, attnscope_run* run, const Settings& s,
                int64_t ordinal, int64_t length) {
  attnscope_profile_request request{};
  request.tasks = s.tasks.c_str();
  request.lengths = &length;
  request.length_count = 1;
  request.depths = s.depths.data();
  request.depth_count = uint32_t(s.depths.size());
  request.metrics = "span_90";
  request.seed = uint64_t(s.seed);
  request.needle_count = s.needles;
  request.chat = s.chat ? 1 : 0;
  const ps::ResultData result = job.profile(model, request);
  int64_t prompts = 0, tokens = 0;
  for (const auto& unit : result.summary.at("units"))
    if (unit.value("prompt_tokens", int64_t(0)) > 0) ++prompts, tokens += unit.value("prompt_tokens", int64_t(0));
  if (prompts == 0) throw ps::JobFailure(ATTNSCOPE_ERROR, "the profile at " + std::to_string(length) + " tokens ran no prompt");
  ps::Unit unit;
  unit.ordinal = ordinal;
  unit.task = s.tasks;
  unit.parameters = {{"length", length}, {"tasks", s.tasks}, {"depths", s.depths}, {"needles", s.needles}, {"seed", s.seed}};
  // The fit's N: the prompts' mean token count (a prompt is within a few tokens of `length`).
  unit.outcome = {{"prompts", prompts}, {"prompt_tokens", double(tokens) / double(prompts)},
                  {"notes", result.summary.value("notes", nlohmann::json::array())}};
  for (const HeadValue& v : result.values)
    if (v.metric == "span_90") unit.values.push_back(v);
  job.commit_unit(run, unit);
}

struct LengthSpans {
  int64_t length = 0;
  double prompt_tokens = 0;
  std::map<std::pair<int, int>, double> span;  // (layer, head) -> span_90
};

LengthSpans read_length(const PluginJob& job, attnscope_run* run, int64_t ordinal, int64_t length) {
  const ps::ResultData stored = job.read_values(job.run_id(run), ordinal);
  LengthSpans out;
  out.length = length;
  out.prompt_tokens = stored.summary.at("outcome").value("prompt_tokens", double(length));
  for (const HeadValue& v : stored.values)
    if (v.metric == "span_90" && !v.text && std::isfinite(v.value)) out.span[{v.layer, v.head}] = v.value;
  return out;
}

void run_scaling(PluginJob& job) {
  const Settings s = read_settings(job);
  const std::vector<std::string> paths = job.model_paths();
  std::string csv = ps::csv_line({"model", "layer", "head", "length", "prompt_tokens", "span_90", "span_alpha",
                                  "span_beta", "fitted_span"});
  for (size_t m = 0; m < paths.size(); ++m) {
    const ps::ModelHandle model = job.load_model(paths[m]);
    attnscope_run* run = job.begin_run(model);
    std::vector<LengthSpans> spans;
    for (size_t li = 0; li < s.lengths.size(); ++li) {
      job.stop_if_cancelled();
      const bool done = job.unit_done(run, int64_t(li));
      job.progress(double(m * s.lengths.size() + li) / double(paths.size() * (s.lengths.size() + 1)),
                   "model " + std::to_string(m + 1) + " of " + std::to_string(paths.size()) + ": " +
                       std::to_string(s.lengths[li]) + " tokens" + (done ? " (done before)" : ""));
      if (!done) run_length(job, model, run, s, int64_t(li), s.lengths[li]);
      spans.push_back(read_length(job, run, int64_t(li), s.lengths[li]));
    }

    std::vector<attnscope_span_sample> samples;
    for (const LengthSpans& l : spans)
      for (const auto& [at, span] : l.span) samples.push_back({at.first, at.second, l.prompt_tokens, span});
    if (samples.empty())
      throw ps::JobFailure(ATTNSCOPE_ERROR, paths[m] + ": no head has a span_90 at any length (nothing was captured)");
    const ps::ResultData rules = job.fit_span_rules(samples);
    std::vector<HeadValue> rule_values;
    for (const HeadValue& v : rules.values)
      if (v.metric == "span_alpha" || v.metric == "span_beta") rule_values.push_back(v);
    job.export_profile(model, "moa", "moa_" + std::to_string(m) + ".json", rule_values);
    job.record_run_values(run, rules.values);

    const attnscope_model_info info = job.model_info(model);
    for (int layer = 0; layer < info.layers; ++layer)
      for (int head = 0; head < info.heads; ++head) {
        const std::optional<double> alpha = rules.number(layer, head, "span_alpha");
        const std::optional<double> beta = rules.number(layer, head, "span_beta");
        for (const LengthSpans& l : spans) {
          const auto span = l.span.find({layer, head});
          csv += ps::csv_line(
              {paths[m], std::to_string(layer), std::to_string(head), std::to_string(l.length),
               ps::csv_number(l.prompt_tokens),
               ps::csv_number(span == l.span.end() ? std::nullopt : std::optional<double>(span->second)),
               ps::csv_number(alpha), ps::csv_number(beta),
               ps::csv_number(alpha && beta ? std::optional<double>(*alpha + *beta * l.prompt_tokens) : std::nullopt)});
        }
      }
  }
  job.write_file("length_scaling.csv", csv);
  job.progress(1.0, "wrote length_scaling.csv and the MoA plans");
}

attnscope_status run_spans(const attnscope_host_services* host, attnscope_job* job, void*) {
  return ps::run_job_body(host, job, "length-scaling", run_scaling);
}

const attnscope_param_spec kParams[] = {
    {"lengths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_INT, "512,1024,2048", "prompt lengths in tokens (two or more)"},
    {"tasks", ATTNSCOPE_PARAM_STRING, 0, "needle", "the profile's prompts: needle, passkey, repeat (comma-separated)"},
    {"depths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_FLOAT, "0.5", "needle and passkey depths, 0 to 1"},
    {"needles", ATTNSCOPE_PARAM_INT, 0, "1", "needles of the bundled file per length and depth; -1: all"},
    {"seed", ATTNSCOPE_PARAM_INT, 0, "0", "haystack start, pass keys and random tokens"},
    {"chat", ATTNSCOPE_PARAM_BOOL, 0, "false", "wrap the prompts in the model's chat format"},
};

const attnscope_job_spec kJobs[] = {
    {"spans", "span_90 of every head at several lengths and MoA's rule alpha + beta N fitted to it (MoA JSON, CSV)",
     kParams, sizeof kParams / sizeof kParams[0], 0, run_spans, nullptr},
};

const attnscope_plugin_descriptor kDescriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "length-scaling", "1.0.0",
    "attention spans against context length, fitted into MoA's elastic rules", kJobs, sizeof kJobs / sizeof kJobs[0]};

}  // namespace

ATTNSCOPE_PLUGIN_ENTRY_RETURNING(kDescriptor)
