// Exporting from the store: the run-level profile, Retrieval_Head's per-test lists in
// unit order, span_90 samples fitted into MoA rules, and runs of another model refused.
#include <catch2/catch.hpp>

#include "analysis/export/moa_plan_file.h"
#include "analysis/export/stored_profile.h"
#include "export_store_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace metric = attnscope::profile::metric;
using namespace attnscope::exports::testing;
using Catch::Contains;

TEST_CASE("A stored run's profile holds its run-level value of every head", "[export][store]") {
  const TinyStore s = make_tiny_store("stored_profile");
  const ex::StoredProfile p = ex::read_stored_profile(s.db, s.run, tiny_shape());
  const auto known = known_profile();
  CHECK(p.heads.metrics() == known.metrics());
  CHECK(p.heads.number(metric::streaming_gate, 2, 3) == known.number(metric::streaming_gate, 2, 3));
  CHECK(p.heads.get(metric::pattern, 1, 0) == known.get(metric::pattern, 1, 0));
  CHECK(p.units.size() == 4);
  CHECK_FALSE(p.from_units);
}

TEST_CASE("The run's model shape is read from its stored path and checked", "[export][store]") {
  const TinyStore s = make_tiny_store("stored_shape");
  const auto run = attnscope::store::get_run(s.db, s.run);
  CHECK(ex::shape_for_run(run, std::nullopt).name == "test/tiny-gqa");
  CHECK_THROWS_WITH(ex::shape_for_run(run, reference_dir().parent_path() / "models" / "Meta-Llama-3.1-8B-Instruct"),
                    Contains("run 1 profiled a model of 3 layers, 4 query heads and 2 KV heads, not"));
  std::filesystem::remove(s.model_dir / "config.json");
  CHECK_THROWS_WITH(ex::shape_for_run(run, std::nullopt), Contains("run 1: its model's config.json is not at") &&
                                                              Contains("--model DIR"));
}

TEST_CASE("Retrieval_Head lists hold one score per counted test in unit order", "[export][store]") {
  const TinyStore s = make_tiny_store("stored_lists");
  const ex::StoredProfile p = ex::read_stored_profile(s.db, s.run, tiny_shape());
  const ex::RetrievalHeadScores scores = ex::stored_retrieval_lists(s.db, p, metric::retrieval_score, tiny_shape());
  CHECK(scores.at(0, 0) == std::vector<double>{0.0, 1.0 / 16});
  CHECK(scores.at(2, 3) == std::vector<double>{11.0 / 16, 12.0 / 16});
  CHECK_THROWS_WITH(ex::stored_retrieval_lists(s.db, p, metric::retrieval_reasoning_score, tiny_shape()),
                    Contains("run 1: no unit has a retrieval_reasoning_score"));
}

TEST_CASE("MoA rules from span_90 at two lengths are the heads' lines alpha + beta N", "[export][store]") {
  const TinyStore s = make_tiny_store("stored_spans");
  const std::vector<ex::StoredProfile> runs{ex::read_stored_profile(s.db, s.run, tiny_shape())};
  const auto samples = ex::stored_span_samples(s.db, runs, tiny_shape());
  CHECK(samples[5].size() == 3);
  const ex::MoaRules rules = ex::moa_from_span_samples(samples, tiny_shape());
  // tiny_span: 100 + 10 i + N / 8.
  CHECK(rules.betas[1][1] == Approx(0.125).margin(1e-12));
  CHECK(rules.alphas[1][1] == Approx(150).margin(1e-9));
}

TEST_CASE("MoA rules need spans at two lengths for every head", "[export][store]") {
  std::vector<std::vector<attnscope::profile::SpanSample>> samples(12, {{1024, 300}, {2048, 400}});
  samples[6] = {{1024, 300}};
  CHECK_THROWS_WITH(ex::moa_from_span_samples(samples, tiny_shape()),
                    Contains("MoA export: layer 1 head 2: a span rule alpha + beta N needs spans at two or more"));
  // Prompts of 510 and 512 tokens (one requested length) are one length to MoA's rule.
  std::vector<std::vector<attnscope::profile::SpanSample>> close(12, {{510, 300}, {512, 90}});
  CHECK_THROWS_WITH(ex::moa_from_span_samples(close, tiny_shape()),
                    Contains("MoA export: a span rule") && Contains("510 to 512 tokens") && Contains("--lengths"));
}

TEST_CASE("MoA rules from runs always import: a head needing less gets MoA's smallest span", "[export][store]") {
  std::vector<std::vector<attnscope::profile::SpanSample>> samples(12, {{1024, 300}, {2048, 500}});
  samples[3] = {{1024, 70}, {2048, 60}};  // shrinking: beta 0, alpha 65, under MoA's 128
  const ex::MoaRules rules = ex::moa_from_span_samples(samples, tiny_shape());
  CHECK(rules.betas[0][3] == 0.0);
  CHECK(rules.alphas[0][3] == double(ex::kMoaMinimumSpan));
  CHECK(rules.alphas[0][2] == Approx(100).margin(1e-9));
  const auto plan = ex::moa_to_plan(rules, tiny_shape());  // what import does: no head refused
  CHECK(plan.num_heads() == 4);
}

TEST_CASE("A run of another model is refused before anything is read", "[export][store]") {
  const TinyStore s = make_tiny_store("stored_other");
  CHECK_THROWS_WITH(ex::read_stored_profile(s.db, s.run, real_model("Meta-Llama-3.1-8B-Instruct")),
                    Contains("run 1 profiled a model of 3 layers"));
  CHECK_THROWS_WITH(ex::read_stored_profile(s.db, attnscope::store::RunId(7), tiny_shape()), Contains("no run 7"));
}
