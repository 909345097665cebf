#include "plugins/support/canvas.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "plugins/support/bitmap_font.h"

namespace attnscope::plugin_support {

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width < 1 || height < 1 || width > 16384 || height > 16384)
    throw std::invalid_argument("a canvas of " + std::to_string(width) + "x" + std::to_string(height) +
                                " pixels is outside 1 to 16384 a side");
  pixels_.resize(size_t(width) * size_t(height) * 3);
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = background.r;
    pixels_[i + 1] = background.g;
    pixels_[i + 2] = background.b;
  }
}

Rgb Canvas::at(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return {};
  const size_t i = (size_t(y) * size_t(width_) + size_t(x)) * 3;
  return {pixels_[i], pixels_[i + 1], pixels_[i + 2]};
}

void Canvas::set(int x, int y, Rgb colour) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const size_t i = (size_t(y) * size_t(width_) + size_t(x)) * 3;
  pixels_[i] = colour.r;
  pixels_[i + 1] = colour.g;
  pixels_[i + 2] = colour.b;
}

void Canvas::fill_rect(int x, int y, int w, int h, Rgb colour) {
  const int x0 = std::max(x, 0), y0 = std::max(y, 0);
  const int x1 = std::min(x + w, width_), y1 = std::min(y + h, height_);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) set(xx, yy, colour);
}

void Canvas::outline_rect(int x, int y, int w, int h, Rgb colour) {
  fill_rect(x, y, w, 1, colour);
  fill_rect(x, y + h - 1, w, 1, colour);
  fill_rect(x, y, 1, h, colour);
  fill_rect(x + w - 1, y, 1, h, colour);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb colour, int thickness) {
  if (!std::isfinite(x0) || !std::isfinite(y0) || !std::isfinite(x1) || !std::isfinite(y1)) return;
  const double length = std::max(std::abs(x1 - x0), std::abs(y1 - y0));
  const int steps = int(std::min(length, 1e5)) + 1;  // one pen position per pixel of the longer side
  const int pen = std::max(thickness, 1);
  for (int i = 0; i <= steps; ++i) {
    const double t = double(i) / steps;
    const int x = int(std::lround(x0 + (x1 - x0) * t)) - (pen - 1) / 2;
    const int y = int(std::lround(y0 + (y1 - y0) * t)) - (pen - 1) / 2;
    fill_rect(x, y, pen, pen, colour);
  }
}

void Canvas::marker(double x, double y, Marker shape, int radius, Rgb colour) {
  if (!std::isfinite(x) || !std::isfinite(y)) return;
  const int cx = int(std::lround(x)), cy = int(std::lround(y));
  for (int dy = -radius; dy <= radius; ++dy)
    for (int dx = -radius; dx <= radius; ++dx) {
      bool inside = false;
      switch (shape) {
        case Marker::Circle: inside = dx * dx + dy * dy <= radius * radius + radius / 2; break;
        case Marker::Square: inside = true; break;
        case Marker::Diamond: inside = std::abs(dx) + std::abs(dy) <= radius; break;
        case Marker::Triangle: inside = 2 * std::abs(dx) <= dy + radius; break;  // apex up
      }
      if (inside) set(cx + dx, cy + dy, colour);
    }
}

namespace {

// Calls `pixel(column, row)` for every lit font pixel of `text` (columns along the text).
template <typename Pixel>
void each_text_pixel(std::string_view text, int scale, Pixel pixel) {
  int pen = 0;
  for (char c : text) {
    if (is_continuation_byte(c)) continue;
    for (int row = 0; row < kGlyphHeight; ++row) {
      const uint8_t bits = glyph_row(c, row);
      for (int col = 0; col < kGlyphWidth; ++col)
        if (bits & (1 << (kGlyphWidth - 1 - col)))
          for (int sy = 0; sy < scale; ++sy)
            for (int sx = 0; sx < scale; ++sx) pixel(pen + col * scale + sx, row * scale + sy);
    }
    pen += kGlyphAdvance * scale;
  }
}

int offset(Align align, int size) { return align == Align::Start ? 0 : align == Align::Centre ? -size / 2 : -size; }

}  // namespace

void Canvas::text(int x, int y, std::string_view text, Rgb colour, int scale, Align horizontal, Align vertical) {
  const int left = x + offset(horizontal, text_width(text, scale));
  const int top = y + offset(vertical, kGlyphAscent * scale);
  each_text_pixel(text, scale, [&](int col, int row) { set(left + col, top + row, colour); });
}

void Canvas::text_up(int x, int y, std::string_view text, Rgb colour, int scale) {
  // Turned a quarter left: the text runs upwards, the glyphs' tops face left.
  const int bottom = y + text_width(text, scale) / 2;
  const int left = x - kGlyphAscent * scale / 2;
  each_text_pixel(text, scale, [&](int col, int row) { set(left + row, bottom - col, colour); });
}

}  // namespace attnscope::plugin_support
