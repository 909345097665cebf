#include "views/attention_map_canvas.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

#include "imgui.h"
#include "views/map_overlays.h"
#include "views/series_bins.h"
#include "views/token_text.h"

namespace attnscope::views {
namespace {

// Margins around the map, in pixels: labels left and top, legend right, plots below.
constexpr double kLeft = 116, kTop = 92, kRight = 112, kPlotHeight = 64, kGap = 8;
// Zoom per wheel notch.
constexpr double kWheelZoom = 1.25;
// Values a scale is fitted to, at most (strided over the exact rows).
constexpr size_t kScaleSample = 1 << 18;

constexpr ImU32 kText = IM_COL32(220, 220, 225, 255);
constexpr ImU32 kHover = IM_COL32(255, 255, 255, 220);
constexpr ImU32 kSelected = IM_COL32(120, 220, 255, 200);

ImVec2 v2(double x, double y) { return ImVec2(float(x), float(y)); }

std::string label_of(const std::vector<std::string>& labels, int64_t position) {
  if (position < 0 || position >= int64_t(labels.size())) return "";
  std::string quoted(1, '\'');
  quoted += token_label(labels[size_t(position)], 32);
  quoted += '\'';
  return quoted;
}

}  // namespace

AttentionMapCanvas::AttentionMapCanvas(QWidget* parent) : ImGuiCanvas(parent) {
  setMinimumSize(360, 360);
  empty_message_ = tr("Run a prompt to see its attention maps.");
}

AttentionMapCanvas::~AttentionMapCanvas() { shutdownGl(); }

void AttentionMapCanvas::setHead(HeadMap map, std::vector<std::string> labels) {
  const bool same_size = has_map_ && map.tokens == map_.tokens;
  map_ = std::move(map);
  labels_ = std::move(labels);
  has_map_ = map_.pooled != nullptr && map_.tokens > 0;
  message_.clear();
  makeCurrent();
  dropTextures();
  dropMaskTexture();
  doneCurrent();
  mask_.reset();
  exact_available_ = true;
  tiles_.clear();
  last_wanted_.clear();
  if (has_map_) {
    pyramid_ = PooledPyramid(*map_.pooled, map_.tokens);
    if (!same_size) {
      viewport_.set_tokens(map_.tokens);
      selected_query_ = -1;
    }
  }
  refitScale();
  requestFrames();
}

void AttentionMapCanvas::clear(const QString& message) {
  has_map_ = false;
  empty_message_ = message;
  makeCurrent();
  dropTextures();
  dropMaskTexture();
  doneCurrent();
  mask_.reset();
  tiles_.clear();
  last_wanted_.clear();
  requestFrames();
}

void AttentionMapCanvas::setScaleKind(ScaleKind kind) {
  if (kind == kind_) return;
  kind_ = kind;
  refitScale();
  makeCurrent();
  dropTextures();
  doneCurrent();
  requestFrames();
}

// One scale per head, fitted to the finest data at hand: exact probabilities when the
// capture kept rows, else the pooled means. Tiles that arrive later use the same scale.
void AttentionMapCanvas::refitScale() {
  std::vector<float> sample;
  if (has_map_ && map_.exact_rows > 0 && !map_.exact.empty()) {
    const size_t stride = std::max<size_t>(1, map_.exact.size() / kScaleSample);
    for (size_t i = 0; i < map_.exact.size(); i += stride) sample.push_back(map_.exact[i]);
  } else if (has_map_) {
    const auto means = pyramid_.level_means(0);
    sample.assign(means.begin(), means.end());
  }
  scale_ = ColorScale::fit(kind_, sample);
}

void AttentionMapCanvas::addTiles(int layer, int head, std::vector<ExactTile> tiles) {
  if (!has_map_ || layer != map_.layer || head != map_.head) return;
  for (ExactTile& t : tiles) {
    auto [it, inserted] = tiles_.try_emplace(t.key);
    if (!inserted) continue;
    it->second.data = std::move(t);
  }
  requestFrames();
}

void AttentionMapCanvas::setMessage(const QString& message) {
  message_ = message;
  requestFrames();
}

void AttentionMapCanvas::setExactAvailable(bool available) {
  exact_available_ = available;
  requestFrames();
}

void AttentionMapCanvas::setMask(std::shared_ptr<const kernels::KeptKeys> kept, const QString& description) {
  makeCurrent();
  dropMaskTexture();
  doneCurrent();
  mask_ = std::move(kept);
  mask_text_ = description;
  mask_image_ = mask_ ? mask_block_image(*mask_) : MaskBlockImage{};
  requestFrames();
}

void AttentionMapCanvas::clearMask() { setMask(nullptr, {}); }

void AttentionMapCanvas::dropMaskTexture() {
  if (mask_texture_ != 0 && glReady()) glDeleteTextures(1, &mask_texture_);
  mask_texture_ = 0;
}

void AttentionMapCanvas::drawMask(const VisibleRange& visible) {
  if (!mask_) return;
  ImDrawList* draw = ImGui::GetBackgroundDrawList();
  const double rows = visible.query_end - visible.query_begin;
  if (rows <= double(kMaskRunRows) && viewport_.pixels_per_token() >= 2) {
    const auto runs = dropped_runs(*mask_, int64_t(visible.query_begin), int64_t(std::ceil(visible.query_end)),
                                   int64_t(visible.key_begin), int64_t(std::ceil(visible.key_end)));
    for (const DroppedRun& r : runs)
      draw->AddRectFilled(v2(viewport_.key_to_x(double(r.key_begin)), viewport_.query_to_y(double(r.query))),
                          v2(viewport_.key_to_x(double(r.key_end)), viewport_.query_to_y(double(r.query + 1))),
                          kDroppedShade);
    return;
  }
  if (mask_texture_ == 0 && mask_image_.blocks > 0)
    mask_texture_ = upload(int(mask_image_.blocks), int(mask_image_.blocks), mask_image_.pixels);
  const double extent = double(mask_image_.blocks * mask_image_.block);
  draw->AddImage(ImTextureID(intptr_t(mask_texture_)), v2(viewport_.key_to_x(0), viewport_.query_to_y(0)),
                 v2(viewport_.key_to_x(extent), viewport_.query_to_y(extent)));
}

void AttentionMapCanvas::fitMap() {
  viewport_.fit();
  requestFrames();
}

void AttentionMapCanvas::showWindow(double key_begin, double key_end, double query_begin, double query_end) {
  layoutAreas();
  viewport_.show(key_begin, key_end, query_begin, query_end);
  requestFrames();
}

void AttentionMapCanvas::setSelectedQuery(int64_t query) {
  selected_query_ = query;
  requestFrames();
}

void AttentionMapCanvas::layoutAreas() {
  const double w = width(), h = height();
  const double map_h = std::max(40.0, h - kTop - 2 * (kPlotHeight + kGap) - kGap);
  const ScreenRect area{kLeft, kTop, std::max(40.0, w - kLeft - kRight), map_h};
  const ScreenRect& old = viewport_.area();
  if (old.x != area.x || old.y != area.y || old.width != area.width || old.height != area.height)
    viewport_.set_area(area);
  column_plot_ = {area.x, area.y + area.height + kGap, area.width, kPlotHeight};
  diagonal_plot_ = {area.x, column_plot_.y + kPlotHeight + kGap, area.width, kPlotHeight};
  legend_ = {area.x + area.width + 12, area.y, kRight - 16, std::min(area.height, 320.0)};
}

unsigned AttentionMapCanvas::upload(int width, int height, const std::vector<PackedColor>& pixels) {
  GLuint texture = 0;
  glGenTextures(1, &texture);
  glBindTexture(GL_TEXTURE_2D, texture);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);  // crisp cells when zoomed in
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
  glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  glPixelStorei(GL_UNPACK_ALIGNMENT, 4);
  glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, pixels.data());
  return texture;
}

