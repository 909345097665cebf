// mask_lab_bench: how long the mask lab takes to re-evaluate one layer's per-head recall
// and output error after a budget change (issue 6's live target: at most 200 ms for the
// sample model's layer at 2K tokens on the CPU). The layer's heads are recorded once and
// their dense side computed once (the first evaluation); each timed step then changes the
// budget and evaluates every head of the layer again (mask building + sparse pass).
// Besides wall-clock times it prints the process's CPU time per step (all threads), which
// other work on a shared machine barely changes: on an idle machine with T threads the
// wall time is about CPU time / T when the heads spread evenly.
//   mask_lab_bench [--model DIR] [--tokens 2048] [--layer 4] [--repeats 5] [--threads 0]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "analysis/masks/head_recorder.h"
#include "analysis/masks/mask_lab.h"
#include "analysis/model/checkpoint.h"
#include "analysis/tasks/text_file.h"
#include "analysis/tokenizer/tokenizer.h"
#include "kernels/cpu/cpu_backend.h"
#include "kernels/error.h"

using namespace attnscope;
namespace am = attnscope::masks;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// User + system CPU seconds of the process so far (every thread).
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

struct Step {
  std::string what;
  std::vector<am::HeadMask> budgets;  // one evaluation per budget, cycled
};

}  // namespace

int main(int argc, char** argv) {
  std::string model_dir = std::string(ATTNSCOPE_SOURCE_DIR) + "/sample_data/sample-llama";
  int64_t tokens = 2048;
  int layer = 4, repeats = 5, threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string v = i + 1 < argc ? argv[++i] : "";
    if (a == "--model") model_dir = v;
    else if (a == "--tokens") tokens = std::stoll(v);
    else if (a == "--layer") layer = std::stoi(v);
    else if (a == "--repeats") repeats = std::stoi(v);
    else if (a == "--threads") threads = std::stoi(v);
    else {
      std::fprintf(stderr, "mask_lab_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  try {
    const auto checkpoint = model::Checkpoint::open(model_dir);
    const auto tok = tokenizer::Tokenizer::from_file(std::filesystem::path(model_dir) / "tokenizer.json");
    const std::string text = tasks::read_task_text(std::string(ATTNSCOPE_SOURCE_DIR) + "/sample_data/prompts/haystack.txt");
    std::vector<int32_t> ids = tok.encode(text, true);
    while (int64_t(ids.size()) < tokens) ids.insert(ids.end(), ids.begin() + 1, ids.end());  // repeat the haystack
    ids.resize(std::size_t(tokens));
    auto backend = kernels::make_cpu_backend(threads);
    runtime::Transformer model(checkpoint, *backend, tokens);

    auto start = std::chrono::steady_clock::now();
    double cpu_start = cpu_seconds();
    const std::vector<int> layers = {layer};
    am::DenseRun run = am::record_dense_run(model, ids, layers);
    const double record_s = seconds_since(start), record_cpu = cpu_seconds() - cpu_start;
    const am::MaskLab lab(std::move(run.heads));
    const model::ModelSpec& spec = checkpoint.spec();
    auto plan_of = [&](const am::HeadMask& m) { return am::MaskPlan(spec, m); };

    start = std::chrono::steady_clock::now();
    cpu_start = cpu_seconds();
    lab.evaluate(plan_of({am::StreamingMask{4, {256, 0}}, std::nullopt}), threads);
    const double first_s = seconds_since(start), first_cpu = cpu_seconds() - cpu_start;

    const std::vector<Step> steps = {
        {"streaming window 128/256/512 tokens", {{am::StreamingMask{4, {128, 0}}, std::nullopt}, {am::StreamingMask{4, {256, 0}}, std::nullopt}, {am::StreamingMask{4, {512, 0}}, std::nullopt}}},
        {"vertical_slash_oracle v/s in tokens", {{am::VerticalSlashOracleMask{64, 128}, std::nullopt}, {am::VerticalSlashOracleMask{128, 256}, std::nullopt}}},
        {"vertical_slash (estimated) in tokens", {{am::VerticalSlashMask{100, 200, 64, 30, 100}, std::nullopt}, {am::VerticalSlashMask{200, 400, 64, 30, 100}, std::nullopt}}},
        {"block_topk exact, k blocks", {{am::BlockTopKMask{64, 4, am::BlockScore::Exact, 8}, std::nullopt}, {am::BlockTopKMask{64, 8, am::BlockScore::Exact, 8}, std::nullopt}}},
        {"topk keys per row", {{am::TopKMask{64}, std::nullopt}, {am::TopKMask{128}, std::nullopt}}},
        {"quest token budget", {{am::QuestMask{16, 256, 64}, std::nullopt}, {am::QuestMask{16, 512, 64}, std::nullopt}}},
        {"streaming at density 0.1/0.2 (bisection)", {{am::StreamingMask{4, {256, 0}}, 0.1}, {am::StreamingMask{4, {256, 0}}, 0.2}}},
        {"topp at density 0.1/0.2 (bisection)", {{am::TopPMask{}, 0.1}, {am::TopPMask{}, 0.2}}},
        {"block_topk at density 0.1/0.2 (bisection)", {{am::BlockTopKMask{}, 0.1}, {am::BlockTopKMask{}, 0.2}}},
    };
    std::printf("mask lab re-evaluation: %s, layer %d (%d heads), %lld tokens, %d threads (0: all)\n",
                spec.architecture_name.c_str(), layer, spec.num_heads, (long long)tokens, threads);
    std::printf("record the layer (one dense run): %.1f ms (CPU %.1f ms); first evaluation (dense side of every "
                "head): %.1f ms (CPU %.1f ms)\n",
                record_s * 1e3, record_cpu * 1e3, first_s * 1e3, first_cpu * 1e3);
    std::printf("%-44s %10s %10s %14s %11s %9s %8s\n", "budget change", "median ms", "max ms", "median CPU ms",
                "max CPU ms", "density", "recall");
    for (const Step& step : steps) {
      std::vector<double> times, cpu;
      am::PlanSummary last;
      for (int r = 0; r < repeats; ++r)
        for (const am::HeadMask& m : step.budgets) {
          start = std::chrono::steady_clock::now();
          cpu_start = cpu_seconds();
          const auto results = lab.evaluate(plan_of(m), threads);
          times.push_back(seconds_since(start));
          cpu.push_back(cpu_seconds() - cpu_start);
          last = am::summarize(results);
        }
      std::sort(times.begin(), times.end());
      std::sort(cpu.begin(), cpu.end());
      std::printf("%-44s %10.1f %10.1f %14.1f %11.1f %9.4f %8.4f\n", step.what.c_str(), times[times.size() / 2] * 1e3,
                  times.back() * 1e3, cpu[cpu.size() / 2] * 1e3, cpu.back() * 1e3, last.density, last.recall);
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "mask_lab_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
