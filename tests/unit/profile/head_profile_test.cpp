// The model's profile table (analysis/profile/head_profile.h): metrics of a captured run
// under their names, the KV-head reduction of each metric, and refusals.
#include <catch2/catch.hpp>

#include "analysis/profile/head_profile.h"
#include "kernels/error.h"
#include "tests/unit/profile/profile_test_support.h"

using namespace attnscope;
using namespace attnscope::testing;
using Catch::Contains;

namespace {

// 2 layers x 4 query heads; value = layer * 10 + head (+ 0.5 for sink mass).
profile::HeadProfile filled_profile() {
  profile::HeadProfile p(2, 4);
  for (int layer = 0; layer < 2; ++layer)
    for (int head = 0; head < 4; ++head) {
      p.set(profile::metric::retrieval_score, layer, head, double(layer * 10 + head));
      p.set(profile::metric::sink_mass, layer, head, double(layer * 10 + head) + 0.5);
      p.set(profile::metric::pattern, layer, head, std::string("local"));
    }
  return p;
}

}  // namespace

TEST_CASE("the KV reduction takes the max of retrieval scores and the mean of sink mass over each GQA group",
          "[profile][table]") {
  const auto kv = profile::reduce_to_kv_heads(filled_profile(), 2);
  CHECK(kv.kv_heads());
  CHECK(kv.heads() == 2);
  // Query heads 0, 1 -> KV head 0; 2, 3 -> KV head 1 (HF repeat_kv order).
  CHECK(*kv.number(profile::metric::retrieval_score, 1, 0) == 11.0);
  CHECK(*kv.number(profile::metric::retrieval_score, 1, 1) == 13.0);
  CHECK(*kv.number(profile::metric::sink_mass, 0, 1) == 3.0);  // (2.5 + 3.5) / 2, exact
  // The pattern class has no reduction: left out.
  CHECK_FALSE(kv.get(profile::metric::pattern, 0, 0).has_value());
  CHECK(kv.metrics() == std::vector<std::string>{"retrieval_score", "sink_mass"});
}

TEST_CASE("a GQA group with a head missing gets no KV value", "[profile][table]") {
  profile::HeadProfile p(1, 4);
  p.set(profile::metric::echo_score, 0, 0, 0.25);
  p.set(profile::metric::echo_score, 0, 1, 0.5);
  p.set(profile::metric::echo_score, 0, 2, 0.75);
  const auto kv = profile::reduce_to_kv_heads(p, 2);
  CHECK(*kv.number(profile::metric::echo_score, 0, 0) == 0.5);
  CHECK_FALSE(kv.number(profile::metric::echo_score, 0, 1).has_value());
}

TEST_CASE("a KV head count that does not divide the query heads is refused", "[profile][table]") {
  CHECK_THROWS_WITH(profile::reduce_to_kv_heads(filled_profile(), 3), Contains("3 KV heads") && Contains("4 query heads"));
}

TEST_CASE("a metric without a defined KV reduction is refused when reducing", "[profile][table]") {
  profile::HeadProfile p(1, 2);
  p.set("my_metric", 0, 0, 1.0);
  CHECK_THROWS_WITH(profile::reduce_to_kv_heads(p, 1), Contains("'my_metric'"));
}

TEST_CASE("a head outside the model is refused", "[profile][table]") {
  profile::HeadProfile p(2, 4);
  CHECK_THROWS_WITH(p.set(profile::metric::entropy, 2, 0, 1.0), Contains("layer 2 head 0") && Contains("2 layers"));
  CHECK_THROWS_AS(p.get(profile::metric::entropy, 0, 4), Error);
}

TEST_CASE("metrics of a captured run land in the profile under their names", "[profile][table]") {
  kernels::CaptureOptions o;
  o.pool_block = 16;
  o.local_window = 16;
  const TinyRun run = run_tiny_llama(tiny_prompt(100, 23), 0, o);
  const profile::HeadMetricsOptions options;
  const auto measured = profile::measure_heads(*run.capture, {}, options);
  profile::HeadProfile p(2, 4);
  profile::add_head_metrics(p, measured, options);
  CHECK(p.metrics() == std::vector<std::string>{"density_90", "density_95", "density_99", "entropy", "local_mass",
                                                "pattern", "sink_mass", "span_90"});
  for (const auto& m : measured) {
    CHECK(*p.number(profile::metric::sink_mass, m.layer, m.head) == *m.sink_mass);
    CHECK(*p.number(profile::metric::density_95, m.layer, m.head) == m.density->density[1]);
    CHECK(*p.number(profile::metric::span_90, m.layer, m.head) == *m.span_90);
    CHECK(std::get<std::string>(*p.get(profile::metric::pattern, m.layer, m.head)) ==
          profile::pattern_name(m.pattern->pattern));
  }
}
