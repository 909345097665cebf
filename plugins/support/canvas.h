#pragma once
// An RGB image the bundled plugins draw their charts on (the host's write_png encodes
// it): filled rectangles, lines of a given width, markers, and text in the bitmap font
// (bitmap_font.h), horizontal or turned a quarter left for a vertical axis label.
// Drawing outside the image is clipped, never an error.
#include <cstdint>
#include <string_view>
#include <vector>

namespace attnscope::plugin_support {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

inline constexpr Rgb kWhite{255, 255, 255};
inline constexpr Rgb kBlack{0, 0, 0};

enum class Align { Start, Centre, End };  // of text against its anchor point
enum class Marker { Circle, Square, Triangle, Diamond };

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = kWhite);

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& pixels() const { return pixels_; }  // rows top first, 3 bytes a pixel

  Rgb at(int x, int y) const;
  void set(int x, int y, Rgb colour);
  void fill_rect(int x, int y, int w, int h, Rgb colour);
  void outline_rect(int x, int y, int w, int h, Rgb colour);
  // A segment `thickness` pixels wide (a square pen moved along it).
  void line(double x0, double y0, double x1, double y1, Rgb colour, int thickness = 1);
  void marker(double x, double y, Marker shape, int radius, Rgb colour);

  // `text` with its anchor (x, y): horizontally at the start, centre or end of the text;
  // vertically at the top, middle or bottom of the glyphs' ascent (descenders below).
  void text(int x, int y, std::string_view text, Rgb colour, int scale, Align horizontal = Align::Start,
            Align vertical = Align::Start);
  // Turned a quarter left (reading bottom to top), centred on (x, y).
  void text_up(int x, int y, std::string_view text, Rgb colour, int scale);

 private:
  int width_ = 0;
  int height_ = 0;
  std::vector<uint8_t> pixels_;
};

}  // namespace attnscope::plugin_support
