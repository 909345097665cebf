#include "analysis/profile/retrieval_score.h"

#include <algorithm>
#include <exception>
#include <numeric>
#include <string>

#include "analysis/profile/answer_match.h"
#include "analysis/profile/capture_rows.h"
#include "kernels/error.h"

namespace attnscope::profile {
namespace {

void check_needle(std::span<const int32_t> prompt, const TokenSpan& needle, const std::string& where) {
  if (prompt.empty()) throw Error(where, "the prompt is empty");
  if (needle.begin < 0 || needle.end > int64_t(prompt.size()) || needle.size() <= 0)
    throw Error(where, "the needle span [" + std::to_string(needle.begin) + ", " + std::to_string(needle.end) +
                           ") is not a non-empty part of the " + std::to_string(prompt.size()) + "-token prompt");
}

}  // namespace

RetrievalTest score_retrieval_test(const NeedleTest& test, std::span<const kernels::HeadAccumulator> heads) {
  const std::string where = "retrieval score";
  check_needle(test.prompt, test.needle, where);
  const int64_t first = int64_t(test.prompt.size()) - 1;  // the row that chose generated[0]
  const int64_t steps = int64_t(test.generated.size());
  RetrievalTest out;
  out.answer_score = rouge1_recall(test.reference, test.response);
  out.counted = out.answer_score > 0.5;
  // Heads in parallel: checking a head's rows reads every row (1024 heads of 32K rows);
  // the error reported is the first head's in order, as one at a time.
  out.heads.resize(heads.size());
  out.scores.resize(heads.size());
  std::vector<std::exception_ptr> errors(heads.size());
#pragma omp parallel for schedule(static)
  for (size_t h = 0; h < heads.size(); ++h) {
    const auto& head = heads[h];
    try {
      const AttentionGeometry g = check_head_rows(head, 0, where);
      if (steps > 0 && g.rows < first + steps)
        throw Error(where, head_name(head) + ": the capture has " + std::to_string(g.rows) + " rows; " +
                               std::to_string(steps) + " generated tokens after a " +
                               std::to_string(test.prompt.size()) + "-token prompt need rows up to position " +
                               std::to_string(first + steps - 1));
    } catch (...) {
      errors[h] = std::current_exception();
      continue;
    }
    double score = 0;
    for (int64_t i = 0; i < steps; ++i) {
      const int64_t key = head.top1[size_t(first + i)];
      if (key >= test.needle.begin && key < test.needle.end && test.prompt[size_t(key)] == test.generated[size_t(i)])
        score += 1.0 / double(test.needle.size());
    }
    out.heads[h] = {head.layer, head.head};
    out.scores[h] = score;
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return out;
}

RetrievalTest score_reasoning_test(const ReasoningTest& test, std::span<const HeadId> heads,
                                   const std::vector<std::vector<DecodeTopK>>& top_k) {
  const std::string where = "retrieval-reasoning score";
  check_needle(test.prompt, test.needle, where);
  if (test.answer_tokens < 1 || test.decode_steps < 0)
    throw Error(where, "the answer must have at least one token and the step count must not be negative");
  if (top_k.size() != heads.size())
    throw Error(where, std::to_string(top_k.size()) + " top-k lists were given for " + std::to_string(heads.size()) +
                           " heads");
  const int64_t first = int64_t(test.prompt.size()) - 1;
  const int64_t span = test.needle.size();
  RetrievalTest out;
  out.answer_score = qa_f1_score(test.response, test.answer);
  out.counted = out.answer_score > 0.5;
  for (size_t h = 0; h < heads.size(); ++h) {
    const std::string name = "layer " + std::to_string(heads[h].layer) + " head " + std::to_string(heads[h].head);
    if (int64_t(top_k[h].size()) != test.decode_steps)
      throw Error(where, name + ": " + std::to_string(top_k[h].size()) + " decoding rows for " +
                             std::to_string(test.decode_steps) + " steps");
    double score = 0;
    for (int64_t step = 0; step < test.decode_steps; ++step) {
      const DecodeTopK& row = top_k[h][size_t(step)];
      const int64_t position = first + step;
      const int64_t k = std::min(span, position + 1);
      if (row.keys.size() != row.probs.size() || int64_t(row.keys.size()) < k)
        throw Error(where, name + ": decoding step " + std::to_string(step) + " has " + std::to_string(row.keys.size()) +
                               " top keys; the needle's length needs " + std::to_string(k));
      for (int64_t i = 0; i < k; ++i) {
        if (row.keys[size_t(i)] < 0 || row.keys[size_t(i)] > position || (i > 0 && row.probs[size_t(i)] > row.probs[size_t(i - 1)]))
          throw Error(where, name + ": decoding step " + std::to_string(step) +
                                 " lists keys outside the row or probabilities out of order");
        if (row.keys[size_t(i)] >= test.needle.begin && row.keys[size_t(i)] < test.needle.end)
          score += 10.0 * row.probs[size_t(i)] / (double(span) * double(test.answer_tokens));
      }
    }
    out.heads.push_back(heads[h]);
    out.scores.push_back(score);
  }
  return out;
}

std::vector<DecodeTopK> decode_top_k_from_exact(const kernels::HeadAccumulator& head, int64_t first_position,
                                                int64_t steps, int64_t k) {
  if (k < 1 || steps < 0 || first_position < 0)
    throw Error("decode top-k", "k must be positive and the rows must not be negative");
  if (first_position + steps > head.exact_rows)
    throw Error("decode top-k", head_name(head) + ": rows up to position " + std::to_string(first_position + steps - 1) +
                                    " are needed exactly; the capture kept " + std::to_string(head.exact_rows) +
                                    " exact rows (raise exact_limit)");
  std::vector<DecodeTopK> out;
  for (int64_t q = first_position; q < first_position + steps; ++q) {
    const auto row = exact_row(head, q);
    std::vector<int64_t> keys(row.size());
    std::iota(keys.begin(), keys.end(), int64_t(0));
    const size_t n = size_t(std::min<int64_t>(k, int64_t(row.size())));
    std::partial_sort(keys.begin(), keys.begin() + std::ptrdiff_t(n), keys.end(), [&](int64_t a, int64_t b) {
      return row[size_t(a)] != row[size_t(b)] ? row[size_t(a)] > row[size_t(b)] : a < b;
    });
    DecodeTopK top;
    for (size_t i = 0; i < n; ++i) {
      top.keys.push_back(keys[i]);
      top.probs.push_back(double(row[size_t(keys[i])]));
    }
    out.push_back(std::move(top));
  }
  return out;
}

std::optional<double> RetrievalScores::mean(size_t head) const {
  const auto& values = per_test.at(head);
  if (values.empty()) return std::nullopt;
  return std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
}

RetrievalScores combine_retrieval_tests(std::span<const RetrievalTest> tests) {
  RetrievalScores out;
  if (tests.empty()) return out;
  out.heads = tests.front().heads;
  out.per_test.resize(out.heads.size());
  for (const auto& t : tests) {
    if (t.heads != out.heads || t.scores.size() != t.heads.size())
      throw Error("retrieval scores", "test " + std::to_string(out.tests) + " scores other heads than the first test");
    ++out.tests;
    if (!t.counted) continue;
    ++out.counted;
    for (size_t h = 0; h < t.scores.size(); ++h) out.per_test[h].push_back(t.scores[h]);
  }
  return out;
}

}  // namespace attnscope::profile
