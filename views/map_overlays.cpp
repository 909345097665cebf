#include "views/map_overlays.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "imgui.h"
#include "views/token_text.h"

namespace attnscope::views {
namespace {

constexpr ImU32 kAxisText = IM_COL32(200, 200, 205, 255);
constexpr ImU32 kAxisLine = IM_COL32(90, 90, 98, 255);
constexpr ImU32 kPlotBar = IM_COL32(120, 170, 230, 255);
constexpr ImU32 kPlotFrame = IM_COL32(60, 60, 66, 255);
constexpr ImU32 kMarker = IM_COL32(255, 210, 80, 255);

ImVec2 v2(double x, double y) { return ImVec2(float(x), float(y)); }

// Rotates the vertices added since `first_vertex` by -90 degrees about `pivot`, so
// text written left to right reads bottom to top.
void rotate_up(ImDrawList* draw, int first_vertex, ImVec2 pivot) {
  for (int i = first_vertex; i < draw->VtxBuffer.Size; ++i) {
    ImVec2& p = draw->VtxBuffer[i].pos;
    const float dx = p.x - pivot.x, dy = p.y - pivot.y;
    p = ImVec2(pivot.x + dy, pivot.y - dx);
  }
}

std::string position_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld", (long long)std::llround(v));
  return text;
}

}  // namespace

