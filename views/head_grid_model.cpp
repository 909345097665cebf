#include "views/head_grid_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "kernels/error.h"

namespace attnscope::views {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Largest finite value, at least `floor` (a ramp needs some width).
double finite_max(const std::vector<double>& values, double floor) {
  double m = floor;
  for (double v : values)
    if (std::isfinite(v)) m = std::max(m, v);
  return m;
}

}  // namespace

std::string HeadMetricColumn::format(double v) const {
  if (!std::isfinite(v)) return "n/a";
  if (categorical()) {
    const auto i = int64_t(v);
    return i >= 0 && i < int64_t(categories.size()) ? categories[size_t(i)] : "n/a";
  }
  char number[32];
  std::snprintf(number, sizeof number, diverging ? "%+.*f" : "%.*f", decimals, v);
  return number;
}

GridGeometry GridGeometry::fit(double width, double height, int layers, int heads, double label_margin,
                               double max_cell) {
  GridGeometry g;
  g.layers = layers;
  g.heads = heads;
  g.left = label_margin;
  g.top = label_margin;
  if (layers <= 0 || heads <= 0) return g;
  const double cell = std::min({(width - label_margin) / heads, (height - label_margin) / layers, max_cell});
  g.cell_width = g.cell_height = std::max(cell, 1.0);
  return g;
}

std::optional<GridCell> GridGeometry::hit(double x, double y) const {
  if (cell_width <= 0 || cell_height <= 0) return std::nullopt;
  const double col = std::floor((x - left) / cell_width);
  const double row = std::floor((y - top) / cell_height);
  if (col < 0 || row < 0 || col >= heads || row >= layers) return std::nullopt;
  return GridCell{int(row), int(col)};
}

HeadGridModel::HeadGridModel(int layers, int heads) : layers_(layers), heads_(heads) {}

HeadGridModel HeadGridModel::from_summaries(const std::vector<capture::HeadSummary>& summaries, int layers,
                                            int heads) {
  HeadGridModel model(layers, heads);
  const size_t cells = size_t(layers) * size_t(heads);
  auto column = [&](std::string name, std::string description, auto field, double lo, double hi, int decimals,
                    bool fit_max) {
    HeadMetricColumn c{std::move(name), std::move(description), std::vector<double>(cells, kNaN), lo, hi, decimals};
    for (const auto& s : summaries)
      if (s.layer >= 0 && s.layer < layers && s.head >= 0 && s.head < heads)
        c.values[size_t(s.layer) * size_t(heads) + size_t(s.head)] = field(s);
    if (fit_max) c.domain_max = finite_max(c.values, 1e-9);
    model.add_metric(std::move(c));
  };
  using S = capture::HeadSummary;
  column("sink mass", "mean attention on the first sink tokens", [](const S& s) { return s.sink_mass; }, 0, 1, 3,
         false);
  column("local mass", "mean attention on the local window", [](const S& s) { return s.local_mass; }, 0, 1, 3, false);
  column("entropy", "mean row entropy, nats", [](const S& s) { return s.entropy; }, 0, 1, 3, true);
  column("top-1 on sink", "share of rows whose strongest key is a sink", [](const S& s) { return s.top1_sink_fraction; },
         0, 1, 3, false);
  column("top-1 distance", "mean query - strongest key, tokens", [](const S& s) { return s.top1_mean_distance; }, 0, 1,
         1, true);
  column("heaviest-key share", "column sum of the most attended key over the rows that see it",
         [](const S& s) { return s.heaviest_key_share; }, 0, 1, 3, false);
  return model;
}

void HeadGridModel::add_metric(HeadMetricColumn column) {
  const size_t cells = size_t(layers_) * size_t(heads_);
  if (column.values.size() != cells)
    throw Error("head grid metric '" + column.name + "'",
                "has " + std::to_string(column.values.size()) + " values for " + std::to_string(cells) + " heads");
  columns_.push_back(std::move(column));
}

void HeadGridModel::set_metric(HeadMetricColumn column) {
  if (const auto index = find_metric(column.name)) {
    const size_t cells = size_t(layers_) * size_t(heads_);
    if (column.values.size() != cells)
      throw Error("head grid metric '" + column.name + "'",
                  "has " + std::to_string(column.values.size()) + " values for " + std::to_string(cells) + " heads");
    columns_[size_t(*index)] = std::move(column);
    return;
  }
  add_metric(std::move(column));
}

std::optional<int> HeadGridModel::find_metric(const std::string& name) const {
  for (size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].name == name) return int(i);
  return std::nullopt;
}

void HeadGridModel::select_metric(int index) {
  if (index >= 0 && index < metric_count()) selected_ = index;
}

double HeadGridModel::value(int layer, int head) const {
  if (columns_.empty() || layer < 0 || head < 0 || layer >= layers_ || head >= heads_) return kNaN;
  return columns_[size_t(selected_)].values[size_t(layer) * size_t(heads_) + size_t(head)];
}

double HeadGridModel::normalized(int layer, int head) const {
  const double v = value(layer, head);
  if (!std::isfinite(v)) return kNaN;
  const auto& c = columns_[size_t(selected_)];
  const double width = c.domain_max - c.domain_min;
  return width > 0 ? std::clamp((v - c.domain_min) / width, 0.0, 1.0) : 0.0;
}

std::string HeadGridModel::describe(int layer, int head) const {
  std::string text = "layer " + std::to_string(layer) + ", head " + std::to_string(head);
  if (layer < 0 || head < 0 || layer >= layers_ || head >= heads_) return text;
  for (const auto& c : columns_) {
    text += "\n" + c.name + ": " + c.format(c.values[size_t(layer) * size_t(heads_) + size_t(head)]);
  }
  return text;
}

}  // namespace attnscope::views
