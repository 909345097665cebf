// span_90: the MoA span (64-token sink + recent window) that provably keeps 90% of a
// head's attention, on heads whose attention is known exactly; and the span rule fitted
// to spans at several lengths.
#include <catch2/catch.hpp>

#include "analysis/profile/recall_span.h"
#include "analysis/profile/span_rule.h"
#include "kernels/error.h"

namespace profile = attnscope::profile;
using Catch::Contains;

namespace {

// Row q attends only to key q - reach (key 0 while q < reach): the column and diagonal
// sums of that matrix.
attnscope::kernels::HeadAccumulator reach_head(int64_t rows, int64_t reach) {
  attnscope::kernels::HeadAccumulator head;
  head.rows = rows;
  head.column_sums.assign(size_t(rows), 0.0);
  head.diagonal_sums.assign(size_t(rows), 0.0);
  for (int64_t q = 0; q < rows; ++q) {
    const int64_t k = q < reach ? 0 : q - reach;
    head.column_sums[size_t(k)] += 1;
    head.diagonal_sums[size_t(q - k)] += 1;
  }
  return head;
}

}  // namespace

TEST_CASE("A head attending 100 tokens back needs the sink plus 101 recent tokens", "[profile][span]") {
  const auto head = reach_head(1000, 100);
  CHECK(profile::recall_span(head, {1000, 0}) == 64 + 101);
}

TEST_CASE("A head attending to itself needs the sink plus one token", "[profile][span]") {
  CHECK(profile::recall_span(reach_head(1000, 0), {1000, 0}) == 64 + 1);
}

TEST_CASE("A head attending to the first token needs only the sink", "[profile][span]") {
  CHECK(profile::recall_span(reach_head(1000, 5000), {1000, 0}) == 64);
}

TEST_CASE("A span never exceeds the rows of the prompt", "[profile][span]") {
  CHECK(profile::recall_span(reach_head(50, 10), {50, 0}) == 50);
  CHECK_FALSE(profile::recall_span(reach_head(0, 10), {0, 0}).has_value());
}

TEST_CASE("A recall span refuses a target outside (0, 1]", "[profile][span]") {
  CHECK_THROWS_WITH(profile::recall_span(reach_head(10, 1), {10, 0}, {64, 1.5}), Contains("outside (0, 1]"));
}

TEST_CASE("A span rule through exact points recovers alpha and beta", "[profile][span]") {
  const std::vector<profile::SpanSample> samples{{1000, 300}, {2000, 500}, {4000, 900}};
  const profile::SpanRule rule = profile::fit_span_rule(samples, "test");
  CHECK(rule.beta == Approx(0.2).margin(1e-12));
  CHECK(rule.alpha == Approx(100).margin(1e-9));
  CHECK(rule.at(8000) == Approx(1700).margin(1e-9));
}

TEST_CASE("A span rule's beta is clamped to [0, 1] and alpha refitted", "[profile][span]") {
  const std::vector<profile::SpanSample> shrinking{{1000, 900}, {2000, 700}};
  const profile::SpanRule flat = profile::fit_span_rule(shrinking, "test");
  CHECK(flat.beta == 0.0);
  CHECK(flat.alpha == Approx(800).margin(1e-9));  // the mean span
  const std::vector<profile::SpanSample> steep{{1000, 1000}, {2000, 3000}};
  const profile::SpanRule full = profile::fit_span_rule(steep, "test");
  CHECK(full.beta == 1.0);
  CHECK(full.alpha == Approx(500).margin(1e-9));  // mean(S - N)
}

TEST_CASE("A span rule needs two lengths at least 1.25x apart", "[profile][span]") {
  const std::vector<profile::SpanSample> one{{1000, 300}, {1000, 400}};
  CHECK_THROWS_WITH(profile::fit_span_rule(one, "MoA export"),
                    "MoA export: a span rule alpha + beta N needs spans at two or more prompt lengths, the longest at "
                    "least 1.25x the shortest; all spans are at one length (1000 tokens)");
  // Needle prompts of one requested length differ by a few tokens: no line through them.
  const std::vector<profile::SpanSample> close{{510, 300}, {512, 100}, {512, 120}};
  CHECK_THROWS_WITH(profile::fit_span_rule(close, "x"), Contains("these are at 510 to 512 tokens"));
  CHECK_THROWS_WITH(profile::fit_span_rule({}, "x"), Contains("there are no spans"));
  const std::vector<profile::SpanSample> apart{{1000, 300}, {1250, 350}};
  CHECK(profile::fit_span_rule(apart, "x").beta == Approx(0.2).margin(1e-12));
}
