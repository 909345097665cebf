#include "analysis/masks/mask_sweep.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "kernels/error.h"

namespace attnscope::masks {

std::vector<SweepPoint> sweep(const MaskLab& lab, const MaskPlan& shape, const MaskFamily& family,
                              std::span<const double> densities, const std::function<void(SweepPoint&)>& on_point) {
  if (std::holds_alternative<DenseMask>(family)) throw Error("mask sweep", "a dense family has no budget to sweep");
  std::vector<SweepPoint> points;
  for (double d : densities) {
    const HeadMask mask{family, d};
    check_mask(mask, "mask sweep, density " + std::to_string(d));
    MaskPlan plan(shape.num_layers(), shape.num_heads(), mask);
    SweepPoint point;
    point.mask = mask;
    point.requested_density = d;
    point.heads = lab.evaluate(plan);
    point.summary = summarize(point.heads);
    if (on_point) on_point(point);
    points.push_back(std::move(point));
  }
  return points;
}

std::vector<std::size_t> pareto_front(std::span<const double> cost, std::span<const double> loss) {
  if (cost.size() != loss.size()) throw Error("pareto front", "costs and losses differ in number");
  std::vector<std::size_t> order(cost.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return cost[a] < cost[b] || (cost[a] == cost[b] && (loss[a] < loss[b] || (loss[a] == loss[b] && a < b)));
  });
  // Walking by increasing cost, a point is on the front when its loss is below every loss so far.
  std::vector<std::size_t> front;
  double best = INFINITY;
  for (std::size_t i : order)
    if (loss[i] < best) front.push_back(i), best = loss[i];
  return front;
}

std::vector<double> parse_densities(std::string_view list, const std::string& option) {
  std::vector<double> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    const std::string item(list.substr(start, end - start));
    std::size_t used = 0;
    double d = 0;
    try {
      d = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size() || !(d > 0 && d <= 1))
      throw Error(option, "\"" + item + "\" is not a number in (0, 1]");
    out.push_back(d);
    start = end + 1;
    if (end == list.size()) break;
  }
  return out;
}

}  // namespace attnscope::masks
