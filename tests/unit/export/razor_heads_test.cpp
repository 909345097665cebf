// RazorAttention head files (golden-stick): the writer's bytes (indent 3), the selection
// by echo and induction ratios with golden-stick's rounding and ties, the union of both
// lists, the plan, and malformed files refused.
#include <catch2/catch.hpp>

#include "analysis/export/razor_heads.h"
#include "export_test_support.h"
#include "kernels/error.h"

namespace ex = attnscope::exports;
namespace am = attnscope::masks;
using namespace attnscope::exports::testing;
using Catch::Contains;

namespace {

std::string razor_error(const std::string& text) {
  try {
    ex::parse_razor(text, tiny_shape(), "heads.json");
  } catch (const attnscope::Error& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("The RazorAttention export of the known profile matches its golden file", "[export]") {
  // 6 KV heads: round(6 x 0.2) = 1 echo head (layer 2 KV 0: query head 9's 0.5) and
  // round(6 x 0.34) = 2 induction heads (layer 1 KV 0 and KV 1: 0.4 each).
  const ex::RazorHeads heads = ex::razor_from_profile(known_profile(), tiny_shape(), {0.2, 0.34});
  CHECK(heads == ex::RazorHeads{{1, {0, 1}}, {2, {0}}});
  check_golden("razor/retrieval_heads.json", ex::razor_text(heads, tiny_shape()));
}

TEST_CASE("RazorAttention's head count rounds half to even as Python's round does", "[export]") {
  // Induction per KV head: layer 1 0.4 and 0.4, layer 2 0.022 and 0.018, layer 0 0.006
  // and 0.002. 6 x 0.75 = 4.5 rounds to 4, 6 x 0.25 = 1.5 to 2.
  CHECK(ex::razor_from_profile(known_profile(), tiny_shape(), {0.0, 0.75}) == ex::RazorHeads{{1, {0, 1}}, {2, {0, 1}}});
  CHECK(ex::razor_from_profile(known_profile(), tiny_shape(), {0.0, 0.25}) == ex::RazorHeads{{1, {0, 1}}});
}

TEST_CASE("RazorAttention keeps every KV head tied at the cut", "[export]") {
  attnscope::profile::HeadProfile p = known_profile();
  for (int l = 0; l < 3; ++l)
    for (int h = 0; h < 4; ++h) {
      p.set(attnscope::profile::metric::echo_score, l, h, 0.0);
      p.set(attnscope::profile::metric::induction_score, l, h, l == 0 ? 0.3 : 0.1);
    }
  // One induction head asked for; both of layer 0's KV heads share the top value.
  CHECK(ex::razor_from_profile(p, tiny_shape(), {0.0, 0.17}) == ex::RazorHeads{{0, {0, 1}}});
}

TEST_CASE("A RazorAttention file written and read back is unchanged", "[export]") {
  const ex::RazorHeads heads{{0, {1}}, {2, {0, 1}}};
  CHECK(ex::parse_razor(ex::razor_text(heads, tiny_shape()), tiny_shape(), "x") == heads);
  CHECK(ex::razor_text(heads, tiny_shape()) == "{\n   \"0\": [\n      1\n   ],\n   \"2\": [\n      0,\n      1\n   ]\n}");
}

TEST_CASE("RazorAttention heads become a plan of dense query groups and sink + local streaming", "[export]") {
  const am::MaskPlan plan = ex::razor_to_plan({{2, {1}}}, tiny_shape());
  CHECK(plan.at({2, 2}) == am::HeadMask{am::DenseMask{}, std::nullopt});
  CHECK(plan.at({2, 3}) == am::HeadMask{am::DenseMask{}, std::nullopt});
  CHECK(plan.at({2, 1}) == am::HeadMask{am::StreamingMask{4, {256, 0}}, std::nullopt});
  CHECK(plan.at({0, 2}) == am::HeadMask{am::StreamingMask{4, {256, 0}}, std::nullopt});
}

TEST_CASE("Malformed RazorAttention files are refused with the layer and the problem", "[export]") {
  CHECK(razor_error("{\"0\": [1], \"2\": []}") == "no error");
  CHECK_THAT(razor_error("{\"3\": [0]}"), Contains("heads.json: the key \"3\" is not a layer of the model"));
  CHECK_THAT(razor_error("{\"0\": [2]}"), Contains("layer \"0\": KV head 2 is outside the model's 2 KV heads"));
  CHECK_THAT(razor_error("{\"0\": [1, 1]}"), Contains("KV head 1 is listed twice"));
  CHECK_THAT(razor_error("{\"0\": [1.0]}"), Contains("layer \"0\"[0] must be an integer"));
  CHECK_THAT(razor_error("{\"0\": 1}"), Contains("layer \"0\" must be a list"));
  CHECK_THAT(razor_error("{\"x\": [1]}"), Contains("the key \"x\" is not a layer"));
  CHECK_THAT(razor_error("{\"0\": [1"), Contains("heads.json: is not valid JSON"));
  CHECK_THAT(razor_error("[0]"), Contains("must hold one JSON object"));
}

TEST_CASE("A profile without echo scores has no RazorAttention heads", "[export]") {
  attnscope::profile::HeadProfile p(3, 4);
  CHECK_THROWS_WITH(ex::razor_from_profile(p, tiny_shape()), Contains("layer 0 head 0 has no echo_score"));
}
