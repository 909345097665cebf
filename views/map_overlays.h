#pragma once
// What the attention map draws around the map itself, as ImGui draw-list calls: the
// axes (token labels when a token is tall enough for text, else position ticks), the
// colour legend, and the side plots. Each costs what is on screen.
#include <span>
#include <string>
#include <vector>

#include "views/color_scale.h"
#include "views/map_viewport.h"

struct ImDrawList;

namespace attnscope::views {

// Pixels a token must have before its label is drawn on an axis (the font's height).
constexpr double kLabelPixelsPerToken = 13;

// Token labels (or ticks) along the top (keys, written upwards) and the left (queries)
// of the viewport's area, in margins of `top_margin` and `left_margin` pixels.
void draw_axes(ImDrawList* draw, const MapViewport& viewport, std::span<const std::string> labels, double left_margin,
               double top_margin);

// A vertical colour bar with `ticks` labelled values in `rect`, titled with the scale's name.
void draw_legend(ImDrawList* draw, const ColorScale& scale, const ScreenRect& rect, const std::string& title);

// Bars of `bins` (one a pixel column of `rect`, NaN: none) on a logarithmic axis over
// four decades below the largest, with a title; `marker_x` (if finite) draws a line.
// No bins at all: the series was not kept (a run reopened from the store), and the title says so.
void draw_series_plot(ImDrawList* draw, const ScreenRect& rect, std::span<const double> bins,
                      const std::string& title, double marker_x);

// A "nice" step (1, 2 or 5 times a power of ten) of at least `minimum`.
double nice_step(double minimum);

}  // namespace attnscope::views
