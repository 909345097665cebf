// budget-sweep: several sparse-attention mask families over a range of density budgets,
// each evaluated against full attention on one prompt (the host's evaluate_masks: the
// mask lab of docs/mask-lab.md). The prompt is a task prompt (passkey, needle, repeated
// tokens) or the text of a file; its dense run is recorded once and every (family,
// budget) point reuses it. Each point is one unit of the model's run (so an interrupted
// sweep resumes at the first point not done) with every head's density, recall and
// output error. At the end, read back from the store:
//   budget_sweep.csv        one line per model, family and budget (with the end-to-end
//                           KL, top-1 agreement and perplexities when asked);
//   budget_sweep_<m>.png    recall and output error (and KL) against the density really
//                           kept, one line per family, with a legend.
// Written against attnscope/plugin.h alone (through plugins/support).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include "attnscope/plugin.h"
#include "plugins/support/chart_style.h"
#include "plugins/support/csv_text.h"
#include "plugins/support/line_chart.h"
#include "plugins/support/plugin_job.h"

namespace {

namespace ps = attnscope::plugin_support;
using ps::PluginJob;

struct Settings {
  std::vector<std::string> families;
  std::vector<double> densities;
  std::vector<std::string> family_params;  // "family:key=value"
  std::string task;
  int64_t length = 0;
  double depth = 0;
  int64_t seed = 0;
  std::string prompt_file;
  bool end_to_end = true;
};

[[noreturn]] void invalid(const std::string& why) { throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, why); }

Settings read_settings(const PluginJob& job) {
  Settings s;
  s.families = job.param_strings("families");
  s.densities = job.param_floats("densities");
  s.family_params = job.param_strings("params");
  s.task = job.param_string("task");
  s.length = job.param_int("length");
  s.depth = job.param_float("depth");
  s.seed = job.param_int("seed");
  s.prompt_file = job.param_string("prompt_file");
  s.end_to_end = job.param_bool("end_to_end");
  if (s.families.empty() || s.densities.empty()) invalid("families and densities need at least one value each");
  for (double d : s.densities)
    if (!(d > 0 && d <= 1)) invalid("densities are shares of the visible entries in (0, 1], not " + ps::short_number(d));
  for (const std::string& p : s.family_params) {
    const size_t colon = p.find(':');
    if (colon == std::string::npos || p.find('=', colon) == std::string::npos ||
        std::find(s.families.begin(), s.families.end(), p.substr(0, colon)) == s.families.end())
      invalid("params: '" + p + "' is not FAMILY:key=value for one of the families");
  }
  if (s.prompt_file.empty() && s.task != "passkey" && s.task != "needle" && s.task != "repeat")
    invalid("task is passkey, needle or repeat (or give prompt_file), not '" + s.task + "'");
  return s;
}

// The model's prompt: the file's text, or the task prompt.
ps::PromptHandle make_prompt(const PluginJob& job, const ps::ModelHandle& model, const Settings& s) {
  if (!s.prompt_file.empty()) {
    std::string text;
    if (FILE* f = std::fopen(s.prompt_file.c_str(), "rb")) {
      char buffer[65536];
      for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, f)) > 0;) text.append(buffer, n);
      const bool failed = std::ferror(f) != 0;
      std::fclose(f);
      if (failed) throw ps::JobFailure(ATTNSCOPE_ERROR, s.prompt_file + ": cannot be read");
    } else {
      throw ps::JobFailure(ATTNSCOPE_ERROR, s.prompt_file + ": cannot be opened");
    }
    return job.text_prompt(model, text, true);
  }
  attnscope_task_request r{};
  r.kind = s.task == "passkey" ? ATTNSCOPE_TASK_PASSKEY : s.task == "needle" ? ATTNSCOPE_TASK_NEEDLE : ATTNSCOPE_TASK_REPEAT;
  r.length = s.length;
  r.depth = s.depth;
  r.seed = uint64_t(s.seed);
  return job.task_prompt(model, r);
}

