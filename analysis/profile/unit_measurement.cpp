#include "analysis/profile/unit_measurement.h"

#include <algorithm>
#include <array>
#include <exception>

#include "analysis/profile/answer_match.h"
#include "analysis/profile/head_metrics.h"
#include "analysis/profile/repetition_scores.h"
#include "analysis/profile/retrieval_score.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

// The head without its exact rows: what a capture of any length keeps.
kernels::HeadAccumulator streaming_statistics(const kernels::HeadAccumulator& head) {
  kernels::HeadAccumulator copy;
  copy.layer = head.layer;
  copy.head = head.head;
  copy.rows = head.rows;
  copy.sink_mass_sum = head.sink_mass_sum;
  copy.sink_rows = head.sink_rows;
  copy.local_mass_sum = head.local_mass_sum;
  copy.local_rows = head.local_rows;
  copy.entropy_sum = head.entropy_sum;
  copy.column_sums = head.column_sums;
  copy.diagonal_sums = head.diagonal_sums;
  copy.row_entropy = head.row_entropy;
  copy.top1 = head.top1;
  copy.positions = head.positions;
  copy.pooled = head.pooled;
  return copy;
}

void set_if_wanted(UnitMeasurement& unit, const ProfileJobSpec& spec, std::string_view name, int layer, int head,
                   const std::optional<double>& value) {
  if (value && spec.wants(name)) unit.profile.set(name, layer, head, *value);
}

}  // namespace

bool exact_rows_fit(const ProfileJobSpec& spec, int64_t rows, int64_t heads) {
  if (!spec.wants(metric::retrieval_reasoning_score) || rows <= 0) return false;
  const double bytes = double(rows) * double(rows + 1) / 2 * double(sizeof(float)) * double(heads);
  return bytes <= double(spec.exact_memory_limit);
}

