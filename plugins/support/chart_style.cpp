#include "plugins/support/chart_style.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

namespace attnscope::plugin_support {
namespace {

Rgb mix(Rgb a, Rgb b, double t) {
  const auto channel = [t](uint8_t x, uint8_t y) { return uint8_t(std::lround(x + (double(y) - x) * t)); };
  return {channel(a.r, b.r), channel(a.g, b.g), channel(a.b, b.b)};
}

}  // namespace

Rgb red_yellow_green(double value) {
  if (std::isnan(value)) return kMissingColour;
  constexpr Rgb red{215, 48, 39}, yellow{250, 215, 90}, green{26, 152, 80};
  const double v = std::clamp(value, 0.0, 1.0);
  return v < 0.5 ? mix(red, yellow, v * 2) : mix(yellow, green, (v - 0.5) * 2);
}

Rgb series_colour(size_t index) {
  static constexpr std::array<Rgb, 8> palette = {{{31, 119, 180}, {230, 115, 0}, {44, 160, 44}, {214, 39, 40},
                                                  {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {90, 90, 90}}};
  return palette[index % palette.size()];
}

Marker series_marker(size_t index) {
  static constexpr std::array<Marker, 4> markers = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
  return markers[index % markers.size()];
}

std::vector<double> nice_ticks(double min, double max, int target) {
  if (!std::isfinite(min) || !std::isfinite(max)) return {};
  if (max < min) std::swap(min, max);
  if (max == min) return {min};
  const double rough = (max - min) / std::max(target, 1);
  const double power = std::pow(10.0, std::floor(std::log10(rough)));
  double step = power * 10;
  for (double m : {1.0, 2.0, 5.0})
    if (m * power >= rough) {
      step = m * power;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step)
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string short_number(double value) {
  if (std::isnan(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

std::string token_count(double tokens) {
  if (!std::isfinite(tokens)) return "-";
  if (std::abs(tokens) < 10000) return short_number(tokens);
  const double k = tokens / 1024;
  char text[32];
  std::snprintf(text, sizeof text, k == std::round(k) ? "%.0fK" : "%.1fK", k);
  return text;
}

}  // namespace attnscope::plugin_support
