#include "views/head_grid_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

namespace attnscope::views {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

using Values = std::map<std::string, std::vector<double>>;

// Numbers per metric name, [layer * heads + head].
Values numbers_of(const std::vector<store::HeadMetric>& metrics, int layers, int heads) {
  Values out;
  for (const auto& m : metrics) {
    if (m.is_text() || m.layer < 0 || m.layer >= layers || m.head < 0 || m.head >= heads) continue;
    auto& v = out.try_emplace(m.name, size_t(layers) * size_t(heads), kNaN).first->second;
    v[size_t(m.layer) * size_t(heads) + size_t(m.head)] = m.number();
  }
  return out;
}

HeadMetricColumn number_column(const std::string& name, std::vector<double> values) {
  HeadMetricColumn c{name, "stored per-head value", std::move(values), 0, 1e-9, 3};
  for (double v : c.values)
    if (std::isfinite(v)) c.domain_min = std::min(c.domain_min, v), c.domain_max = std::max(c.domain_max, v);
  return c;
}

}  // namespace

HeadGridModel grid_from_metrics(const std::vector<store::HeadMetric>& metrics, int layers, int heads) {
  HeadGridModel grid(layers, heads);
  std::set<std::string> names;
  for (const auto& m : metrics) names.insert(m.name);
  Values numbers = numbers_of(metrics, layers, heads);
  for (const std::string& name : names) {
    if (auto it = numbers.find(name); it != numbers.end()) {
      grid.add_metric(number_column(name, std::move(it->second)));
      continue;
    }
    // A text metric: its distinct texts, in byte order, are the classes.
    HeadMetricColumn c{name, "stored class of each head", std::vector<double>(size_t(layers) * size_t(heads), kNaN), 0, 1, 0};
    std::set<std::string> texts;
    for (const auto& m : metrics)
      if (m.name == name && m.is_text()) texts.insert(m.text());
    c.categories.assign(texts.begin(), texts.end());
    for (const auto& m : metrics)
      if (m.name == name && m.is_text() && m.layer >= 0 && m.layer < layers && m.head >= 0 && m.head < heads)
        c.values[size_t(m.layer) * size_t(heads) + size_t(m.head)] =
            double(std::lower_bound(c.categories.begin(), c.categories.end(), m.text()) - c.categories.begin());
    c.domain_max = std::max<double>(1, double(c.categories.size()) - 1);
    grid.add_metric(std::move(c));
  }
  return grid;
}

HeadGridModel grid_from_differences(const std::vector<store::HeadMetric>& a, const std::vector<store::HeadMetric>& b,
                                    int layers, int heads) {
  HeadGridModel grid(layers, heads);
  const Values va = numbers_of(a, layers, heads), vb = numbers_of(b, layers, heads);
  for (const auto& [name, first] : va) {
    const auto it = vb.find(name);
    if (it == vb.end()) continue;
    HeadMetricColumn c{name + " b-a", "second run minus first run", std::vector<double>(first.size(), kNaN), 0, 0, 3};
    c.diverging = true;
    double largest = 1e-9;
    for (size_t i = 0; i < first.size(); ++i) {
      const double d = it->second[i] - first[i];  // NaN when either is missing
      c.values[i] = d;
      if (std::isfinite(d)) largest = std::max(largest, std::fabs(d));
    }
    c.domain_min = -largest;
    c.domain_max = largest;
    grid.add_metric(std::move(c));
  }
  return grid;
}

void set_mask_metrics(HeadGridModel& grid, const std::vector<masks::HeadResult>& results) {
  const size_t cells = size_t(grid.layers()) * size_t(grid.heads());
  std::vector<double> recall(cells, kNaN), error(cells, kNaN), density(cells, kNaN), method(cells, kNaN);
  std::vector<std::string> methods;  // in order of first use
  for (const auto& r : results) {
    if (r.at.layer < 0 || r.at.layer >= grid.layers() || r.at.head < 0 || r.at.head >= grid.heads()) continue;
    const size_t i = size_t(r.at.layer) * size_t(grid.heads()) + size_t(r.at.head);
    recall[i] = r.evaluation.recall;
    error[i] = r.evaluation.output_rel_l2;
    density[i] = r.evaluation.density;
    const std::string name(masks::method_name(r.mask.family));
    auto it = std::find(methods.begin(), methods.end(), name);
    if (it == methods.end()) it = methods.insert(methods.end(), name);
    method[i] = double(it - methods.begin());
  }
  double worst = 1e-9;
  for (double e : error)
    if (std::isfinite(e)) worst = std::max(worst, e);
  grid.set_metric({kMaskRecall, "share of the head's attention the mask keeps (mean over rows)", std::move(recall), 0,
                   1, 3});
  grid.set_metric({kMaskError, "relative L2 of the head's output under the mask", std::move(error), 0, worst, 3});
  grid.set_metric({kMaskDensity, "share of the visible entries the mask keeps", std::move(density), 0, 1, 3});
  const double classes = std::max<double>(1, double(methods.size()) - 1);
  grid.set_metric({kMaskMethod, "the mask family the plan gives the head", std::move(method), 0, classes, 0, methods});
}

}  // namespace attnscope::views