unsigned AttentionMapCanvas::levelTexture(int level) {
  if (level_textures_.size() != size_t(pyramid_.levels())) level_textures_.assign(size_t(pyramid_.levels()), 0);
  unsigned& texture = level_textures_[size_t(level)];
  if (texture == 0) {
    const auto means = pyramid_.level_means(level);
    std::vector<PackedColor> pixels(means.size());
    for (size_t i = 0; i < means.size(); ++i) pixels[i] = scale_.color(means[i]);
    const int cells = int(pyramid_.cells(level));
    texture = upload(cells, cells, pixels);
  }
  return texture;
}

unsigned AttentionMapCanvas::tileTexture(Tile& tile) {
  if (tile.texture == 0) {
    const TileSpan& s = tile.data.span;
    std::vector<PackedColor> pixels(tile.data.values.size());
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = scale_.color(tile.data.values[i]);
    tile.texture = upload(int(s.key_end - s.key_begin), int(s.query_end - s.query_begin), pixels);
  }
  return tile.texture;
}

void AttentionMapCanvas::dropTextures() {
  if (!glReady()) return;
  for (unsigned& t : level_textures_)
    if (t != 0) glDeleteTextures(1, &t);
  level_textures_.clear();
  for (auto& [key, tile] : tiles_)
    if (tile.texture != 0) {
      glDeleteTextures(1, &tile.texture);
      tile.texture = 0;
    }
}