std::vector<std::string> params_of(const Settings& s, const std::string& family) {
  std::vector<std::string> out;
  for (const std::string& p : s.family_params)
    if (p.substr(0, p.find(':')) == family) out.push_back(p.substr(p.find(':') + 1));
  return out;
}

const char* const kSummaryKeys[] = {"density", "recall", "min_recall", "output_rel_l2", "output_cosine",
                                    "kl_mean", "kl_max", "top1_agreement", "ppl_full", "ppl_sparse"};

void run_point(const PluginJob& job, const ps::ModelHandle& model, const ps::PromptHandle& prompt, attnscope_run* run,
               const Settings& s, int64_t ordinal, const std::string& family, double density) {
  const std::vector<std::string> params = params_of(s, family);
  std::vector<const char*> texts;
  for (const std::string& p : params) texts.push_back(p.c_str());
  attnscope_mask_request request{};
  request.method = family.c_str();
  request.density = density;
  request.params = texts.data();
  request.param_count = uint32_t(texts.size());
  request.end_to_end = s.end_to_end ? 1 : 0;
  const ps::ResultData result = job.evaluate_masks(model, prompt, request);
  ps::Unit unit;
  unit.ordinal = ordinal;
  unit.task = "masks";
  unit.parameters = {{"family", family}, {"requested_density", density}, {"params", params}};
  unit.outcome = result.summary;
  unit.prompt = prompt.get();
  unit.values = result.values;
  job.commit_unit(run, unit);
}

double summary_number(const nlohmann::json& summary, const char* key) {
  const auto it = summary.find(key);
  return it != summary.end() && it->is_number() ? it->get<double>() : NAN;
}

void run_sweep(PluginJob& job) {
  const Settings s = read_settings(job);
  const std::vector<std::string> paths = job.model_paths();
  const size_t points = s.families.size() * s.densities.size();
  std::vector<std::string> header = {"model", "family", "requested_density"};
  header.insert(header.end(), std::begin(kSummaryKeys), std::end(kSummaryKeys));
  header.push_back("plan");
  std::string csv = ps::csv_line(header);
  for (size_t m = 0; m < paths.size(); ++m) {
    const ps::ModelHandle model = job.load_model(paths[m]);
    attnscope_run* run = job.begin_run(model);
    const ps::PromptHandle prompt = make_prompt(job, model, s);
    const ps::PromptInfo info = job.prompt_info(prompt);
    std::vector<nlohmann::json> outcomes(points);
    for (size_t fi = 0; fi < s.families.size(); ++fi)
      for (size_t di = 0; di < s.densities.size(); ++di) {
        const size_t index = fi * s.densities.size() + di;
        job.stop_if_cancelled();
        const bool done = job.unit_done(run, int64_t(index));
        job.progress(double(m * points + index) / double(paths.size() * points),
                     "model " + std::to_string(m + 1) + " of " + std::to_string(paths.size()) + ": " + s.families[fi] +
                         " at density " + ps::short_number(s.densities[di]) + (done ? " (done before)" : ""));
        if (!done) run_point(job, model, prompt, run, s, int64_t(index), s.families[fi], s.densities[di]);
        outcomes[index] = job.read_values(job.run_id(run), int64_t(index)).summary.at("outcome");
        // A family's fixed parts (sinks, first and diagonal blocks, kept columns) set its
        // smallest density on a prompt; a smaller budget gets that one.
        const double used = summary_number(outcomes[index], "density");
        if (used > s.densities[di] * 1.25 + 0.01)
          job.log(ATTNSCOPE_LOG_WARNING, s.families[fi] + " kept a density of " + ps::short_number(used) + " for a budget of " +
                                             ps::short_number(s.densities[di]) + ": the least it keeps on this prompt");
      }

    ps::LinePanel recall{"Recall", "Density (share kept)", "Attention recall", {}, 0, 1};
    ps::LinePanel error{"Output error", "Density (share kept)", "Relative L2 error", {}, 0, NAN};
    ps::LinePanel kl{"End to end", "Density (share kept)", "Mean KL (nats)", {}, 0, NAN};
    for (size_t fi = 0; fi < s.families.size(); ++fi) {
      std::vector<size_t> order(s.densities.size());
      std::iota(order.begin(), order.end(), fi * s.densities.size());
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return summary_number(outcomes[a], "density") < summary_number(outcomes[b], "density");
      });
      ps::LineSeries r{s.families[fi], {}, {}}, e = r, k = r;
      for (size_t index : order) {
        const double x = summary_number(outcomes[index], "density");
        r.x.push_back(x), r.y.push_back(summary_number(outcomes[index], "recall"));
        e.x.push_back(x), e.y.push_back(summary_number(outcomes[index], "output_rel_l2"));
        k.x.push_back(x), k.y.push_back(summary_number(outcomes[index], "kl_mean"));
        std::vector<std::string> line = {paths[m], s.families[fi], ps::csv_number(s.densities[index % s.densities.size()])};
        for (const char* key : kSummaryKeys) line.push_back(ps::csv_number(summary_number(outcomes[index], key)));
        line.push_back(outcomes[index].value("plan", ""));
        csv += ps::csv_line(line);
      }
      recall.series.push_back(std::move(r));
      error.series.push_back(std::move(e));
      kl.series.push_back(std::move(k));
    }
    ps::LineChart chart{"Mask budgets: " + ps::folder_name(paths[m]) + ", " + std::to_string(info.tokens) + "-token " +
                            (s.prompt_file.empty() ? s.task : std::string("text")) + " prompt",
                        {recall, error}};
    if (s.end_to_end) chart.panels.push_back(kl);
    const ps::Canvas image = ps::draw_line_chart(chart);
    job.write_png("budget_sweep_" + std::to_string(m) + ".png", uint32_t(image.width()), uint32_t(image.height()), 3,
                  image.pixels());
  }
  job.write_file("budget_sweep.csv", csv);
  job.progress(1.0, "wrote budget_sweep.csv and the plots");
}

