#include "views/color_scale.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>

namespace attnscope::views {
namespace {

struct Anchor {
  double t;
  double r, g, b;
};

// Our own anchors, chosen for monotone lightness; interpolated linearly in sRGB.
constexpr std::array<Anchor, 6> kRamp = {{
    {0.00, 12, 10, 48},
    {0.20, 62, 22, 112},
    {0.42, 140, 38, 110},
    {0.62, 214, 72, 68},
    {0.82, 248, 152, 36},
    {1.00, 252, 246, 170},
}};

constexpr double kTiny = 1e-30;

}  // namespace

std::string scale_name(ScaleKind kind) {
  switch (kind) {
    case ScaleKind::Linear: return "linear";
    case ScaleKind::Log: return "log";
    case ScaleKind::Rank: return "rank";
  }
  return "?";
}

PackedColor ramp_color(double t) {
  if (!(t >= 0)) t = 0;  // NaN too
  if (t > 1) t = 1;
  size_t i = 1;
  while (i + 1 < kRamp.size() && kRamp[i].t < t) ++i;
  const Anchor& a = kRamp[i - 1];
  const Anchor& b = kRamp[i];
  const double f = (t - a.t) / (b.t - a.t);
  auto mix = [f](double x, double y) { return uint8_t(std::lround(x + (y - x) * f)); };
  return pack_color(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b));
}

PackedColor diverging_color(double t) {
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  // Blue (33, 102, 172) -> pale (247, 247, 247) -> red (178, 24, 43), ColorBrewer's RdBu ends.
  const bool upper = t > 0.5;
  const double f = upper ? (t - 0.5) * 2 : t * 2;
  const double from[3] = {upper ? 247.0 : 33.0, upper ? 247.0 : 102.0, upper ? 247.0 : 172.0};
  const double to[3] = {upper ? 178.0 : 247.0, upper ? 24.0 : 247.0, upper ? 43.0 : 247.0};
  auto mix = [f](double x, double y) { return uint8_t(std::lround(x + (y - x) * f)); };
  return pack_color(mix(from[0], to[0]), mix(from[1], to[1]), mix(from[2], to[2]));
}

PackedColor category_color(int index) {
  // Okabe-Ito's colour-blind safe palette.
  static constexpr PackedColor kPalette[] = {pack_color(230, 159, 0),  pack_color(86, 180, 233),
                                             pack_color(0, 158, 115),  pack_color(240, 228, 66),
                                             pack_color(0, 114, 178),  pack_color(213, 94, 0),
                                             pack_color(204, 121, 167), pack_color(150, 150, 150)};
  const int n = int(std::size(kPalette));
  return kPalette[((index % n) + n) % n];
}

ColorScale ColorScale::linear(double max) {
  ColorScale s;
  s.kind_ = ScaleKind::Linear;
  s.max_ = max > kTiny ? max : kTiny;
  return s;
}

ColorScale ColorScale::log(double floor, double max) {
  ColorScale s;
  s.kind_ = ScaleKind::Log;
  s.max_ = max > kTiny ? max : kTiny;
  s.floor_ = floor > 0 && floor < s.max_ ? floor : s.max_ / 10;
  return s;
}

ColorScale ColorScale::rank(std::vector<float> reference) {
  ColorScale s;
  s.kind_ = ScaleKind::Rank;
  std::erase_if(reference, [](float v) { return !std::isfinite(v); });
  std::sort(reference.begin(), reference.end());
  if (reference.size() > kRankSample) {
    std::vector<float> sample(kRankSample);
    const double step = double(reference.size() - 1) / double(kRankSample - 1);
    for (size_t i = 0; i < kRankSample; ++i) sample[i] = reference[size_t(std::llround(double(i) * step))];
    reference = std::move(sample);
  }
  s.sorted_ = std::move(reference);
  s.floor_ = s.sorted_.empty() ? 0 : s.sorted_.front();
  s.max_ = s.sorted_.empty() ? 1 : s.sorted_.back();
  return s;
}

ColorScale ColorScale::fit(ScaleKind kind, std::span<const float> values) {
  if (kind == ScaleKind::Rank) return rank(std::vector<float>(values.begin(), values.end()));
  double max = 0;
  double min_positive = std::numeric_limits<double>::infinity();
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    max = std::max(max, double(v));
    if (v > 0) min_positive = std::min(min_positive, double(v));
  }
  if (kind == ScaleKind::Linear) return linear(max);
  const double decade_floor = max * std::pow(10.0, -kLogDecades);
  return log(std::isfinite(min_positive) ? std::max(min_positive, decade_floor) : decade_floor, max);
}

double ColorScale::position(double value) const {
  if (!std::isfinite(value)) return std::numeric_limits<double>::quiet_NaN();
  switch (kind_) {
    case ScaleKind::Linear: return std::clamp(value / max_, 0.0, 1.0);
    case ScaleKind::Log: {
      if (value <= floor_) return 0;
      return std::clamp(std::log(value / floor_) / std::log(max_ / floor_), 0.0, 1.0);
    }
    case ScaleKind::Rank: {
      if (sorted_.empty()) return 0;
      // Midpoint of the equal run, so that a constant sample maps to the middle.
      const float v = float(value);
      const auto lo = std::lower_bound(sorted_.begin(), sorted_.end(), v);
      const auto hi = std::upper_bound(lo, sorted_.end(), v);
      const double below = double(lo - sorted_.begin());
      const double equal = double(hi - lo);
      return std::clamp((below + 0.5 * equal) / double(sorted_.size()), 0.0, 1.0);
    }
  }
  return 0;
}

PackedColor ColorScale::color(double value) const {
  if (!std::isfinite(value)) return kNoValueColor;
  return ramp_color(position(value));
}

double ColorScale::value_at(double t) const {
  t = std::clamp(t, 0.0, 1.0);
  switch (kind_) {
    case ScaleKind::Linear: return t * max_;
    case ScaleKind::Log: return floor_ * std::pow(max_ / floor_, t);
    case ScaleKind::Rank: {
      if (sorted_.empty()) return 0;
      const size_t i = std::min(sorted_.size() - 1, size_t(t * double(sorted_.size())));
      return sorted_[i];
    }
  }
  return 0;
}

std::vector<LegendTick> ColorScale::ticks(int count) const {
  count = std::max(count, 2);
  std::vector<LegendTick> out;
  for (int i = 0; i < count; ++i) {
    const double t = double(i) / double(count - 1);
    out.push_back({t, value_at(t)});
  }
  return out;
}

std::string format_probability(double value) {
  if (!std::isfinite(value)) return "n/a";
  char text[32];
  if (value == 0)
    std::snprintf(text, sizeof text, "0");
  else if (std::fabs(value) >= 1e-3 && std::fabs(value) < 1e4)
    std::snprintf(text, sizeof text, "%.4g", value);
  else
    std::snprintf(text, sizeof text, "%.2e", value);
  return text;
}

}  // namespace attnscope::views
