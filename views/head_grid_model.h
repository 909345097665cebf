#pragma once
// The overview's data: a layer x head grid of per-head metrics, one of them chosen to
// colour the cells. Metrics are columns added by name, so those measured later (the
// profile's retrieval score, streaming gate, pattern class, density) join the ones a
// capture gives today without changing the grid.
#include <optional>
#include <string>
#include <vector>

#include "analysis/capture/head_summary.h"

namespace attnscope::views {

struct HeadMetricColumn {
  std::string name;            // "sink mass"
  std::string description;     // one line for the tooltip's legend
  std::vector<double> values;  // [layer * heads + head]; NaN: not measured
  double domain_min = 0;       // the colour ramp's ends
  double domain_max = 1;
  int decimals = 3;            // how the hover text prints it
  // A class per head (the profile's pattern): values are indices into it, coloured apart.
  std::vector<std::string> categories{};
  // Values around 0 (differences between runs): coloured blue below, red above.
  bool diverging = false;

  bool categorical() const { return !categories.empty(); }
  // The value as the hover text and the cells write it ("n/a" when missing).
  std::string format(double value) const;
};

struct GridCell {
  int layer = 0;
  int head = 0;
  bool operator==(const GridCell&) const = default;
};

// Where the cells are drawn: layers down, heads across, labels left and top.
struct GridGeometry {
  double left = 0, top = 0;
  double cell_width = 0, cell_height = 0;
  int layers = 0, heads = 0;
  // Cells as large as `width` x `height` allows after `label_margin` pixels on the left
  // and top, no larger than max_cell.
  static GridGeometry fit(double width, double height, int layers, int heads, double label_margin, double max_cell);
  std::optional<GridCell> hit(double x, double y) const;
};

class HeadGridModel {
 public:
  HeadGridModel() = default;
  HeadGridModel(int layers, int heads);

  // The capture's metrics: sink mass, local mass, entropy, top-1 on a sink, top-1
  // distance, heaviest-key share. Heads missing from `summaries` are NaN.
  static HeadGridModel from_summaries(const std::vector<capture::HeadSummary>& summaries, int layers, int heads);

  int layers() const { return layers_; }
  int heads() const { return heads_; }

  // Adds a column (its values must have layers * heads entries: attnscope::Error otherwise).
  void add_metric(HeadMetricColumn column);
  // Replaces the column of the same name, or adds it (the same checks as add_metric).
  void set_metric(HeadMetricColumn column);
  int metric_count() const { return int(columns_.size()); }
  const HeadMetricColumn& metric(int index) const { return columns_.at(size_t(index)); }
  std::optional<int> find_metric(const std::string& name) const;

  void select_metric(int index);
  int selected_metric() const { return selected_; }

  const HeadMetricColumn& selected() const { return columns_.at(size_t(selected_)); }
  // The selected metric's value and its place in the metric's domain ([0, 1], NaN when missing).
  double value(int layer, int head) const;
  double normalized(int layer, int head) const;
  // Every metric of one head, one per line: the hover text.
  std::string describe(int layer, int head) const;

 private:
  int layers_ = 0;
  int heads_ = 0;
  int selected_ = 0;
  std::vector<HeadMetricColumn> columns_;
};

}  // namespace attnscope::views