double nice_step(double minimum) {
  if (!(minimum > 0)) return 1;
  const double decade = std::pow(10.0, std::floor(std::log10(minimum)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * decade >= minimum) return m * decade;
  return 10 * decade;
}

void draw_axes(ImDrawList* draw, const MapViewport& viewport, std::span<const std::string> labels, double left_margin,
               double top_margin) {
  const ScreenRect& a = viewport.area();
  const VisibleRange v = viewport.visible();
  if (v.empty()) return;
  const double ppt = viewport.pixels_per_token();
  const float font = ImGui::GetFontSize();
  const double char_width = ImGui::CalcTextSize("M").x;

  draw->AddLine(v2(a.x, a.y - 1), v2(a.x + a.width, a.y - 1), kAxisLine);
  draw->AddLine(v2(a.x - 1, a.y), v2(a.x - 1, a.y + a.height), kAxisLine);

  const bool with_labels = ppt >= kLabelPixelsPerToken && !labels.empty();
  if (with_labels) {
    const size_t chars = size_t(std::max(1.0, (std::min(left_margin, top_margin) - 8) / char_width));
    const int64_t first = int64_t(std::floor(v.query_begin));
    const int64_t last = std::min<int64_t>(int64_t(std::ceil(v.query_end)), int64_t(labels.size()));
    draw->PushClipRect(v2(a.x - left_margin, a.y), v2(a.x, a.y + a.height), true);
    for (int64_t q = first; q < last; ++q) {
      const std::string text = token_label(labels[size_t(q)], chars);
      const double y = viewport.query_to_y(double(q) + 0.5) - font / 2;
      const double w = ImGui::CalcTextSize(text.c_str()).x;
      draw->AddText(v2(a.x - 4 - w, y), kAxisText, text.c_str());
    }
    draw->PopClipRect();
    const int64_t kfirst = int64_t(std::floor(v.key_begin));
    const int64_t klast = std::min<int64_t>(int64_t(std::ceil(v.key_end)), int64_t(labels.size()));
    draw->PushClipRect(v2(a.x, a.y - top_margin), v2(a.x + a.width, a.y), true);
    for (int64_t k = kfirst; k < klast; ++k) {
      const std::string text = token_label(labels[size_t(k)], chars);
      const double x = viewport.key_to_x(double(k) + 0.5) - font / 2;
      const ImVec2 pivot = v2(x, a.y - 4);
      const int first_vertex = draw->VtxBuffer.Size;
      draw->AddText(pivot, kAxisText, text.c_str());
      rotate_up(draw, first_vertex, pivot);
    }
    draw->PopClipRect();
    return;
  }

  // Position ticks at a step that leaves room for the numbers.
  const double step = nice_step(std::max(1.0, 56.0 / ppt));
  for (double q = std::ceil(v.query_begin / step) * step; q < v.query_end; q += step) {
    const double y = viewport.query_to_y(q);
    const std::string text = position_text(q);
    draw->AddLine(v2(a.x - 5, y), v2(a.x - 1, y), kAxisLine);
    draw->AddText(v2(a.x - 8 - ImGui::CalcTextSize(text.c_str()).x, y - font / 2), kAxisText, text.c_str());
  }
  for (double k = std::ceil(v.key_begin / step) * step; k < v.key_end; k += step) {
    const double x = viewport.key_to_x(k);
    const std::string text = position_text(k);
    draw->AddLine(v2(x, a.y - 5), v2(x, a.y - 1), kAxisLine);
    draw->AddText(v2(x - ImGui::CalcTextSize(text.c_str()).x / 2, a.y - 8 - font), kAxisText, text.c_str());
  }
  draw->AddText(v2(a.x - left_margin + 4, a.y - font - 8), kAxisText, "query \\ key");
}

void draw_legend(ImDrawList* draw, const ColorScale& scale, const ScreenRect& rect, const std::string& title) {
  const float font = ImGui::GetFontSize();
  draw->AddText(v2(rect.x, rect.y), kAxisText, title.c_str());
  const double top = rect.y + font + 6;
  const double height = rect.height - font - 6;
  if (height < 20) return;
  constexpr int kSteps = 64;
  for (int i = 0; i < kSteps; ++i) {
    // Top is the largest value.
    const double t0 = double(i) / kSteps, t1 = double(i + 1) / kSteps;
    draw->AddRectFilled(v2(rect.x, top + height * t0), v2(rect.x + 14, top + height * t1 + 1),
                        ramp_color(1 - (t0 + t1) / 2));
  }
  draw->AddRect(v2(rect.x, top), v2(rect.x + 14, top + height), kAxisLine);
  for (const LegendTick& tick : scale.ticks(5)) {
    const double y = top + height * (1 - tick.position);
    draw->AddLine(v2(rect.x + 14, y), v2(rect.x + 18, y), kAxisLine);
    const std::string text = scale.kind() == ScaleKind::Rank && tick.position > 0 && tick.position < 1
                                 ? format_probability(tick.value) + " (" + std::to_string(int(tick.position * 100)) + "%)"
                                 : format_probability(tick.value);
    draw->AddText(v2(rect.x + 20, y - font / 2), kAxisText, text.c_str());
  }
}

void draw_series_plot(ImDrawList* draw, const ScreenRect& rect, std::span<const double> bins, const std::string& title,
                      double marker_x) {
  const float font = ImGui::GetFontSize();
  draw->AddRect(v2(rect.x - 1, rect.y - 1), v2(rect.x + rect.width + 1, rect.y + rect.height + 1), kPlotFrame);
  double max = 0;
  for (double b : bins)
    if (std::isfinite(b)) max = std::max(max, b);
  char peak[48];
  if (bins.empty())
    std::snprintf(peak, sizeof peak, "  (not stored with this run)");
  else
    std::snprintf(peak, sizeof peak, "  (max %s, log scale)", format_probability(max).c_str());
  const std::string heading = title + peak;
  draw->AddText(v2(rect.x + 4, rect.y + 2), kAxisText, heading.c_str());
  const double plot_top = rect.y + font + 4;
  const double plot_height = rect.y + rect.height - plot_top;
  if (max > 0 && plot_height > 2) {
    const double floor = max * 1e-4;
    for (size_t i = 0; i < bins.size(); ++i) {
      const double b = bins[i];
      if (!(b > floor)) continue;
      const double t = std::log(b / floor) / std::log(max / floor);
      const double x = rect.x + double(i);
      draw->AddRectFilled(v2(x, rect.y + rect.height - plot_height * t), v2(x + 1, rect.y + rect.height), kPlotBar);
    }
  }
  if (std::isfinite(marker_x) && marker_x >= rect.x && marker_x <= rect.x + rect.width)
    draw->AddLine(v2(marker_x, rect.y), v2(marker_x, rect.y + rect.height), kMarker);
}

}  // namespace attnscope::views
