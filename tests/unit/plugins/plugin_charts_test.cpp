// The bundled plugins' drawing (plugins/support): the bitmap font, the canvas, the
// needle heatmap and line charts, their colours and ticks, and CSV fields.
#include <set>

#include <catch2/catch.hpp>

#include "plugins/support/bitmap_font.h"
#include "plugins/support/canvas.h"
#include "plugins/support/chart_style.h"
#include "plugins/support/csv_text.h"
#include "plugins/support/heatmap_chart.h"
#include "plugins/support/line_chart.h"

namespace ps = attnscope::plugin_support;

namespace {

size_t count(const ps::Canvas& c, ps::Rgb colour) {
  size_t n = 0;
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x) n += c.at(x, y) == colour ? 1 : 0;
  return n;
}

// The smallest box around the pixels of `colour`: {x0, y0, x1, y1} (inclusive).
std::array<int, 4> box_of(const ps::Canvas& c, ps::Rgb colour) {
  std::array<int, 4> b{c.width(), c.height(), -1, -1};
  for (int y = 0; y < c.height(); ++y)
    for (int x = 0; x < c.width(); ++x)
      if (c.at(x, y) == colour) b = {std::min(b[0], x), std::min(b[1], y), std::max(b[2], x), std::max(b[3], y)};
  return b;
}

}  // namespace

TEST_CASE("glyphs are five columns of bits with descenders below the baseline", "[plugins]") {
  CHECK(ps::glyph_row('A', 0) == 0b01110);
  CHECK(ps::glyph_row('A', 3) == 0b11111);
  CHECK(ps::glyph_row('A', 7) == 0);           // no descender
  CHECK(ps::glyph_row('g', 8) == 0b01110);     // g's tail
  CHECK(ps::glyph_row(' ', 3) == 0);
  CHECK(ps::glyph_row('\x01', 0) == 0b11111);  // a box for what the font lacks
  CHECK(ps::glyph_row('\x01', 3) == 0b10001);
  for (char c = '!'; c <= '~'; ++c) {
    int lit = 0;
    for (int row = 0; row < ps::kGlyphHeight; ++row) lit += ps::glyph_row(c, row) != 0 ? 1 : 0;
    CAPTURE(c);
    CHECK(lit > 0);  // every printable character but space draws something
  }
}

TEST_CASE("text is as wide as its characters' advances and draws inside that box", "[plugins]") {
  CHECK(ps::text_width("", 2) == 0);
  CHECK(ps::text_width("ab", 1) == 11);
  CHECK(ps::text_width("ab", 2) == 22);
  CHECK(ps::text_width("\xc3\xa9t\xc3\xa9", 1) == 17);  // "été": three characters, not five bytes
  ps::Canvas c(100, 40);
  c.text(10, 5, "Hg", ps::kBlack, 2);
  const auto b = box_of(c, ps::kBlack);
  CHECK(b[0] == 10);
  CHECK(b[1] == 5);
  CHECK(b[2] < 10 + ps::text_width("Hg", 2));
  CHECK(b[3] == 5 + ps::kGlyphHeight * 2 - 1);  // g's descender reaches the last row
}

TEST_CASE("text turned up runs bottom to top centred on its point", "[plugins]") {
  ps::Canvas c(60, 120);
  c.text_up(30, 60, "Depth", ps::kBlack, 2);
  const auto b = box_of(c, ps::kBlack);
  const int length = ps::text_width("Depth", 2);
  CHECK(b[3] - b[1] < length);            // tall, not wide
  CHECK(b[2] - b[0] < ps::kGlyphHeight * 2);
  CHECK(std::abs((b[1] + b[3]) / 2 - 60) <= 6);
  // 'D' first: at the bottom.
  CHECK(c.at(30 - ps::kGlyphAscent, 60 + length / 2) == ps::kBlack);
}

TEST_CASE("drawing outside the canvas is clipped", "[plugins]") {
  ps::Canvas c(10, 10);
  c.fill_rect(-5, -5, 8, 8, ps::kBlack);
  c.line(-100, 5, 100, 5, ps::kBlack, 3);
  c.text(8, 8, "WWW", ps::kBlack, 3);
  CHECK(count(c, ps::kBlack) > 0);
  CHECK(c.at(-1, 0) == ps::Rgb{});
  CHECK_THROWS(ps::Canvas(0, 10));
}

TEST_CASE("the heatmap scale runs red to yellow to green and greys missing values", "[plugins]") {
  CHECK(ps::red_yellow_green(0) == ps::Rgb{215, 48, 39});
  CHECK(ps::red_yellow_green(0.5) == ps::Rgb{250, 215, 90});
  CHECK(ps::red_yellow_green(1) == ps::Rgb{26, 152, 80});
  CHECK(ps::red_yellow_green(-3) == ps::red_yellow_green(0));
  CHECK(ps::red_yellow_green(7) == ps::red_yellow_green(1));
  CHECK(ps::red_yellow_green(NAN) == ps::kMissingColour);
}

