#include "plugins/support/heatmap_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "plugins/support/bitmap_font.h"
#include "plugins/support/chart_style.h"

namespace attnscope::plugin_support {
namespace {

constexpr int kPad = 16;
constexpr int kBarWidth = 22;

int widest(const std::vector<std::string>& labels) {
  int w = 0;
  for (const std::string& l : labels) w = std::max(w, text_width(l, kTextScale));
  return w;
}

std::string cell_text(double value, int decimals) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// Dark text on light cells, white on dark ones (relative luminance).
Rgb text_on(Rgb cell) { return 0.2126 * cell.r + 0.7152 * cell.g + 0.0722 * cell.b > 140 ? kBlack : kWhite; }

}  // namespace

Canvas draw_heatmap(const HeatmapChart& c) {
  const size_t n_rows = c.rows.size(), n_cols = c.columns.size();
  if (n_rows == 0 || n_cols == 0) throw std::invalid_argument("a heatmap needs at least one row and one column");
  if (c.values.size() != n_rows) throw std::invalid_argument("a heatmap's values need one list per row");
  for (const auto& row : c.values)
    if (row.size() != n_cols) throw std::invalid_argument("a heatmap's rows need one value per column");
  if (!(c.max > c.min)) throw std::invalid_argument("a heatmap's scale needs max > min");

  const int ascent = kGlyphAscent * kTextScale;
  const int sample_text = text_width(cell_text(c.max, std::max(c.cell_decimals, 0)), kTextScale);
  const int cell_w = std::max({64, widest(c.columns) + 12, sample_text + 12});
  // Rows tall enough for the vertical labels beside the grid.
  const int vertical_text = std::max(text_width(c.y_label, kTextScale), text_width(c.legend_label, kTextScale)) + 12;
  const int cell_h = std::max({36, ascent + 16, (vertical_text + int(n_rows) - 1) / int(n_rows)});
  const std::vector<double> legend_ticks = nice_ticks(c.min, c.max, 4);
  std::vector<std::string> legend_labels;
  for (double t : legend_ticks) legend_labels.push_back(short_number(t));

  const int title_h = c.title.empty() ? 0 : ascent + 16;
  const int grid_left = kPad + ascent + 12 + widest(c.rows) + 10;
  const int grid_top = kPad + title_h;
  const int grid_w = int(n_cols) * cell_w, grid_h = int(n_rows) * cell_h;
  const int bar_left = grid_left + grid_w + 28;
  const int legend_text_left = bar_left + kBarWidth + 10;
  const int legend_label_x = legend_text_left + widest(legend_labels) + 12 + ascent / 2;
  const int width = std::max(legend_label_x + ascent / 2 + kPad, grid_left + text_width(c.title, kTextScale) + kPad);
  const int height = grid_top + grid_h + 10 + ascent + 14 + ascent + kPad + 4;
  Canvas canvas(width, height);

  if (!c.title.empty()) canvas.text(grid_left, kPad, c.title, kBlack, kTextScale);
  for (size_t r = 0; r < n_rows; ++r)
    for (size_t col = 0; col < n_cols; ++col) {
      const double v = c.values[r][col];
      const Rgb fill = red_yellow_green(std::isnan(v) ? v : (v - c.min) / (c.max - c.min));
      const int x = grid_left + int(col) * cell_w, y = grid_top + int(r) * cell_h;
      canvas.fill_rect(x, y, cell_w, cell_h, fill);
      canvas.outline_rect(x, y, cell_w, cell_h, kWhite);  // seams between cells
      if (c.cell_decimals >= 0)
        canvas.text(x + cell_w / 2, y + cell_h / 2, cell_text(v, c.cell_decimals), text_on(fill), kTextScale,
                    Align::Centre, Align::Centre);
    }
  canvas.outline_rect(grid_left - 1, grid_top - 1, grid_w + 2, grid_h + 2, kAxisColour);

  // Ticks: a row's label at its middle, a column's under its middle.
  for (size_t r = 0; r < n_rows; ++r)
    canvas.text(grid_left - 10, grid_top + int(r) * cell_h + cell_h / 2, c.rows[r], kBlack, kTextScale, Align::End,
                Align::Centre);
  for (size_t col = 0; col < n_cols; ++col)
    canvas.text(grid_left + int(col) * cell_w + cell_w / 2, grid_top + grid_h + 10, c.columns[col], kBlack, kTextScale,
                Align::Centre, Align::Start);
  canvas.text(grid_left + grid_w / 2, grid_top + grid_h + 10 + ascent + 14, c.x_label, kBlack, kTextScale, Align::Centre);
  canvas.text_up(kPad + ascent / 2, grid_top + grid_h / 2, c.y_label, kBlack, kTextScale);

  // The colour bar: max at the top.
  for (int y = 0; y < grid_h; ++y) {
    const double t = 1.0 - double(y) / std::max(grid_h - 1, 1);
    canvas.fill_rect(bar_left, grid_top + y, kBarWidth, 1, red_yellow_green(t));
  }
  canvas.outline_rect(bar_left - 1, grid_top - 1, kBarWidth + 2, grid_h + 2, kAxisColour);
  for (size_t i = 0; i < legend_ticks.size(); ++i) {
    const int y = grid_top + int(std::lround((c.max - legend_ticks[i]) / (c.max - c.min) * (grid_h - 1)));
    canvas.fill_rect(bar_left + kBarWidth - 6, y, 6, 1, kAxisColour);  // inside the bar: outside it reads as a minus
    canvas.text(legend_text_left, y, legend_labels[i], kBlack, kTextScale, Align::Start, Align::Centre);
  }
  canvas.text_up(legend_label_x, grid_top + grid_h / 2, c.legend_label, kBlack, kTextScale);
  return canvas;
}

}  // namespace attnscope::plugin_support