void AttentionMapCanvas::releaseGl() {
  dropTextures();
  dropMaskTexture();
}

void AttentionMapCanvas::evictTiles() {
  if (tiles_.size() <= kMaxTiles) return;
  std::vector<std::pair<int64_t, TileKey>> by_age;
  for (const auto& [key, tile] : tiles_) by_age.push_back({tile.drawn_at, key});
  std::sort(by_age.begin(), by_age.end());
  for (size_t i = 0; i + kMaxTiles < by_age.size(); ++i) {
    Tile& tile = tiles_[by_age[i].second];
    if (tile.texture != 0) glDeleteTextures(1, &tile.texture);
    tiles_.erase(by_age[i].second);
  }
}

float AttentionMapCanvas::valueAt(int64_t query, int64_t key, bool* exact) const {
  *exact = true;
  if (const float p = exact_probability(map_, query, key); !std::isnan(p)) return p;
  const auto it = tiles_.find(TileKey{query / kTileTokens, key / kTileTokens});
  if (it != tiles_.end()) return it->second.data.at(query, key);
  *exact = false;
  const int64_t block = pyramid_.block_tokens(lod_.pooled_level);
  return pyramid_.mean(lod_.pooled_level, query / block, key / block);
}

void AttentionMapCanvas::drawPooledLevel(const VisibleRange& visible) {
  // Only the part in view: at 64 px a token the whole level would be a quad millions of
  // pixels wide, which software renderers clip and shade slowly.
  const double extent = double(pyramid_.cells(lod_.pooled_level) * pyramid_.block_tokens(lod_.pooled_level));
  const double k0 = std::clamp(visible.key_begin, 0.0, extent), k1 = std::clamp(visible.key_end, 0.0, extent);
  const double q0 = std::clamp(visible.query_begin, 0.0, extent), q1 = std::clamp(visible.query_end, 0.0, extent);
  if (k1 <= k0 || q1 <= q0) return;
  ImGui::GetBackgroundDrawList()->AddImage(
      ImTextureID(intptr_t(levelTexture(lod_.pooled_level))), v2(viewport_.key_to_x(k0), viewport_.query_to_y(q0)),
      v2(viewport_.key_to_x(k1), viewport_.query_to_y(q1)), v2(k0 / extent, q0 / extent), v2(k1 / extent, q1 / extent));
}

void AttentionMapCanvas::drawFutureAboveTiles(const VisibleRange& visible) {
  // Per row of tiles in view: the keys after its diagonal tile, which no query there sees.
  ImDrawList* draw = ImGui::GetBackgroundDrawList();
  const double n = double(map_.tokens), t = double(kTileTokens);
  const double right = std::min(visible.key_end, n);
  for (double row = std::floor(std::max(visible.query_begin, 0.0) / t) * t; row < std::min(visible.query_end, n);
       row += t) {
    const double from = std::max(row + t, visible.key_begin);
    if (from >= right) continue;
    draw->AddRectFilled(v2(viewport_.key_to_x(from), viewport_.query_to_y(std::max(row, visible.query_begin))),
                        v2(viewport_.key_to_x(right), viewport_.query_to_y(std::min(row + t, visible.query_end))),
                        kNoValueColor);
  }
}

