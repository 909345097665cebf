// Selectors that read only the call's shape (KeySelector::reads_views false: the CUDA
// backend hands them no q, k or v): streaming and window masks say so and build the same
// sets without views as with them, density budgets included; the others need the views,
// and a shape-only head refuses to compute attention.
#include <catch2/catch.hpp>

#include "analysis/masks/mask_selector.h"
#include "kernels/error.h"
#include "tests/unit/kernels/kernel_test_support.h"

namespace k = attnscope::kernels;
namespace am = attnscope::masks;
using attnscope::testing::random_values;
using Catch::Contains;

namespace {

struct Call {
  int64_t rows = 300, first_position = 100, head_dim = 16, window = 0;
  std::vector<float> q = random_values(std::size_t(300 * 16), 1, 1.5f);
  std::vector<float> kv = random_values(std::size_t(500 * 16), 2, 1.5f);  // keys of both calls

  k::SelectionInput input(bool with_views) const {
    k::SelectionInput in;
    if (with_views) {
      in.q = q.data(), in.k = kv.data(), in.v = kv.data();
      in.q_stride = in.k_stride = in.v_stride = head_dim;
    }
    in.rows = rows, in.first_position = first_position, in.head_dim = head_dim, in.model_window = window;
    in.scale = 0.25f;
    return in;
  }
};

am::HeadMask mask(const am::MaskFamily& family, std::optional<double> density = std::nullopt) {
  return {family, density};
}

}  // namespace

TEST_CASE("Streaming and window selectors read only the call's shape; score-based ones read the views", "[masks]") {
  CHECK_FALSE(am::MaskSelector(mask(am::StreamingMask{4, {0, 0.25}})).reads_views());
  CHECK_FALSE(am::MaskSelector(mask(am::WindowMask{{64, 0}})).reads_views());
  CHECK_FALSE(am::MaskSelector(mask(am::StreamingMask{4, {64, 0}}, 0.2)).reads_views());
  CHECK(am::MaskSelector(mask(am::TopKMask{8})).reads_views());
  CHECK(am::MaskSelector(mask(am::VerticalSlashMask{40, 110, 64, 30, 100})).reads_views());
  CHECK(am::MaskSelector(mask(am::QuestMask{16, 64, 32})).reads_views());
}

TEST_CASE("A shape-only selection equals the selection made with the views", "[masks]") {
  for (const int64_t window : {int64_t(0), int64_t(90)}) {
    Call call;
    call.window = window;
    for (const am::HeadMask& m : {mask(am::StreamingMask{4, {0, 0.25}}), mask(am::WindowMask{{37, 0}}),
                                  mask(am::StreamingMask{4, {64, 0}}, 0.2)}) {
      INFO(am::describe(m) << ", model window " << window);
      am::MaskSelector without(m), with(m);
      // Two calls: the prefill resolves spans and densities, the next builds on them.
      CHECK(without.select(call.input(false)) == with.select(call.input(true)));
      Call step;
      step.rows = 1, step.first_position = 400, step.window = window;
      CHECK(without.select(step.input(false)) == with.select(step.input(true)));
    }
  }
}

TEST_CASE("A shape-only head refuses to compute attention; a partial set of views is refused", "[masks]") {
  const Call call;
  k::SelectionInput in = call.input(false);
  const am::HeadAttention head(in);
  CHECK(head.visible_entries() == 300 * 100 + 300 * 301 / 2);
  CHECK_THROWS_WITH(head.lse(), Contains("shape-only"));
  CHECK_THROWS_WITH(am::MaskSelector(mask(am::TopKMask{8})).select(in), Contains("shape-only"));
  in.q = call.q.data();
  in.q_stride = 16;
  CHECK_THROWS_WITH(am::HeadAttention(in), Contains("view is missing"));
}