TEST_CASE("a heatmap has a cell of its value's colour per row and column and a colour bar", "[plugins]") {
  ps::HeatmapChart chart;
  chart.title = "Needle in a haystack";
  chart.x_label = "Context length (tokens)";
  chart.y_label = "Depth (%)";
  chart.columns = {"1K", "2K", "4K"};
  chart.rows = {"0", "100"};
  chart.values = {{0, 0.5, 1}, {1, NAN, 1}};
  chart.legend_label = "Accuracy";
  const ps::Canvas c = ps::draw_heatmap(chart);
  // The red cell (row 0, column 0): its first pixel is the top left one inside the
  // white seam; its row of red pixels is the cell's width less the two seams.
  int x0 = -1, y0 = -1;
  for (int y = 0; y < c.height() && x0 < 0; ++y)
    for (int x = 0; x < c.width() && x0 < 0; ++x)
      if (c.at(x, y) == ps::red_yellow_green(0)) x0 = x, y0 = y;
  REQUIRE(x0 >= 0);
  int inner_w = 0, inner_h = 0;
  while (c.at(x0 + inner_w, y0) == ps::red_yellow_green(0)) ++inner_w;
  while (c.at(x0, y0 + inner_h) == ps::red_yellow_green(0)) ++inner_h;
  const int cell_w = inner_w + 2, cell_h = inner_h + 2;
  CHECK(cell_w >= 64);
  CHECK(cell_h >= 36);
  const auto fill = [&](int row, int column) { return c.at(x0 + column * cell_w + 2, y0 + row * cell_h + 2); };
  CHECK(fill(0, 1) == ps::red_yellow_green(0.5));
  CHECK(fill(0, 2) == ps::red_yellow_green(1));
  CHECK(fill(1, 0) == ps::red_yellow_green(1));
  CHECK(fill(1, 1) == ps::kMissingColour);
  CHECK(fill(1, 2) == ps::red_yellow_green(1));
  // Over half of each cell is its colour (its number and the seams aside).
  const size_t half = size_t(inner_w) * size_t(inner_h) / 2;
  CHECK(count(c, ps::red_yellow_green(1)) > 3 * half);
  CHECK(count(c, ps::red_yellow_green(0.5)) > half);
  CHECK(count(c, ps::kMissingColour) > half);
  // The colour bar right of the grid: green at its top, red at its bottom.
  const int bar_x = x0 + 3 * cell_w + 30;
  CHECK(c.at(bar_x, y0 - 1) == ps::red_yellow_green(1));  // the grid's top is y0 - 1 (the seam)
  CHECK(c.at(bar_x, y0 + 2 * cell_h - 2) == ps::red_yellow_green(0));
  CHECK(count(c, ps::kBlack) > 500);  // title, ticks, labels and the cells' numbers
}

TEST_CASE("a heatmap without cells or with ragged rows is refused", "[plugins]") {
  ps::HeatmapChart chart;
  CHECK_THROWS_WITH(ps::draw_heatmap(chart), "a heatmap needs at least one row and one column");
  chart.columns = {"a", "b"};
  chart.rows = {"x"};
  chart.values = {{1}};
  CHECK_THROWS_WITH(ps::draw_heatmap(chart), "a heatmap's rows need one value per column");
}

TEST_CASE("axis ticks are 1, 2 or 5 times a power of ten covering the range", "[plugins]") {
  CHECK(ps::nice_ticks(0, 1) == std::vector<double>{0, 0.2, 0.4, 0.6000000000000001, 0.8, 1});
  const auto ticks = ps::nice_ticks(0.03, 0.47);  // a step of 0.05 would give 9 ticks, 0.1 gives 4
  REQUIRE(ticks.size() == 4);
  CHECK(ticks.front() == Approx(0.1).margin(1e-12));
  CHECK(ticks.back() == Approx(0.4).margin(1e-12));
  CHECK(ps::nice_ticks(0, 2048).at(1) == 500);
  CHECK(ps::short_number(0.05) == "0.05");
  CHECK(ps::short_number(2048) == "2048");
  CHECK(ps::token_count(512) == "512");
  CHECK(ps::token_count(32768) == "32K");
  CHECK(ps::token_count(12800) == "12.5K");
}

TEST_CASE("a line chart draws each series in its colour with a legend entry", "[plugins]") {
  ps::LinePanel panel{"Recall", "Density", "Recall", {}, 0, 1};
  panel.series.push_back({"streaming", {0.1, 0.2, 0.4}, {0.5, 0.7, 0.9}});
  panel.series.push_back({"topk", {0.1, 0.2, 0.4}, {0.6, NAN, 0.95}});  // NaN: no point, no line through it
  const ps::Canvas c = ps::draw_line_chart({"Budgets", {panel, panel}});
  CHECK(c.width() > 2 * 440);
  const size_t first = count(c, ps::series_colour(0)), second = count(c, ps::series_colour(1));
  CHECK(first > 500);
  CHECK(second > 100);
  CHECK(second < first);  // the broken line draws less
  CHECK_THROWS(ps::draw_line_chart({"", {}}));
  ps::LinePanel bad{"", "", "", {{"x", {1, 2}, {1}}}, 0, 1};
  CHECK_THROWS(ps::draw_line_chart({"", {bad}}));
}

TEST_CASE("CSV fields are quoted only when they hold a comma, quote or line break", "[plugins]") {
  CHECK(ps::csv_field("plain") == "plain");
  CHECK(ps::csv_field("a,b") == "\"a,b\"");
  CHECK(ps::csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(ps::csv_line({"x", "1,2", ""}) == "x,\"1,2\",\n");
  CHECK(ps::csv_number(NAN).empty());
  CHECK(ps::csv_number(std::nullopt).empty());
  CHECK(ps::csv_number(0.1) == "0.1");
}
