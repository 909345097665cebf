// Overview grids from stored metrics, from two runs' differences, and with the mask lab's
// columns.
#include <catch2/catch.hpp>

#include <cmath>

#include "views/color_scale.h"
#include "views/head_grid_metrics.h"

using namespace attnscope;
using namespace attnscope::views;

TEST_CASE("stored numbers become metrics and stored texts become classes", "[gui][grid]") {
  const std::vector<store::HeadMetric> metrics = {
      {0, 0, "sink_mass", 0.5}, {0, 1, "sink_mass", 0.25}, {0, 0, "pattern", std::string("local")},
      {0, 1, "pattern", std::string("dense")}};
  HeadGridModel grid = grid_from_metrics(metrics, 1, 2);
  REQUIRE(grid.metric_count() == 2);
  const int pattern = *grid.find_metric("pattern");
  REQUIRE(grid.metric(pattern).categories == std::vector<std::string>{"dense", "local"});
  grid.select_metric(pattern);
  REQUIRE(grid.value(0, 0) == 1);  // "local"
  REQUIRE(grid.describe(0, 1).find("pattern: dense") != std::string::npos);
  grid.select_metric(*grid.find_metric("sink_mass"));
  REQUIRE(grid.normalized(0, 1) == Approx(0.5).margin(1e-12));  // 0.25 of a 0..0.5 ramp
}

TEST_CASE("differences are the second run minus the first, coloured around zero", "[gui][grid]") {
  const std::vector<store::HeadMetric> a = {{0, 0, "retrieval_score", 0.2}, {0, 1, "retrieval_score", 0.6},
                                            {0, 0, "only_a", 1.0}};
  const std::vector<store::HeadMetric> b = {{0, 0, "retrieval_score", 0.5}, {0, 1, "retrieval_score", 0.4}};
  HeadGridModel grid = grid_from_differences(a, b, 1, 2);
  REQUIRE(grid.metric_count() == 1);  // only metrics both runs have
  const auto& column = grid.metric(0);
  REQUIRE(column.name == "retrieval_score b-a");
  REQUIRE(column.diverging);
  REQUIRE(grid.value(0, 0) == Approx(0.3).margin(1e-12));
  REQUIRE(grid.value(0, 1) == Approx(-0.2).margin(1e-12));
  REQUIRE(column.domain_max == Approx(0.3).margin(1e-12));  // the largest difference either way
  REQUIRE(column.domain_min == Approx(-0.3).margin(1e-12));
  REQUIRE(column.format(0.3) == "+0.300");
}

TEST_CASE("mask results replace the mask columns instead of adding more", "[gui][grid]") {
  HeadGridModel grid(1, 2);
  masks::HeadResult r;
  r.at = {0, 1};
  r.evaluation.recall = 0.8;
  r.evaluation.output_rel_l2 = 0.2;
  r.evaluation.density = 0.3;
  set_mask_metrics(grid, {r});
  r.evaluation.recall = 0.9;
  set_mask_metrics(grid, {r});
  REQUIRE(grid.metric_count() == 4);
  grid.select_metric(*grid.find_metric(kMaskRecall));
  REQUIRE(grid.value(0, 1) == Approx(0.9).margin(1e-12));
  REQUIRE(std::isnan(grid.value(0, 0)));  // a head the results do not have
}

TEST_CASE("each head's mask method becomes a class of the mask method column", "[gui][grid]") {
  HeadGridModel grid(1, 3);
  std::vector<masks::HeadResult> results(3);
  for (int h = 0; h < 3; ++h) results[size_t(h)].at = {0, h};
  results[0].mask = {masks::StreamingMask{}, std::nullopt};
  results[1].mask = {masks::DenseMask{}, std::nullopt};
  results[2].mask = {masks::StreamingMask{}, 0.2};
  set_mask_metrics(grid, results);
  const int column = *grid.find_metric(kMaskMethod);
  REQUIRE(grid.metric(column).categories == std::vector<std::string>{"streaming", "dense"});
  grid.select_metric(column);
  REQUIRE(grid.value(0, 2) == 0);  // streaming, whatever its budget
  REQUIRE(grid.describe(0, 1).find("mask method: dense") != std::string::npos);
}

TEST_CASE("the diverging colours run from blue through white to red", "[gui][grid]") {
  const auto channel = [](PackedColor c, int shift) { return int((c >> shift) & 0xff); };
  REQUIRE(channel(diverging_color(0), 16) > channel(diverging_color(0), 0));  // more blue than red
  REQUIRE(channel(diverging_color(1), 0) > channel(diverging_color(1), 16));  // more red than blue
  REQUIRE(channel(diverging_color(0.5), 0) == 247);                           // white-ish in the middle
  REQUIRE(category_color(0) != category_color(1));
  REQUIRE(category_color(8) == category_color(0));  // eight colours, then they repeat
}