bool AttentionMapCanvas::drawFrame(double seconds) {
  ImDrawList* draw = ImGui::GetBackgroundDrawList();
  if (!has_map_) {
    const QByteArray text = empty_message_.toUtf8();
    const ImVec2 size = ImGui::CalcTextSize(text.constData());
    draw->AddText(v2((width() - size.x) / 2, (height() - size.y) / 2), kText, text.constData());
    return false;
  }
  if (max_texture_size_ == 4096) glGetIntegerv(GL_MAX_TEXTURE_SIZE, &max_texture_size_);
  layoutAreas();
  const bool animating = viewport_.advance(seconds);
  const ScreenRect& a = viewport_.area();
  const VisibleRange visible = viewport_.visible();
  const double ppt = viewport_.pixels_per_token();
  lod_ = choose_level_of_detail(visible, ppt, map_.tokens, pyramid_.block_tokens(0), pyramid_.levels(),
                                {kTileTokens, exact_available_ ? 1.0 : INFINITY});
  while (lod_.pooled_level + 1 < pyramid_.levels() && pyramid_.cells(lod_.pooled_level) > max_texture_size_)
    ++lod_.pooled_level;

  // The map: clipped to the area and to the map's own extent (the last block may be partial).
  const double n = double(map_.tokens);
  draw->PushClipRect(v2(std::max(a.x, viewport_.key_to_x(0)), std::max(a.y, viewport_.query_to_y(0))),
                     v2(std::min(a.x + a.width, viewport_.key_to_x(n)), std::min(a.y + a.height, viewport_.query_to_y(n))),
                     true);
  // Exact tiles in view: those at hand (or cut from exact rows the run kept), and those
  // to ask for.
  std::vector<Tile*> ready;
  std::vector<TileKey> wanted;
  if (lod_.exact) {
    for (const TileKey& key : lod_.tiles) {
      auto it = tiles_.find(key);
      if (it == tiles_.end()) {
        if (auto cut = tile_from_exact_rows(map_, key, kTileTokens))
          it = tiles_.emplace(key, Tile{std::move(*cut)}).first;
      }
      if (it == tiles_.end())
        wanted.push_back(key);
      else
        ready.push_back(&it->second);
    }
  }
  // Once they are all in, the tiles cover the causal part of the view: only the future
  // above them is filled, instead of the pooled level drawn under everything.
  if (lod_.exact && wanted.empty())
    drawFutureAboveTiles(visible);
  else
    drawPooledLevel(visible);
  for (Tile* tile : ready) {
    tile->drawn_at = framesDrawn();
    const TileSpan& s = tile->data.span;
    draw->AddImage(ImTextureID(intptr_t(tileTexture(*tile))),
                   v2(viewport_.key_to_x(double(s.key_begin)), viewport_.query_to_y(double(s.query_begin))),
                   v2(viewport_.key_to_x(double(s.key_end)), viewport_.query_to_y(double(s.query_end))));
  }
  drawMask(visible);
  if (selected_query_ >= 0 && selected_query_ < map_.tokens) {
    const double y0 = viewport_.query_to_y(double(selected_query_));
    const double y1 = std::max(y0 + 1, viewport_.query_to_y(double(selected_query_ + 1)));
    draw->AddRect(v2(viewport_.key_to_x(0), y0), v2(viewport_.key_to_x(double(selected_query_ + 1)), y1), kSelected);
  }
  draw->PopClipRect();
  missing_ = wanted.size();
  if (wanted != last_wanted_) {
    last_wanted_ = wanted;
    // After this frame: a receiver may answer at once with tiles.
    QMetaObject::invokeMethod(
        this, [this, layer = map_.layer, head = map_.head, wanted] { emit tilesWanted(layer, head, wanted); },
        Qt::QueuedConnection);
  }
  evictTiles();

  draw_axes(draw, viewport_, labels_, kLeft, kTop);
  draw_legend(draw, scale_, legend_, scale_name(kind_) + " scale");
  if (mask_) {
    // Above the legend, in the right margin: what the shade means.
    const double y = legend_.y - 2 * ImGui::GetFontSize() - 30;
    draw->AddRectFilled(v2(legend_.x, y), v2(legend_.x + 14, y + 14), IM_COL32(90, 90, 90, 255));
    draw->AddRectFilled(v2(legend_.x, y), v2(legend_.x + 14, y + 14), kDroppedShade);
    draw->AddText(v2(legend_.x + 18, y), kText, "dropped");
    draw->AddRect(v2(legend_.x, y + 18), v2(legend_.x + 14, y + 32), kText);
    draw->AddText(v2(legend_.x + 18, y + 18), kText, "kept");
  }

  // Side plots: column sums follow the key axis; diagonal sums span distances 0..n-1.
  const int plot_pixels = int(column_plot_.width);
  // A run reopened from the store kept no sums: empty series say so in the plots.
  const auto columns = map_.column_sums.empty()
                           ? std::vector<double>{}
                           : bin_series_max(map_.column_sums, viewport_.x_to_key(a.x), viewport_.x_to_key(a.x + a.width),
                                            plot_pixels);
  const auto diagonals =
      map_.diagonal_sums.empty() ? std::vector<double>{} : bin_series_max(map_.diagonal_sums, 0, n, plot_pixels);
  std::optional<MapCell> hover = mouse_ ? viewport_.hit(mouse_->x(), mouse_->y()) : std::nullopt;
  const double distance_x =
      hover ? diagonal_plot_.x + double(hover->query - hover->key) / n * diagonal_plot_.width : std::nan("");
  draw_series_plot(draw, column_plot_, columns, "attention received by each key (column sums)",
                   hover ? viewport_.key_to_x(double(hover->key) + 0.5) : std::nan(""));
  draw_series_plot(draw, diagonal_plot_, diagonals, "attention by distance q - k, 0 to " + std::to_string(map_.tokens - 1),
                   distance_x);

  // Status line: which level is drawn.
  char status[160];
  if (lod_.exact)
    std::snprintf(status, sizeof status, "L%d H%d  exact probabilities  %zu tiles, %zu loading  %.2f ms", map_.layer,
                  map_.head, lod_.tiles.size(), missing_, lastFrameMilliseconds());
  else
    std::snprintf(status, sizeof status, "L%d H%d  pooled means of %lld x %lld tokens  %.2f ms", map_.layer,
                  map_.head, (long long)pyramid_.block_tokens(lod_.pooled_level),
                  (long long)pyramid_.block_tokens(lod_.pooled_level), lastFrameMilliseconds());
  draw->AddText(v2(4, 4), kText, status);
  double line = 4 + ImGui::GetFontSize() + 2;
  if (mask_) {
    const QByteArray text = ("mask: " + mask_text_).toUtf8();
    draw->AddText(v2(4, line), kText, text.constData());
    line += ImGui::GetFontSize() + 2;
  }
  if (!message_.isEmpty()) {
    const QByteArray text = message_.toUtf8();
    draw->AddText(v2(4, line), IM_COL32(255, 180, 90, 255), text.constData());
  }
  if (hover) drawHover();
  return animating;
}

