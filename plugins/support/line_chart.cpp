#include "plugins/support/line_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "plugins/support/bitmap_font.h"
#include "plugins/support/chart_style.h"

namespace attnscope::plugin_support {
namespace {

constexpr int kPad = 16;
constexpr int kPlotWidth = 440;
constexpr int kPlotHeight = 300;
constexpr int kPanelGap = 40;
constexpr int kSwatch = 34;  // the legend's line sample

struct Range {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (std::isfinite(v)) min = std::min(min, v), max = std::max(max, v);
  }
  bool empty() const { return !(min <= max); }
};

// The axis range: the data's (and the panel's fixed ends), widened to whole ticks.
std::vector<double> axis_ticks(Range r) {
  if (r.empty()) r = {0, 1};
  if (r.max == r.min) r = {r.min - 0.5, r.max + 0.5};
  const std::vector<double> inner = nice_ticks(r.min, r.max, 5);
  const double step = inner.size() > 1 ? inner[1] - inner[0] : r.max - r.min;
  double first = inner.empty() ? r.min : inner.front();
  double last = inner.empty() ? r.max : inner.back();
  if (first > r.min + step * 1e-9) first -= step;
  if (last < r.max - step * 1e-9) last += step;
  std::vector<double> ticks;
  for (long i = 0, n = std::lround((last - first) / step); i <= n; ++i) ticks.push_back(first + double(i) * step);
  return ticks;
}

struct PanelLayout {
  int left = 0;  // the panel's left edge
  int plot_left = 0, plot_top = 0;
  std::vector<double> x_ticks, y_ticks;
  std::vector<std::string> y_labels;
};

}  // namespace

Canvas draw_line_chart(const LineChart& c) {
  if (c.panels.empty()) throw std::invalid_argument("a line chart needs at least one panel");
  const int ascent = kGlyphAscent * kTextScale;
  const int title_h = c.title.empty() ? 0 : ascent + 18;
  const int panel_title_h = ascent + 12;

  std::vector<PanelLayout> layouts;
  int x = kPad;
  for (const LinePanel& p : c.panels) {
    Range xr, yr;
    for (const LineSeries& s : p.series) {
      if (s.x.size() != s.y.size()) throw std::invalid_argument("series " + s.name + " has x and y of different lengths");
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i])) xr.add(s.x[i]), yr.add(s.y[i]);
    }
    yr.add(p.y_min);
    yr.add(p.y_max);
    PanelLayout l;
    l.left = x;
    l.x_ticks = axis_ticks(xr);
    l.y_ticks = axis_ticks(yr);
    int label_w = 0;
    for (double t : l.y_ticks) {
      l.y_labels.push_back(short_number(t));
      label_w = std::max(label_w, text_width(l.y_labels.back(), kTextScale));
    }
    l.plot_left = x + ascent + 12 + label_w + 8;
    l.plot_top = kPad + title_h + panel_title_h;
    x = l.plot_left + kPlotWidth + kPanelGap;
    layouts.push_back(l);
  }
  const int width = x - kPanelGap + kPad + 24;  // room for half the last x tick's label

  // The legend: entries in rows that fit the width.
  const std::vector<LineSeries>& named = c.panels.front().series;
  std::vector<std::pair<int, int>> entry_at;  // (x, row)
  int legend_x = kPad, legend_rows = named.empty() ? 0 : 1;
  for (const LineSeries& s : named) {
    const int w = kSwatch + 8 + text_width(s.name, kTextScale) + 24;
    if (legend_x > kPad && legend_x + w > width - kPad) legend_x = kPad, ++legend_rows;
    entry_at.emplace_back(legend_x, legend_rows - 1);
    legend_x += w;
  }
  const int axis_bottom = kPad + title_h + panel_title_h + kPlotHeight;
  const int legend_top = axis_bottom + 10 + ascent + 12 + ascent + 20;
  const int row_h = ascent + 14;
  Canvas canvas(width, legend_top + legend_rows * row_h + kPad);
  if (!c.title.empty()) canvas.text(kPad, kPad, c.title, kBlack, kTextScale);

  for (size_t pi = 0; pi < c.panels.size(); ++pi) {
    const LinePanel& p = c.panels[pi];
    const PanelLayout& l = layouts[pi];
    const double x0 = l.x_ticks.front(), x1 = l.x_ticks.back(), y0 = l.y_ticks.front(), y1 = l.y_ticks.back();
    const auto px = [&](double v) { return l.plot_left + (v - x0) / (x1 - x0) * (kPlotWidth - 1); };
    const auto py = [&](double v) { return l.plot_top + (y1 - v) / (y1 - y0) * (kPlotHeight - 1); };
    canvas.text(l.plot_left + kPlotWidth / 2, kPad + title_h, p.title, kBlack, kTextScale, Align::Centre);
    for (size_t i = 0; i < l.y_ticks.size(); ++i) {
      const int y = int(std::lround(py(l.y_ticks[i])));
      canvas.fill_rect(l.plot_left, y, kPlotWidth, 1, kGridColour);
      canvas.fill_rect(l.plot_left - 5, y, 5, 1, kAxisColour);
      canvas.text(l.plot_left - 8, y, l.y_labels[i], kBlack, kTextScale, Align::End, Align::Centre);
    }
    for (double t : l.x_ticks) {
      const int xx = int(std::lround(px(t)));
      canvas.fill_rect(xx, l.plot_top, 1, kPlotHeight, kGridColour);
      canvas.fill_rect(xx, l.plot_top + kPlotHeight, 1, 5, kAxisColour);
      canvas.text(xx, l.plot_top + kPlotHeight + 10, short_number(t), kBlack, kTextScale, Align::Centre);
    }
    canvas.outline_rect(l.plot_left, l.plot_top, kPlotWidth, kPlotHeight, kAxisColour);
    canvas.text(l.plot_left + kPlotWidth / 2, l.plot_top + kPlotHeight + 10 + ascent + 12, p.x_label, kBlack, kTextScale,
                Align::Centre);
    canvas.text_up(l.left + ascent / 2, l.plot_top + kPlotHeight / 2, p.y_label, kBlack, kTextScale);
    for (size_t si = 0; si < p.series.size(); ++si) {
      const LineSeries& s = p.series[si];
      const Rgb colour = series_colour(si);
      for (size_t i = 0; i + 1 < s.x.size(); ++i)
        if (std::isfinite(s.y[i]) && std::isfinite(s.y[i + 1]))
          canvas.line(px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), colour, 2);
      for (size_t i = 0; i < s.x.size(); ++i)
        if (std::isfinite(s.y[i])) canvas.marker(px(s.x[i]), py(s.y[i]), series_marker(si), 4, colour);
    }
  }

  for (size_t si = 0; si < named.size(); ++si) {
    const auto [ex, row] = entry_at[si];
    const int y = legend_top + row * row_h + ascent / 2;
    canvas.line(ex, y, ex + kSwatch, y, series_colour(si), 2);
    canvas.marker(ex + kSwatch / 2.0, y, series_marker(si), 4, series_colour(si));
    canvas.text(ex + kSwatch + 8, y, named[si].name, kBlack, kTextScale, Align::Start, Align::Centre);
  }
  return canvas;
}

}  // namespace attnscope::plugin_support
