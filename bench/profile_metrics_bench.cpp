// profile_metrics_bench: the host part of one profiled needle prompt ("metrics s" in
// bench/profile_bench_table.py), on the CPU, without a model. A synthetic capture of every
// head of a Llama-3-8B-shaped model (32 layers x 32 heads by default) at each length, with
// the records a real capture keeps (pooled map, column and diagonal sums, per-row entropy,
// top-1 and positions; exact rows only where the profile job would ask for them), then
// the profile job's own per-unit calls, timed: add_capture_metrics (heads in parallel) and
// add_needle_scores ("capture s" wall and "cpu s" of all threads, "needle s", their sum
// "metrics s"). Per metric, the same functions on a sample of heads, one at a time.
//   profile_metrics_bench [--lengths 8192,32768] [--layers 32] [--heads 32] [--answer 50]
//                         [--sample 64] [--repeats 1] [--seed 1] [--tokenizer FILE]
// Heads are mixtures drawn from the seed: a sink on key 0, a local window with decay,
// hidden-sink columns, slashes (fixed distances), a retrieval span per query block, and
// the rest spread evenly; rows sum to 1. The check value (a hash of every value the unit
// measured) is the same before and after a change that keeps the results.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include "analysis/capture/capture.h"
#include "analysis/profile/head_metrics.h"
#include "analysis/profile/unit_measurement.h"
#include "analysis/tokenizer/tokenizer.h"
#include "kernels/error.h"