void AttentionMapCanvas::drawHover() {
  const auto cell = viewport_.hit(mouse_->x(), mouse_->y());
  if (!cell) return;
  ImDrawList* draw = ImGui::GetBackgroundDrawList();
  const double x0 = viewport_.key_to_x(double(cell->key)), y0 = viewport_.query_to_y(double(cell->query));
  const double ppt = viewport_.pixels_per_token();
  if (ppt >= 4) draw->AddRect(v2(x0, y0), v2(x0 + ppt, y0 + ppt), kHover);
  bool exact = false;
  const float p = valueAt(cell->query, cell->key, &exact);
  ImGui::BeginTooltip();
  ImGui::Text("query %lld %s", (long long)cell->query, label_of(labels_, cell->query).c_str());
  ImGui::Text("key   %lld %s", (long long)cell->key, label_of(labels_, cell->key).c_str());
  ImGui::Text("distance %lld", (long long)(cell->query - cell->key));
  if (exact) {
    ImGui::Text("p = %s", format_probability(p).c_str());
  } else {
    const long long block = (long long)pyramid_.block_tokens(lod_.pooled_level);
    ImGui::Text("p ~ %s (mean of its %lld x %lld block)", format_probability(p).c_str(), block, block);
  }
  if (cell->key < int64_t(map_.column_sums.size()))
    ImGui::Text("key receives %s in all", format_probability(map_.column_sums[size_t(cell->key)]).c_str());
  const int64_t mask_row = mask_ ? cell->query - mask_->first_position() : -1;
  if (mask_row >= 0 && mask_row < mask_->rows())
    ImGui::TextUnformatted(mask_->kept(mask_row, cell->key) ? "the mask keeps it" : "the mask drops it");
  ImGui::EndTooltip();
}

