#pragma once
// The needle-in-a-haystack heatmap: a grid of cells (columns: context lengths, rows:
// needle depths, top to bottom) coloured red (0) to green (1) with the value printed in
// each, a title, tick labels and axis labels, and a colour bar with its ticks and label.
#include <string>
#include <vector>

#include "plugins/support/canvas.h"

namespace attnscope::plugin_support {

struct HeatmapChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<std::string> columns;         // x tick labels, left to right
  std::vector<std::string> rows;            // y tick labels, top to bottom
  std::vector<std::vector<double>> values;  // [row][column]; NaN: no value (grey, "-")
  std::string legend_label;                 // what the colour shows
  double min = 0;                           // the colour scale's ends: red at min, green at max
  double max = 1;
  int cell_decimals = 2;                    // digits of the value printed in a cell; -1: none
};

// std::invalid_argument for values that are not rows x columns, no cells, or max <= min.
Canvas draw_heatmap(const HeatmapChart& chart);

}  // namespace attnscope::plugin_support