using namespace attnscope;
namespace pr = attnscope::profile;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// CPU seconds of this process (all threads) or of the calling thread: on a shared
// machine these say more than the wall clock.
double cpu_seconds(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

std::vector<long long> split_numbers(const std::string& list) {
  std::vector<long long> out;
  for (size_t p = 0; p <= list.size();) {
    const size_t c = std::min(list.find(',', p), list.size());
    out.push_back(std::stoll(list.substr(p, c - p)));
    p = c + 1;
  }
  return out;
}

// One head's attention, as a mixture per row (masses of the parts present in that row;
// the uniform part takes what the absent parts leave).
struct HeadShape {
  double sink = 0;                   // on key 0
  double local = 0;                  // over the last `window` keys, weight decay^distance
  int64_t window = 1;
  double decay = 1;
  std::vector<int64_t> columns;      // hidden sinks, `column_mass` each
  double column_mass = 0;
  std::vector<int64_t> slashes;      // distances, `slash_mass` each
  double slash_mass = 0;
  double retrieval = 0;              // over `span` keys at a place drawn per query block
  int64_t span = 0;
};

HeadShape draw_shape(std::mt19937_64& rng, int64_t rows) {
  std::uniform_real_distribution<double> u(0, 1);
  HeadShape s;
  const double kind = u(rng);
  s.sink = kind < 0.7 ? 0.3 + 0.6 * u(rng) : 0.05 * u(rng);  // most heads of a trained model sink
  s.local = (1 - s.sink) * (0.2 + 0.6 * u(rng));
  s.window = 8 + int64_t(u(rng) * 120);
  s.decay = 0.9 + 0.09 * u(rng);
  if (u(rng) < 0.4) {
    const int n = 1 + int(u(rng) * 4);
    for (int i = 0; i < n; ++i) s.columns.push_back(1 + int64_t(u(rng) * double(rows - 1)));
    std::sort(s.columns.begin(), s.columns.end());
    s.columns.erase(std::unique(s.columns.begin(), s.columns.end()), s.columns.end());
    s.column_mass = 0.02 + 0.1 * u(rng);
  }
  if (u(rng) < 0.3) {
    const int n = 1 + int(u(rng) * 3);
    for (int i = 0; i < n; ++i) s.slashes.push_back(s.window + int64_t(u(rng) * 2000));
    std::sort(s.slashes.begin(), s.slashes.end());
    s.slashes.erase(std::unique(s.slashes.begin(), s.slashes.end()), s.slashes.end());
    s.slash_mass = 0.02 + 0.05 * u(rng);
  }
  if (kind >= 0.85) {
    s.retrieval = 0.1 + 0.3 * u(rng);
    s.span = 16 + int64_t(u(rng) * 48);
  }
  return s;
}

// Fills `acc` with the records of `rows` rows (positions 0..rows-1) of `shape`, as
// kernels::accumulate_attention_row would from the rows' probabilities, but without
// visiting every (row, key): the uniform part goes in through suffix sums.
void fill_head(kernels::HeadAccumulator& acc, const kernels::CaptureOptions& o, const HeadShape& s, int64_t rows,
               uint64_t seed) {
  const int64_t block = o.pool_block, blocks = (rows + block - 1) / block;
  acc.rows = rows;
  acc.column_sums.assign(size_t(rows), 0.0);
  acc.diagonal_sums.assign(size_t(rows), 0.0);
  acc.row_entropy.assign(size_t(rows), 0.0f);
  acc.top1.assign(size_t(rows), 0);
  acc.positions.resize(size_t(rows));
  acc.pooled.block = block;
  acc.pooled.sums.resize(size_t(blocks));
  acc.pooled.rows_in_block.assign(size_t(blocks), 0);
  for (int64_t i = 0; i < blocks; ++i) {
    acc.pooled.sums[size_t(i)].assign(size_t(i + 1), 0.0);
    acc.pooled.rows_in_block[size_t(i)] = std::min(rows, (i + 1) * block) - i * block;
  }
  std::vector<double> uniform(static_cast<size_t>(rows));  // per-key share of the uniform part in row q
  std::vector<double> weights(size_t(s.window));  // decay^distance
  for (size_t d = 0; d < weights.size(); ++d) weights[d] = std::pow(s.decay, double(d));
  std::mt19937_64 rng(seed);
  int64_t retrieval_start = 0;
  double entropy_sum = 0, sink_sum = 0, local_sum = 0;
  for (int64_t q = 0; q < rows; ++q) {
    acc.positions[size_t(q)] = q;
    if (q % block == 0 && s.retrieval > 0)
      retrieval_start = std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(0, q - s.span))(rng);
    double left = 1, entropy = 0, best = -1, sink = 0, local = 0;
    int64_t top = q;
    const auto add = [&](int64_t k, double p) {
      acc.column_sums[size_t(k)] += p;
      acc.diagonal_sums[size_t(q - k)] += p;
      acc.pooled.sums[size_t(q / block)][size_t(k / block)] += p;
      if (p > 0) entropy -= p * std::log(p);
      if (p > best || (p == best && k < top)) best = p, top = k;
      if (k < o.sink_tokens) sink += p;
      if (k > q - o.local_window) local += p;
      left -= p;
    };
    add(0, q == 0 ? 1.0 : s.sink);
    if (q == 0) {
      acc.top1[0] = 0;
      continue;
    }
    const int64_t w = std::min(s.window, q + 1);
    double z = 0;
    for (int64_t d = 0; d < w; ++d) z += weights[size_t(d)];
    for (int64_t d = 0; d < w; ++d) add(q - d, s.local * weights[size_t(d)] / z);
    for (int64_t c : s.columns)
      if (c <= q) add(c, s.column_mass);
    for (int64_t d : s.slashes)
      if (d <= q) add(q - d, s.slash_mass);
    if (s.retrieval > 0 && q >= s.span)
      for (int64_t k = retrieval_start; k < retrieval_start + s.span; ++k) add(k, s.retrieval / double(s.span));
    const double share = std::max(0.0, left) / double(q + 1);
    uniform[size_t(q)] = share;
    if (share > 0) entropy -= double(q + 1) * share * std::log(share);
    sink += share * double(std::min(q + 1, o.sink_tokens));
    local += share * double(std::min(q + 1, o.local_window));
    acc.row_entropy[size_t(q)] = float(entropy);
    acc.top1[size_t(q)] = top;
    entropy_sum += entropy;
    if (q >= o.sink_tokens) sink_sum += sink, acc.sink_rows += 1;
    if (q >= o.local_window) local_sum += local, acc.local_rows += 1;
  }
  // Key k (and distance d) receive share[q] from every row q >= k.
  double suffix = 0;
  for (int64_t k = rows - 1; k >= 0; --k) {
    suffix += uniform[size_t(k)];
    acc.column_sums[size_t(k)] += suffix;
    acc.diagonal_sums[size_t(k)] += suffix;
  }
  for (int64_t i = 0; i < blocks; ++i) {
    double full = 0, diagonal = 0;
    for (int64_t q = i * block; q < std::min(rows, (i + 1) * block); ++q) {
      full += uniform[size_t(q)] * double(block);
      diagonal += uniform[size_t(q)] * double(q - i * block + 1);
    }
    auto& row = acc.pooled.sums[size_t(i)];
    for (int64_t j = 0; j < i; ++j) row[size_t(j)] += full;
    row[size_t(i)] += diagonal;
  }
  acc.entropy_sum = entropy_sum;
  acc.sink_mass_sum = sink_sum;
  acc.local_mass_sum = local_sum;
}