void AttentionMapCanvas::mousePressEvent(QMouseEvent* event) {
  ImGuiCanvas::mousePressEvent(event);
  if (event->button() == Qt::LeftButton) {
    press_ = event->position().toPoint();
    last_mouse_ = *press_;
    dragging_ = false;
  }
}

void AttentionMapCanvas::mouseMoveEvent(QMouseEvent* event) {
  ImGuiCanvas::mouseMoveEvent(event);
  const QPoint p = event->position().toPoint();
  mouse_ = p;
  if (press_ && (event->buttons() & Qt::LeftButton)) {
    if (!dragging_ && (p - *press_).manhattanLength() > 3) dragging_ = true;
    if (dragging_) viewport_.pan(p.x() - last_mouse_.x(), p.y() - last_mouse_.y());
    last_mouse_ = p;
  }
}

void AttentionMapCanvas::mouseReleaseEvent(QMouseEvent* event) {
  ImGuiCanvas::mouseReleaseEvent(event);
  if (event->button() != Qt::LeftButton || !press_) return;
  if (!dragging_ && has_map_) {
    if (const auto cell = viewport_.hit(event->position().x(), event->position().y())) {
      selected_query_ = cell->query;
      emit cellClicked(cell->query, cell->key);
    }
  }
  press_.reset();
  dragging_ = false;
}

void AttentionMapCanvas::leaveEvent(QEvent* event) {
  mouse_.reset();
  ImGuiCanvas::leaveEvent(event);
}

void AttentionMapCanvas::mouseDoubleClickEvent(QMouseEvent* event) {
  if (event->button() == Qt::LeftButton) fitMap();
}

void AttentionMapCanvas::wheelEvent(QWheelEvent* event) {
  ImGuiCanvas::wheelEvent(event);
  const double notches = double(event->angleDelta().y()) / 120.0;
  viewport_.zoom_at(event->position().x(), event->position().y(), std::pow(kWheelZoom, notches));
  requestFrames();
  event->accept();
}

void AttentionMapCanvas::keyPressEvent(QKeyEvent* event) {
  const ScreenRect& a = viewport_.area();
  const double cx = a.x + a.width / 2, cy = a.y + a.height / 2;
  switch (event->key()) {
    case Qt::Key_Home: viewport_.fit(); break;
    case Qt::Key_Plus:
    case Qt::Key_Equal: viewport_.zoom_at(cx, cy, 2); break;
    case Qt::Key_Minus: viewport_.zoom_at(cx, cy, 0.5); break;
    case Qt::Key_Left: viewport_.pan(60, 0); break;
    case Qt::Key_Right: viewport_.pan(-60, 0); break;
    case Qt::Key_Up: viewport_.pan(0, 60); break;
    case Qt::Key_Down: viewport_.pan(0, -60); break;
    default: ImGuiCanvas::keyPressEvent(event); return;
  }
  requestFrames();
}

}  // namespace attnscope::views