void add_capture_metrics(UnitMeasurement& unit, const capture::Capture& capture, std::span<const int32_t> tokens,
                         const tokenizer::Tokenizer& tokenizer, const ProfileJobSpec& spec, int64_t sliding_window) {
  const std::array<std::string_view, 9> names{metric::sink_mass,  metric::local_mass, metric::entropy,
                                               metric::pattern,    metric::density_90, metric::density_95,
                                               metric::density_99, metric::hidden_sinks, metric::span_90};
  if (std::none_of(names.begin(), names.end(), [&](std::string_view n) { return spec.wants(n); })) return;
  HeadMetricsOptions options;
  options.sliding_window = sliding_window;
  const kernels::CaptureOptions& capture_options = capture.request().options;
  // Heads in parallel: at 32K tokens a head's pattern and density take tens of ms, and a
  // model has a thousand heads.
  const auto& heads = capture.heads();
  std::vector<HeadMetrics> measured(heads.size());
  std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < heads.size(); ++i) {
    try {
      // The copy (megabytes a head at 32K tokens) only where there are exact rows to leave out.
      measured[i] = heads[i].exact_rows == 0
                        ? measure_head(heads[i], capture_options, tokens, options)
                        : measure_head(streaming_statistics(heads[i]), capture_options, tokens, options);
    } catch (...) {
#pragma omp critical(attnscope_profile_unit_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  nlohmann::json sinks = nlohmann::json::array();
  for (const HeadMetrics& m : measured) {
    set_if_wanted(unit, spec, metric::sink_mass, m.layer, m.head, m.sink_mass);
    set_if_wanted(unit, spec, metric::local_mass, m.layer, m.head, m.local_mass);
    set_if_wanted(unit, spec, metric::entropy, m.layer, m.head, m.entropy);
    set_if_wanted(unit, spec, metric::span_90, m.layer, m.head, m.span_90);
    if (m.pattern && spec.wants(metric::pattern)) unit.profile.set(metric::pattern, m.layer, m.head, pattern_name(m.pattern->pattern));
    const std::array<std::string_view, 3> densities{metric::density_90, metric::density_95, metric::density_99};
    if (m.density)
      for (size_t i = 0; i < densities.size(); ++i) set_if_wanted(unit, spec, densities[i], m.layer, m.head, m.density->density[i]);
    if (!spec.wants(metric::hidden_sinks)) continue;
    unit.profile.set(metric::hidden_sinks, m.layer, m.head, double(m.hidden_sinks.size()));
    if (m.hidden_sinks.empty()) continue;
    nlohmann::json list = nlohmann::json::array();
    for (const HiddenSink& s : m.hidden_sinks)
      list.push_back({{"position", s.position},
                      {"token", s.token},
                      {"text", s.token >= 0 ? tokenizer.token_string(s.token) : std::string()},
                      {"share", s.share}});
    sinks.push_back({{"layer", m.layer}, {"head", m.head}, {"sinks", list}});
  }
  if (spec.wants(metric::hidden_sinks)) unit.outcome["hidden_sinks"] = sinks;
}

void add_needle_scores(UnitMeasurement& unit, const capture::Capture& capture, const tasks::TaskPrompt& prompt,
                       const DecodedAnswer& answer, const tokenizer::Tokenizer& tokenizer, const ProfileJobSpec& spec) {
  if (prompt.needles.empty())
    throw Error("needle scores", "the prompt '" + prompt.description + "' has no needle");
  const tasks::InsertedNeedle& needle = prompt.needles.front();
  const std::string& reference = needle.answer.empty() ? prompt.expected_answer : needle.answer;
  // Retrieval_Head locates the span of its `real_needle` (the answer clause inside the
  // needle sentence) and divides by that span's length: the answer's tokens here.
  const tasks::TokenSpan span = needle.answer_tokens.empty() ? needle.tokens : needle.answer_tokens.front();
  NeedleTest test{prompt.ids, answer.generated, span, answer.response, reference};
  const RetrievalTest copy = score_retrieval_test(test, capture.heads());
  unit.outcome["response"] = answer.response;
  unit.outcome["generated_tokens"] = answer.generated.size();
  unit.outcome["rouge1_recall"] = copy.answer_score;
  unit.outcome["correct"] = copy.counted;
  if (copy.counted && spec.wants(metric::retrieval_score))
    for (size_t h = 0; h < copy.heads.size(); ++h)
      unit.profile.set(metric::retrieval_score, copy.heads[h].layer, copy.heads[h].head, copy.scores[h]);

  if (!spec.wants(metric::retrieval_reasoning_score)) return;
  const int64_t first = int64_t(prompt.ids.size()) - 1;
  const int64_t steps = int64_t(answer.generated.size());
  const auto& heads = capture.heads();
  const bool exact = !heads.empty() && std::all_of(heads.begin(), heads.end(), [&](const auto& h) {
    return h.exact_rows >= first + steps;
  });
  if (!exact) {
    unit.outcome["retrieval_reasoning"] = "not computed: the decode rows of a " + std::to_string(prompt.ids.size()) +
                                          "-token prompt were not kept exactly (capture top-k lists are not recorded yet)";
    return;
  }
  std::vector<HeadId> ids;
  std::vector<std::vector<DecodeTopK>> top_k;
  for (const auto& h : heads) {
    ids.push_back({h.layer, h.head});
    top_k.push_back(decode_top_k_from_exact(h, first, steps, span.size()));
  }
  // HeadKV normalises by the answer's token count (its reference answer, encoded).
  const int64_t answer_tokens =
      std::max<int64_t>(1, int64_t(prompt.expected_answer_ids.empty() ? tokenizer.encode(reference, false).size()
                                                                       : prompt.expected_answer_ids.size()));
  ReasoningTest reasoning{prompt.ids, steps, span, answer_tokens, answer.response, reference};
  const RetrievalTest r = score_reasoning_test(reasoning, ids, top_k);
  unit.outcome["qa_f1"] = r.answer_score;
  if (!r.counted) return;
  for (size_t h = 0; h < r.heads.size(); ++h)
    unit.profile.set(metric::retrieval_reasoning_score, r.heads[h].layer, r.heads[h].head, r.scores[h]);
}

void add_repetition_scores(UnitMeasurement& unit, const capture::Capture& capture, const tasks::TaskPrompt& prompt,
                           const ProfileJobSpec& spec) {
  const RepeatedTokensLayout layout = repeated_tokens_layout(prompt);
  double induction_error = 0, echo_error = 0;
  for (const auto& head : capture.heads()) {
    const RepetitionScores s = repetition_scores(head, layout, prompt.ids);
    if (spec.wants(metric::induction_score)) unit.profile.set(metric::induction_score, head.layer, head.head, s.induction);
    if (spec.wants(metric::echo_score)) unit.profile.set(metric::echo_score, head.layer, head.head, s.echo);
    induction_error = std::max(induction_error, s.induction_error);
    echo_error = std::max(echo_error, s.echo_error);
  }
  unit.outcome["period"] = layout.period;
  unit.outcome["copies"] = layout.repeats;
  unit.outcome["induction_error_max"] = induction_error;
  unit.outcome["echo_error_max"] = echo_error;
}

}  // namespace attnscope::profile
