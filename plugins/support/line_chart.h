#pragma once
// Line plots side by side (e.g. recall and output error against density), one line with
// markers per series in the same colour on every panel, and one legend under the panels.
#include <string>
#include <vector>

#include "plugins/support/canvas.h"

namespace attnscope::plugin_support {

struct LineSeries {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;  // NaN breaks the line
};

struct LinePanel {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<LineSeries> series;
  double y_min = 0;  // the y axis covers at least [y_min, y_max]; NaN: from the data alone
  double y_max = 1;
};

struct LineChart {
  std::string title;
  std::vector<LinePanel> panels;  // the legend names the first panel's series
};

// std::invalid_argument for no panels, or a series whose x and y differ in length.
Canvas draw_line_chart(const LineChart& chart);

}  // namespace attnscope::plugin_support