attnscope_status run_families(const attnscope_host_services* host, attnscope_job* job, void*) {
  return ps::run_job_body(host, job, "budget-sweep", run_sweep);
}

const attnscope_param_spec kParams[] = {
    {"families", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_STRING, "streaming,vertical_slash,block_topk,topk",
     "mask families (docs/mask-lab.md), one line each"},
    {"densities", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_FLOAT, "0.05,0.1,0.2,0.3,0.5",
     "budgets: shares of the visible entries kept, (0, 1]"},
    {"params", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_STRING, "",
     "family settings as FAMILY:key=value, e.g. streaming:sink_tokens=8"},
    {"task", ATTNSCOPE_PARAM_STRING, 0, "passkey", "the prompt: passkey, needle or repeat"},
    {"length", ATTNSCOPE_PARAM_INT, 0, "1024", "the task prompt's tokens"},
    {"depth", ATTNSCOPE_PARAM_FLOAT, 0, "0.5", "passkey and needle: where it sits, 0 to 1"},
    {"seed", ATTNSCOPE_PARAM_INT, 0, "1", "passkey: the key; needle: 0 the first paragraph; repeat: the tokens"},
    {"prompt_file", ATTNSCOPE_PARAM_STRING, 0, "", "a text file as the prompt instead of the task"},
    {"end_to_end", ATTNSCOPE_PARAM_BOOL, 0, "true", "also KL, top-1 agreement and perplexity with every layer masked"},
};

const attnscope_job_spec kJobs[] = {
    {"families", "mask families over a budget range: recall, output error and KL against density (CSV, plot)",
     kParams, sizeof kParams / sizeof kParams[0], 0, run_families, nullptr},
};

const attnscope_plugin_descriptor kDescriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "budget-sweep", "1.0.0",
    "sparse-attention mask families against density budgets", kJobs, sizeof kJobs / sizeof kJobs[0]};

}  // namespace

ATTNSCOPE_PLUGIN_ENTRY_RETURNING(kDescriptor)
