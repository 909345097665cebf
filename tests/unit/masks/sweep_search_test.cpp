// Sweeps, the Pareto front, the per-head search and the global budget allocation, on
// random recorded heads and on hand-made candidate tables whose answers are known.
#include <catch2/catch.hpp>

#include <set>

#include "analysis/masks/mask_sweep.h"
#include "analysis/masks/plan_search.h"
#include "kernels/error.h"
#include "tests/unit/masks/mask_reference.h"

namespace am = attnscope::masks;
namespace mr = attnscope::testing::masks;
using Catch::Contains;

namespace {

// A lab of `layers` x `heads` random heads of 150 rows.
am::MaskLab random_lab(int layers, int heads) {
  std::vector<am::RecordedHead> recorded;
  uint32_t seed = 40;
  for (int l = 0; l < layers; ++l)
    for (int h = 0; h < heads; ++h) {
      const mr::RefHead r = mr::random_head(150, 0, 0, 8, seed++);
      recorded.push_back({{l, h}, r.rows, r.first_position, r.head_dim, r.model_window, float(r.scale), r.q, r.k, r.v});
    }
  return am::MaskLab(std::move(recorded));
}

// A table of `heads` heads (layer h / 2) whose candidate c has the given density and recall.
am::CandidateTable table(const std::vector<std::vector<std::pair<double, double>>>& density_recall) {
  am::CandidateTable t;
  const std::size_t candidates = density_recall.front().size();
  for (std::size_t c = 0; c < candidates; ++c) t.candidates.push_back({am::TopKMask{int64_t(c + 1)}, std::nullopt});
  for (std::size_t h = 0; h < density_recall.size(); ++h) {
    t.heads.push_back({int(h / 2), int(h % 2)});
    t.results.emplace_back();
    for (std::size_t c = 0; c < candidates; ++c) {
      am::HeadResult r;
      r.at = t.heads.back();
      r.mask = r.used = t.candidates[c];
      r.evaluation.density = density_recall[h][c].first;
      r.evaluation.recall = density_recall[h][c].second;
      t.results.back().push_back(r);
    }
  }
  return t;
}

}  // namespace

TEST_CASE("A sweep keeps each point within its density and recall grows with it", "[masks]") {
  const am::MaskLab lab = random_lab(1, 2);
  const am::MaskPlan shape(1, 2, {am::DenseMask{}, std::nullopt});
  const std::vector<double> densities = {0.1, 0.3, 0.6};
  const auto points = am::sweep(lab, shape, am::TopPMask{}, densities);
  REQUIRE(points.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(points[i].summary.density <= densities[i] + 1e-12);
  CHECK(points[0].summary.recall < points[1].summary.recall);
  CHECK(points[1].summary.recall < points[2].summary.recall);
  CHECK(points[2].heads.size() == 2);
}

TEST_CASE("The Pareto front keeps the points nothing beats on cost and loss", "[masks]") {
  const std::vector<double> cost = {0.1, 0.2, 0.2, 0.3, 0.05, 0.4};
  const std::vector<double> loss = {0.5, 0.3, 0.4, 0.35, 0.9, 0.1};
  CHECK(am::pareto_front(cost, loss) == std::vector<std::size_t>{4, 0, 1, 5});
}

TEST_CASE("Density lists are parsed and bad items named", "[masks]") {
  CHECK(am::parse_densities("0.05,0.1,1") == std::vector<double>{0.05, 0.1, 1.0});
  CHECK_THROWS_WITH(am::parse_densities("0.05,abc"), Contains("--densities: \"abc\" is not a number in (0, 1]"));
  CHECK_THROWS_WITH(am::parse_densities("-1", "--target-recall"), Contains("--target-recall: \"-1\""));
  CHECK_THROWS_WITH(am::parse_densities("0.5,1.5"), Contains("\"1.5\""));
  CHECK_THROWS_WITH(am::parse_densities("0.1,,0.2"), Contains("\"\""));
}

TEST_CASE("The per-head search takes the cheapest candidate that reaches the target recall", "[masks]") {
  // Head 0: candidates 1 and 2 reach 0.9; 1 is cheaper. Head 1: none reaches it: the best recall.
  const am::CandidateTable t = table({{{0.1, 0.5}, {0.2, 0.92}, {0.15, 0.95}}, {{0.1, 0.5}, {0.3, 0.8}, {0.2, 0.7}}});
  const am::MaskPlan plan = am::search_per_head(t, 1, 2, 0.9);
  CHECK(plan.at({0, 0}) == t.candidates[2]);  // 0.15 < 0.2
  CHECK(plan.at({0, 1}) == t.candidates[1]);
  CHECK_THROWS_WITH(am::search_per_head(t, 1, 2, 0.0), Contains("target recall"));
}

TEST_CASE("The global allocation meets the budget with at most the allowed rules per layer", "[masks]") {
  // Four heads in two layers; candidate c costs density 0.1 (c + 1); recall differs per head.
  std::vector<std::vector<std::pair<double, double>>> dr;
  const double recalls[4][4] = {{0.6, 0.9, 0.95, 1.0}, {0.95, 0.97, 0.99, 1.0}, {0.3, 0.5, 0.8, 1.0}, {0.9, 0.95, 0.98, 1.0}};
  for (const auto& head : recalls) {
    dr.emplace_back();
    for (int c = 0; c < 4; ++c) dr.back().push_back({0.1 * (c + 1), head[c]});
  }
  const am::CandidateTable t = table(dr);
  for (int rules : {1, 2}) {
    const am::MaskPlan plan = am::allocate_budget(t, 2, 2, 0.25, rules);
    double density = 0;
    for (int l = 0; l < 2; ++l) {
      CHECK(int(plan.distinct_masks(l).size()) <= rules);
      for (int h = 0; h < 2; ++h)
        for (std::size_t c = 0; c < 4; ++c)
          if (plan.at({l, h}) == t.candidates[c]) density += 0.1 * double(c + 1) / 4.0;
    }
    INFO("rules " << rules);
    CHECK(density <= 0.25 + 1e-12);
    CHECK(density >= 0.2 - 1e-12);  // the budget is used, not left idle
  }
  // With two rules per layer the heads that need mass most get it: head (1, 0) (recall 0.3 at 0.1).
  const am::MaskPlan plan = am::allocate_budget(t, 2, 2, 0.25, 2);
  CHECK(plan.at({1, 0}) != t.candidates[0]);
  CHECK_THROWS_WITH(am::allocate_budget(t, 2, 2, 0.05, 2), Contains("below the cheapest assignment"));
}

TEST_CASE("A search over a lab gives a plan whose heads reach the target recall", "[masks]") {
  const am::MaskLab lab = random_lab(1, 2);
  const std::vector<am::HeadMask> candidates = {{am::StreamingMask{4, {16, 0}}, 0.2},
                                                {am::TopKMask{}, 0.1},
                                                {am::TopKMask{}, 0.3},
                                                {am::DenseMask{}, std::nullopt}};
  const am::CandidateTable t = am::evaluate_candidates(lab, candidates);
  const am::MaskPlan plan = am::search_per_head(t, 1, 2, 0.9);
  for (std::size_t i = 0; i < 2; ++i) {
    const am::HeadResult r = lab.evaluate_head(i, plan.at(lab.heads()[i].at));
    CHECK(r.evaluation.recall >= 0.9 - 1e-6);  // the chosen concrete mask re-evaluates the same
  }
}
