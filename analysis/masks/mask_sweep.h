#pragma once
// Budget sweeps and the Pareto front (docs/mask-lab.md, "Sweeps"): one family over a range
// of densities, every recorded head at each, summarised per point (density really used,
// recall, output error; the end-to-end numbers when the caller adds them); the points no
// other point beats on both cost (density) and loss.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "analysis/masks/end_to_end.h"
#include "analysis/masks/mask_lab.h"

namespace attnscope::masks {

struct SweepPoint {
  HeadMask mask;             // the family with the requested density
  double requested_density = 0;
  PlanSummary summary;       // over the recorded heads
  std::vector<HeadResult> heads;
  std::optional<EndToEnd> end_to_end;
};

// `family` at each density in `densities` (each in (0, 1]); `on_point` (optional) sees each
// point as it completes (progress, end-to-end runs). attnscope::Error for a density out of
// range or a dense family.
std::vector<SweepPoint> sweep(const MaskLab& lab, const MaskPlan& shape, const MaskFamily& family,
                              std::span<const double> densities,
                              const std::function<void(SweepPoint&)>& on_point = {});

// Indices of the points on the Pareto front of (cost, loss), both minimised: a point is on
// it when no other point has cost <= and loss <= with one strictly less. Sorted by cost.
std::vector<std::size_t> pareto_front(std::span<const double> cost, std::span<const double> loss);

// "0.05,0.1,0.2": densities (or other shares in (0, 1]) from the CLI option `option`;
// attnscope::Error naming the option and the bad item.
std::vector<double> parse_densities(std::string_view list, const std::string& option = "--densities");

}  // namespace attnscope::masks
