// needle-sweep: the needle-in-a-haystack test over a grid of context lengths x needle
// depths. Each cell is one run of the profiling job (the host's profile service) on the
// needle prompts of that length and depth, with retrieval_score only: every prompt is
// answered greedily and scored (ROUGE-1 recall > 0.5 counts as correct, Retrieval_Head's
// rule), and each head's retrieval score is taken from the answers that count. A cell is
// one unit of the model's run, so an interrupted sweep resumes at the first cell not
// done. At the end, read back from the store:
//   needle_heatmap_<m>.png  the familiar heatmap (x: context length, y: depth, colour:
//                           accuracy or mean ROUGE-1 recall, red to green);
//   needle_cells.csv        one line per model and cell;
//   retrieval_heads.csv     each model's heads by mean retrieval score over the cells
//                           (the top `top_heads`), also the run's values.
// Written against attnscope/plugin.h alone (through plugins/support).
#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "attnscope/plugin.h"
#include "plugins/support/chart_style.h"
#include "plugins/support/csv_text.h"
#include "plugins/support/heatmap_chart.h"
#include "plugins/support/plugin_job.h"

namespace {

namespace ps = attnscope::plugin_support;
using ps::HeadValue;
using ps::PluginJob;

struct Settings {
  std::vector<int64_t> lengths;
  std::vector<double> depths;
  int64_t needles = 1;
  int64_t seed = 0;
  int64_t top_heads = 10;
  std::string colour;
  bool chat = false;
  std::string needles_file, haystack_file, template_file;
};

Settings read_settings(const PluginJob& job) {
  Settings s;
  s.lengths = job.param_ints("lengths");
  s.depths = job.param_floats("depths");
  s.needles = job.param_int("needles");
  s.seed = job.param_int("seed");
  s.top_heads = job.param_int("top_heads");
  s.colour = job.param_string("colour");
  s.chat = job.param_bool("chat");
  s.needles_file = job.param_string("needles_file");
  s.haystack_file = job.param_string("haystack_file");
  s.template_file = job.param_string("template_file");
  const auto invalid = [](const std::string& why) { throw ps::JobFailure(ATTNSCOPE_INVALID_ARGUMENT, why); };
  if (s.lengths.empty() || s.depths.empty()) invalid("lengths and depths need at least one value each");
  for (int64_t l : s.lengths)
    if (l < 16) invalid("lengths: " + std::to_string(l) + " tokens is too short for a needle prompt (16 or more)");
  for (double d : s.depths)
    if (!(d >= 0 && d <= 1)) invalid("depths are fractions from 0 (start) to 1 (end), not " + ps::short_number(d));
  if (s.needles == 0 || s.needles < -1) invalid("needles: 1 or more needles of the file per cell, or -1 for all of them");
  if (s.top_heads < 0) invalid("top_heads must not be negative (0: every head)");
  if (s.colour != "accuracy" && s.colour != "rouge1") invalid("colour is accuracy or rouge1, not '" + s.colour + "'");
  return s;
}

// One cell as the store keeps it.
struct Cell {
  int64_t prompt_tokens = 0;
  int64_t tests = 0;
  int64_t correct = 0;
  double rouge1 = NAN;
  std::vector<HeadValue> scores;  // retrieval_score of the heads (from the answers that count)
  double accuracy() const { return tests > 0 ? double(correct) / double(tests) : NAN; }
};

const char* or_null(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

// Runs the cell's needle prompts and commits them as unit `ordinal`.
void run_cell(const PluginJob& job, const ps::ModelHandle& model, attnscope_run* run, const Settings& s, int64_t ordinal,
              int64_t length, double depth) {
  attnscope_profile_request request{};
  request.tasks = "needle";
  request.lengths = &length;
  request.length_count = 1;
  request.depths = &depth;
  request.depth_count = 1;
  request.metrics = "retrieval_score";
  request.seed = uint64_t(s.seed);
  request.needle_count = s.needles;
  request.chat = s.chat ? 1 : 0;
  request.needles_file = or_null(s.needles_file);
  request.haystack_file = or_null(s.haystack_file);
  request.needle_template_file = or_null(s.template_file);
  const ps::ResultData result = job.profile(model, request);

  int64_t tests = 0, correct = 0, tokens = 0;
  double rouge = 0;
  nlohmann::json responses = nlohmann::json::array();
  for (const auto& unit : result.summary.at("units")) {
    if (unit.value("task", "") != "needle") continue;
    const nlohmann::json& outcome = unit.at("outcome");
    ++tests;
    correct += outcome.value("correct", false) ? 1 : 0;
    rouge += outcome.value("rouge1_recall", 0.0);
    tokens += unit.value("prompt_tokens", int64_t(0));
    responses.push_back({{"prompt", unit.value("description", "")},
                         {"response", outcome.value("response", "")},
                         {"correct", outcome.value("correct", false)},
                         {"rouge1_recall", outcome.value("rouge1_recall", 0.0)}});
  }
  if (tests == 0) throw ps::JobFailure(ATTNSCOPE_ERROR, "the profile of the cell ran no needle prompt");
  ps::Unit unit;
  unit.ordinal = ordinal;
  unit.task = "needle";
  unit.parameters = {{"length", length}, {"depth", depth}, {"needles", s.needles}, {"seed", s.seed}};
  unit.outcome = {{"tests", tests},
                  {"correct", correct},
                  {"accuracy", double(correct) / double(tests)},
                  {"rouge1_recall", rouge / double(tests)},
                  {"prompt_tokens", tokens / tests},
                  {"responses", responses}};
  for (const HeadValue& v : result.values)
    if (v.metric == "retrieval_score") unit.values.push_back(v);
  job.commit_unit(run, unit);
}

Cell read_cell(const PluginJob& job, attnscope_run* run, int64_t ordinal) {
  const ps::ResultData stored = job.read_values(job.run_id(run), ordinal);
  const nlohmann::json& outcome = stored.summary.at("outcome");
  Cell c;
  c.prompt_tokens = outcome.value("prompt_tokens", int64_t(0));
  c.tests = outcome.value("tests", int64_t(0));
  c.correct = outcome.value("correct", int64_t(0));
  c.rouge1 = outcome.value("rouge1_recall", NAN);
  for (const HeadValue& v : stored.values)
    if (v.metric == "retrieval_score" && !v.text && std::isfinite(v.value)) c.scores.push_back(v);
  return c;
}

std::string depth_label(double depth) { return ps::short_number(std::round(depth * 1000) / 10); }

struct HeadScore {
  int layer = 0, head = 0;
  double mean = 0;
  int64_t cells = 0;
};

// Each head's mean retrieval score over the cells where it has one, best first.
std::vector<HeadScore> rank_heads(const std::vector<Cell>& cells) {
  std::map<std::pair<int, int>, HeadScore> sums;
  for (const Cell& c : cells)
    for (const HeadValue& v : c.scores) {
      HeadScore& h = sums[{v.layer, v.head}];
      h.layer = v.layer, h.head = v.head, h.mean += v.value, ++h.cells;
    }
  std::vector<HeadScore> out;
  for (auto& [at, h] : sums) {
    h.mean /= double(h.cells);
    out.push_back(h);
  }
  std::stable_sort(out.begin(), out.end(), [](const HeadScore& a, const HeadScore& b) { return a.mean > b.mean; });
  return out;
}

void run_sweep(PluginJob& job) {
  const Settings s = read_settings(job);
  const std::vector<std::string> paths = job.model_paths();
  const size_t n_cells = s.lengths.size() * s.depths.size();
  std::string cells_csv = ps::csv_line({"model", "length", "depth", "prompt_tokens", "tests", "correct", "accuracy",
                                        "rouge1_recall", "top_head", "top_head_score"});
  std::string heads_csv = ps::csv_line({"model", "rank", "layer", "head", "retrieval_score", "cells"});
  for (size_t m = 0; m < paths.size(); ++m) {
    const ps::ModelHandle model = job.load_model(paths[m]);
    attnscope_run* run = job.begin_run(model);
    std::vector<Cell> cells(n_cells);
    for (size_t li = 0; li < s.lengths.size(); ++li)
      for (size_t di = 0; di < s.depths.size(); ++di) {
        const size_t index = li * s.depths.size() + di;
        const int64_t ordinal = int64_t(index);
        job.stop_if_cancelled();
        const bool done = job.unit_done(run, ordinal);
        job.progress(double(m * n_cells + index) / double(paths.size() * n_cells),
                     "model " + std::to_string(m + 1) + " of " + std::to_string(paths.size()) + ": " +
                         std::to_string(s.lengths[li]) + " tokens, depth " + depth_label(s.depths[di]) + "%" +
                         (done ? " (done before)" : ""));
        if (!done) run_cell(job, model, run, s, ordinal, s.lengths[li], s.depths[di]);
        cells[index] = read_cell(job, run, ordinal);
      }

    ps::HeatmapChart chart;
    chart.title = "Needle in a haystack: " + ps::folder_name(paths[m]);
    chart.x_label = "Context length (tokens)";
    chart.y_label = "Needle depth (%)";
    chart.legend_label = s.colour == "accuracy" ? "Accuracy" : "ROUGE-1 recall";
    for (int64_t l : s.lengths) chart.columns.push_back(ps::token_count(double(l)));
    for (double d : s.depths) chart.rows.push_back(depth_label(d));
    chart.values.assign(s.depths.size(), std::vector<double>(s.lengths.size(), NAN));
    for (size_t li = 0; li < s.lengths.size(); ++li)
      for (size_t di = 0; di < s.depths.size(); ++di) {
        const Cell& c = cells[li * s.depths.size() + di];
        chart.values[di][li] = s.colour == "accuracy" ? c.accuracy() : c.rouge1;
        std::string top_head;
        double top_score = NAN;
        for (const HeadValue& v : c.scores)
          if (std::isnan(top_score) || v.value > top_score)
            top_score = v.value, top_head = std::to_string(v.layer) + "-" + std::to_string(v.head);
        cells_csv += ps::csv_line({paths[m], std::to_string(s.lengths[li]), ps::csv_number(s.depths[di]),
                                   std::to_string(c.prompt_tokens), std::to_string(c.tests), std::to_string(c.correct),
                                   ps::csv_number(c.accuracy()), ps::csv_number(c.rouge1), top_head,
                                   ps::csv_number(top_score)});
      }
    const ps::Canvas image = ps::draw_heatmap(chart);
    job.write_png("needle_heatmap_" + std::to_string(m) + ".png", uint32_t(image.width()), uint32_t(image.height()), 3,
                  image.pixels());

    const std::vector<HeadScore> ranked = rank_heads(cells);
    std::vector<HeadValue> run_values;
    for (size_t r = 0; r < ranked.size(); ++r) {
      const HeadScore& h = ranked[r];
      run_values.push_back({h.layer, h.head, "retrieval_score", h.mean, std::nullopt});
      if (s.top_heads > 0 && int64_t(r) >= s.top_heads) continue;
      heads_csv += ps::csv_line({paths[m], std::to_string(r + 1), std::to_string(h.layer), std::to_string(h.head),
                                 ps::csv_number(h.mean), std::to_string(h.cells)});
    }
    if (ranked.empty())
      job.log(ATTNSCOPE_LOG_WARNING, paths[m] + ": no answer counted in any cell, so no head has a retrieval score");
    else
      job.log(ATTNSCOPE_LOG_INFO, paths[m] + ": top retrieval head " + std::to_string(ranked[0].layer) + "-" +
                                      std::to_string(ranked[0].head) + " (mean score " + ps::short_number(ranked[0].mean) +
                                      " over " + std::to_string(ranked[0].cells) + " cells)");
    job.record_run_values(run, run_values);
  }
  job.write_file("needle_cells.csv", cells_csv);
  job.write_file("retrieval_heads.csv", heads_csv);
  job.progress(1.0, "wrote needle_cells.csv, retrieval_heads.csv and the heatmaps");
}

attnscope_status run_grid(const attnscope_host_services* host, attnscope_job* job, void*) {
  return ps::run_job_body(host, job, "needle-sweep", run_sweep);
}

const attnscope_param_spec kParams[] = {
    {"lengths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_INT, "256,512,1024,2048", "context lengths in tokens (x axis)"},
    {"depths", ATTNSCOPE_PARAM_LIST, ATTNSCOPE_PARAM_FLOAT, "0,0.25,0.5,0.75,1",
     "needle depths, 0 (start) to 1 (end) of the haystack (y axis)"},
    {"needles", ATTNSCOPE_PARAM_INT, 0, "1", "needles of the file per cell (each a prompt); -1: all"},
    {"seed", ATTNSCOPE_PARAM_INT, 0, "0", "0: the haystack from its first paragraph, else a drawn start"},
    {"top_heads", ATTNSCOPE_PARAM_INT, 0, "10", "retrieval heads listed in retrieval_heads.csv (0: every head)"},
    {"colour", ATTNSCOPE_PARAM_STRING, 0, "accuracy", "what the heatmap colours: accuracy or rouge1 (mean recall)"},
    {"chat", ATTNSCOPE_PARAM_BOOL, 0, "false", "wrap the prompts in the model's chat format"},
    {"needles_file", ATTNSCOPE_PARAM_STRING, 0, "", "needles (JSON lines); empty: the bundled needles.jsonl"},
    {"haystack_file", ATTNSCOPE_PARAM_STRING, 0, "", "haystack text; empty: the bundled haystack.txt"},
    {"template_file", ATTNSCOPE_PARAM_STRING, 0, "", "prompt template; empty: the bundled needle.txt"},
};

const attnscope_job_spec kJobs[] = {
    {"grid", "needle in a haystack over lengths x depths: accuracy heatmap (PNG), cells and retrieval heads (CSV)",
     kParams, sizeof kParams / sizeof kParams[0], 0, run_grid, nullptr},
};

const attnscope_plugin_descriptor kDescriptor = {
    ATTNSCOPE_PLUGIN_ABI_VERSION, 0, "needle-sweep", "1.0.0",
    "needle-in-a-haystack sweeps: accuracy heatmap and retrieval heads", kJobs, sizeof kJobs / sizeof kJobs[0]};

}  // namespace

ATTNSCOPE_PLUGIN_ENTRY_RETURNING(kDescriptor)