uint64_t fnv(uint64_t h, const void* data, size_t size) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// Every value of the unit: the profile, metric by metric and head by head, and the outcome.
uint64_t check_value(const pr::UnitMeasurement& unit) {
  uint64_t h = 14695981039346656037ull;
  for (const std::string& name : unit.profile.metrics()) {
    h = fnv(h, name.data(), name.size());
    for (int l = 0; l < unit.profile.layers(); ++l)
      for (int k = 0; k < unit.profile.heads(); ++k) {
        const auto v = unit.profile.get(name, l, k);
        if (!v) continue;
        if (const double* x = std::get_if<double>(&*v)) h = fnv(h, x, sizeof(double));
        else h = fnv(h, std::get<std::string>(*v).data(), std::get<std::string>(*v).size());
      }
  }
  const std::string outcome = unit.outcome.dump();
  return fnv(h, outcome.data(), outcome.size());
}

struct MetricTimer {
  std::string name;
  double seconds = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<long long> lengths{8192, 32768};
  int layers = 32, heads = 32, repeats = 1;
  long long answer = 50, sample = 64;
  uint64_t seed = 1;
  std::string tokenizer_file = std::string(ATTNSCOPE_SOURCE_DIR) + "/sample_data/sample-llama/tokenizer.json";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const std::string v = i + 1 < argc ? argv[++i] : "";
    if (a == "--lengths") lengths = split_numbers(v);
    else if (a == "--layers") layers = std::stoi(v);
    else if (a == "--heads") heads = std::stoi(v);
    else if (a == "--answer") answer = std::stoll(v);
    else if (a == "--sample") sample = std::stoll(v);
    else if (a == "--repeats") repeats = std::stoi(v);
    else if (a == "--seed") seed = std::stoull(v);
    else if (a == "--tokenizer") tokenizer_file = v;
    else {
      std::fprintf(stderr, "profile_metrics_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  try {
    const auto tok = tokenizer::Tokenizer::from_file(tokenizer_file);
    model::ModelSpec model;
    model.num_layers = layers;
    model.num_heads = heads;
    model.num_kv_heads = heads;
    model.vocab_size = tok.vocab_size();
    pr::ProfileJobSpec spec;  // every metric, the job's capture options
    std::printf("== profile metrics per needle prompt: %d layers x %d heads, %lld-token answers, %d threads\n", layers,
                heads, answer, omp_get_max_threads());
    std::printf("%7s %6s %7s %9s %9s %9s %9s %18s\n", "length", "exact", "build s", "capture s", "cpu s", "needle s",
                "metrics s", "check");
    std::vector<std::pair<long long, std::vector<MetricTimer>>> per_metric;
    for (long long length : lengths) {
      const int64_t rows = length + std::max<long long>(0, answer - 1);
      const bool exact = pr::exact_rows_fit(spec, rows, int64_t(layers) * heads);
      if (exact) {
        std::printf("%7lld: the job would keep exact rows here; this benchmark builds none (use longer prompts)\n",
                    length);
        continue;
      }
      capture::CaptureRequest request;
      request.options = spec.capture;
      capture::Capture capture(request, model);
      std::mt19937_64 rng(seed * 1000003 + uint64_t(length));
      std::vector<HeadShape> shapes;
      for (int h = 0; h < layers * heads; ++h) shapes.push_back(draw_shape(rng, rows));
      const auto built = Clock::now();
#pragma omp parallel for schedule(dynamic, 1)
      for (int h = 0; h < layers * heads; ++h)
        fill_head(*capture.for_layer(h / heads)->heads[size_t(h % heads)], request.options, shapes[size_t(h)], rows,
                  seed + uint64_t(h));
      const double build_s = seconds_since(built);

      // The prompt: random ids, the needle's answer in the middle, answered right.
      std::vector<int32_t> ids(static_cast<size_t>(length));
      for (auto& id : ids) id = int32_t(rng() % uint64_t(tok.vocab_size()));
      tasks::TaskPrompt prompt;
      prompt.ids = ids;
      prompt.description = "synthetic " + std::to_string(length) + "-token needle prompt";
      tasks::InsertedNeedle needle;
      needle.tokens = {length / 2, length / 2 + 24};
      needle.answer_tokens = {{length / 2 + 8, length / 2 + 20}};
      needle.answer = tok.decode(std::span<const int32_t>(ids).subspan(size_t(length / 2 + 8), 12), true);
      prompt.needles = {needle};
      prompt.expected_answer = needle.answer;
      pr::DecodedAnswer decoded;
      decoded.generated.assign(ids.begin() + length / 2 + 8, ids.begin() + length / 2 + 20);
      while (int64_t(decoded.generated.size()) < answer) decoded.generated.push_back(ids[decoded.generated.size()]);
      decoded.generated.resize(size_t(answer));
      decoded.response = pr::answer_text(tok, decoded.generated);
      std::vector<int32_t> run_tokens = ids;
      run_tokens.insert(run_tokens.end(), decoded.generated.begin(), decoded.generated.end() - 1);

      // The unit as the job measures it (profile_job.cpp, run_prompt_unit).
      double capture_s = 1e300, capture_cpu = 1e300, needle_s = 1e300;
      uint64_t check = 0;
      for (int r = 0; r < repeats; ++r) {
        pr::UnitMeasurement unit{pr::HeadProfile(layers, heads)};
        auto start = Clock::now();
        const double cpu = cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
        pr::add_capture_metrics(unit, capture, run_tokens, tok, spec, model.sliding_window);
        capture_s = std::min(capture_s, seconds_since(start));
        capture_cpu = std::min(capture_cpu, cpu_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu);
        start = Clock::now();
        pr::add_needle_scores(unit, capture, prompt, decoded, tok, spec);
        needle_s = std::min(needle_s, seconds_since(start));
        check = check_value(unit);
      }
      std::printf("%7lld %6s %7.2f %9.3f %9.3f %9.3f %9.3f   %016llx\n", length, exact ? "yes" : "no", build_s,
                  capture_s, capture_cpu, needle_s, capture_s + needle_s, static_cast<unsigned long long>(check));
      std::fflush(stdout);

      // Per metric, one head at a time (CPU time of this thread, the least of --repeats),
      // on `sample` heads spread over the layers.
      const auto& all = capture.heads();
      const int64_t n = std::min<int64_t>(sample, int64_t(all.size()));
      std::vector<MetricTimer> timers{{"check_head_rows"},       {"hidden_sinks"},          {"pattern: local"},
                                      {"pattern: a_shape"},      {"pattern: vertical_slash"}, {"pattern: block_sparse"},
                                      {"density"},               {"span_90"},               {"measure_head (all of them)"}};
      const pr::HeadMetricsOptions options;
      for (int64_t i = 0; i < n; ++i) {
        const auto& head = all[size_t(i * int64_t(all.size()) / n)];
        size_t t = 0;
        const auto timed = [&](auto&& f) {
          double best = 1e300;
          for (int r = 0; r < repeats; ++r) {
            const double start = cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
            f();
            best = std::min(best, cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - start);
          }
          timers[t++].seconds += best;
        };
        pr::AttentionGeometry g;
        timed([&] { g = pr::check_head_rows(head, 0, "bench"); });
        timed([&] { pr::find_hidden_sinks(head, g, run_tokens, spec.capture.local_window, options.hidden_sinks); });
        const int64_t budget = int64_t(std::floor(options.pattern.budget * double(g.entries())));
        timed([&] { pr::local_candidate(head, g, budget); });
        timed([&] { pr::a_shape_candidate(head, g, spec.capture.sink_tokens, budget); });
        timed([&] { pr::line_mask_recall(head, g, pr::vertical_slash_lines(head, g, budget)); });
        timed([&] { pr::block_mask_recall(head, g, pr::block_sparse_blocks(head, g, budget)); });
        timed([&] { pr::attention_density(head, g, options.density_targets); });
        timed([&] { pr::recall_span(head, g, options.span); });
        timed([&] { pr::measure_head(head, spec.capture, run_tokens, options); });
      }
      for (auto& timer : timers) timer.seconds /= double(n);
      per_metric.emplace_back(length, std::move(timers));
    }
    if (per_metric.empty()) return 0;
    std::printf("\n== per metric, ms per head (one thread; mean over %lld heads of the least of %d runs)\n%-26s", sample,
                repeats, "metric");
    for (const auto& [length, timers] : per_metric) std::printf(" %9lld", length);
    std::printf("\n");
    for (size_t t = 0; t < per_metric.front().second.size(); ++t) {
      std::printf("%-26s", per_metric.front().second[t].name.c_str());
      for (const auto& [length, timers] : per_metric) std::printf(" %9.3f", timers[t].seconds * 1e3);
      std::printf("\n");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "profile_metrics_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
