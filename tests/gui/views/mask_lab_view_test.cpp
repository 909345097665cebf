// The mask lab panel's logic: controls to a mask and a plan, parameter errors, the
// signals a live panel sends, and the curves' axes.
#include <catch2/catch.hpp>

#include <QSignalSpy>

#include "kernels/error.h"
#include "views/mask_curves_view.h"
#include "views/mask_lab_view.h"

using namespace attnscope;
using namespace attnscope::views;

TEST_CASE("the controls give the family at the density with the parameters applied", "[gui][masks]") {
  const masks::HeadMask mask = head_mask_of("streaming", 0.25, "sink_tokens=64, window=128");
  const auto& streaming = std::get<masks::StreamingMask>(mask.family);
  REQUIRE(streaming.sink_tokens == 64);
  REQUIRE(mask.density == Approx(0.25).margin(1e-12));
}

TEST_CASE("a wrong parameter is refused naming it", "[gui][masks]") {
  try {
    (void)head_mask_of("streaming", 0.25, "sinks=4");
    FAIL("no error");
  } catch (const Error& e) {
    REQUIRE(std::string(e.what()).find("sinks") != std::string::npos);
  }
  REQUIRE_THROWS_AS(head_mask_of("dense", 0.25, ""), Error);  // dense takes no density
}

TEST_CASE("moving the density slider gives a new plan for every head of the model", "[gui][masks]") {
  MaskLabView view;
  view.setShape(3, 4);
  QSignalSpy changed(&view, &MaskLabView::planChanged);
  view.setFamily("topk");
  view.setDensity(0.12);
  REQUIRE(changed.size() >= 2);
  const auto plan = view.plan();
  REQUIRE(plan);
  REQUIRE(plan->num_layers() == 3);
  REQUIRE(plan->num_heads() == 4);
  REQUIRE(plan->at({2, 3}).density == Approx(0.12).margin(1e-12));
  REQUIRE(std::holds_alternative<masks::TopKMask>(plan->at({0, 0}).family));
}

TEST_CASE("bad parameters leave the panel without a plan and say why", "[gui][masks]") {
  MaskLabView view;
  view.setShape(1, 1);
  view.setParameters("sinks=4");
  REQUIRE_FALSE(view.plan());
  view.setParameters("");
  REQUIRE(view.plan());
}

TEST_CASE("the curves take the checked families and refuse a bad density list", "[gui][masks]") {
  MaskLabView view;
  view.setCurveFamilies({"window", "topp"});
  const auto families = view.curveFamilies();
  REQUIRE(families.size() == 2);
  REQUIRE(view.curveDensities() == std::vector<double>{0.05, 0.1, 0.2, 0.3, 0.5});
  view.setCurveFamilies({});
  REQUIRE_THROWS_AS(view.curveFamilies(), Error);
}

TEST_CASE("the error axis ends at the largest error rounded up to a 0.05 step", "[gui][masks]") {
  std::vector<DensityCurve> curves = {{"streaming", {0.1, 0.2}, {0.31, 0.12}, {0.8, 0.9}},
                                      {"topk", {0.1}, {0.02}, {0.99}}};
  REQUIRE(curve_axis_max(curves, false) == Approx(0.35).margin(1e-12));
  REQUIRE(curve_axis_max(curves, true) == 1.0);
  REQUIRE(curve_axis_max({}, false) == Approx(0.05).margin(1e-12));
}

TEST_CASE("the density axis ends at the largest density used and ticks are round numbers", "[gui][masks]") {
  std::vector<DensityCurve> curves = {{"streaming", {0.05, 0.31}, {0.3, 0.1}, {0.8, 0.9}}};
  REQUIRE(curve_density_max(curves) == Approx(0.4).margin(1e-12));
  REQUIRE(curve_density_max({}) == Approx(0.1).margin(1e-12));
  REQUIRE(curve_tick_interval(0.35) == Approx(0.1).margin(1e-12));
  REQUIRE(curve_tick_interval(1.0) == Approx(0.2).margin(1e-12));
  REQUIRE(curve_tick_interval(0.05) == Approx(0.01).margin(1e-12));
}
