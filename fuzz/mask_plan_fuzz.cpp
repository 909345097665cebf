// Fuzz target: our mask plan file (analysis/masks/mask_plan.h) as read_plan_file reads
// it; a plan that reads must describe itself and survive a round trip unchanged.
#include "analysis/io/json_file.h"
#include "analysis/masks/mask_plan.h"
#include "fuzz/fuzz_support.h"
#include "kernels/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace fz = attnscope::fuzz;
  namespace masks = attnscope::masks;
  try {
    const auto json = attnscope::io::parse_json_text(fz::text(data, size), "plan.json");
    const masks::MaskPlan plan = masks::plan_from_json(json, "plan.json");
    for (int layer = 0; layer < plan.num_layers(); ++layer)
      for (const masks::HeadMask& mask : plan.distinct_masks(layer)) {
        masks::describe(mask);
        // The budgets at a few sequence lengths, as the mask builders take them.
        if (const auto* s = std::get_if<masks::StreamingMask>(&mask.family))
          for (const int64_t n : {int64_t(1), int64_t(1) << 17, int64_t(1) << 40})
            fz::expect(s->window.at(n) >= 0, "a window is never negative");
      }
    const masks::MaskPlan again = masks::plan_from_json(masks::plan_to_json(plan), "plan.json (written back)");
    fz::expect(again == plan, "a plan read back from its own JSON is the same plan");
  } catch (const attnscope::Error&) {
  }
  return 0;
}
