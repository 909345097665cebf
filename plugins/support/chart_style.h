#pragma once
// What the bundled plugins' charts share: the red-yellow-green scale of the
// needle-in-a-haystack heatmaps, a palette for one line per series, "nice" axis ticks and
// short number labels.
#include <string>
#include <vector>

#include "plugins/support/canvas.h"

namespace attnscope::plugin_support {

inline constexpr int kTextScale = 2;          // every label: 10x14 pixel glyphs, readable at 100%
inline constexpr Rgb kAxisColour{60, 60, 60};
inline constexpr Rgb kGridColour{225, 225, 225};
inline constexpr Rgb kMissingColour{200, 200, 200};  // a cell or point with no value

// 0 red, 0.5 yellow, 1 green (values are clamped to [0, 1]; NaN is kMissingColour).
Rgb red_yellow_green(double value);

// The colour and marker of series `index` (the palette repeats after 8, the markers after 4).
Rgb series_colour(size_t index);
Marker series_marker(size_t index);

// Ticks at 1, 2 or 5 times a power of ten covering [min, max], about `target` of them.
std::vector<double> nice_ticks(double min, double max, int target = 5);
// A tick's label: at most 4 significant digits, no trailing zeros ("0.05", "1", "2048").
std::string short_number(double value);
// Token counts as people write them: "512", "2048" below 10000, else "16K", "31.5K" (K = 1024).
std::string token_count(double tokens);

}  // namespace attnscope::plugin_support
