#pragma once
// Attention values to colours. Three scales over one colour ramp: linear from 0 to the
// largest value, logarithmic over six decades below it (attention spans many orders
// of magnitude: a sink takes 0.7 of a row while most keys get 1e-5), and rank, the
// share of a reference sample below the value (every colour used equally often).
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace attnscope::views {

enum class ScaleKind { Linear, Log, Rank };

std::string scale_name(ScaleKind kind);

// A colour as ImGui's IM_COL32 packs it and OpenGL reads RGBA bytes: 0xAABBGGRR.
using PackedColor = uint32_t;

constexpr PackedColor pack_color(uint8_t r, uint8_t g, uint8_t b, uint8_t a = 255) {
  return PackedColor(r) | PackedColor(g) << 8 | PackedColor(b) << 16 | PackedColor(a) << 24;
}

// The ramp: dark blue at 0 through purple, red and orange to pale yellow at 1, with
// lightness rising throughout so that the order reads in grey too. t is clamped.
PackedColor ramp_color(double t);

// Differences around zero: blue below (t < 0.5), near white at 0.5, red above. t is clamped.
PackedColor diverging_color(double t);

// Classes (a head's pattern): a distinct colour per index, repeating after eight.
PackedColor category_color(int index);

// Cells with no value (the causal future above the diagonal, data not loaded yet).
constexpr PackedColor kNoValueColor = pack_color(38, 38, 42);

struct LegendTick {
  double position = 0;  // in [0, 1] along the ramp
  double value = 0;
};

class ColorScale {
 public:
  // Linear over [0, max]; max <= 0 is treated as a tiny positive number.
  static ColorScale linear(double max);
  // Logarithmic over [floor, max]; values at or below floor (zero included) get the
  // ramp's start. Requires 0 < floor < max (adjusted to a decade below max otherwise).
  static ColorScale log(double floor, double max);
  // Rank against `reference` (any order; non-finite values are dropped; kept to at
  // most kRankSample values by even striding over the sorted sample).
  static ColorScale rank(std::vector<float> reference);
  // The scale of `kind` fitted to `values` (non-finite ones ignored): linear and log
  // up to their largest value, log down to max(smallest positive, max * 1e-6).
  static ColorScale fit(ScaleKind kind, std::span<const float> values);

  static constexpr size_t kRankSample = 65536;
  static constexpr double kLogDecades = 6;

  ScaleKind kind() const { return kind_; }
  double max() const { return max_; }
  double floor() const { return floor_; }

  // Where `value` falls on the ramp, in [0, 1]; NaN for a non-finite value.
  double position(double value) const;
  // The colour of `value`; kNoValueColor for a non-finite value.
  PackedColor color(double value) const;
  // The value at ramp position `t` (the inverse of position, for the legend).
  double value_at(double t) const;
  // `count` >= 2 evenly spaced legend ticks from 0 to 1.
  std::vector<LegendTick> ticks(int count) const;

 private:
  ColorScale() = default;
  ScaleKind kind_ = ScaleKind::Linear;
  double floor_ = 0;
  double max_ = 1;
  std::vector<float> sorted_;  // rank: the reference, ascending
};

// "0.0123", "1.2e-05": short enough for a legend or a tooltip.
std::string format_probability(double value);

}  // namespace attnscope::views
