#pragma once
// The attention map of one head, drawn with Dear ImGui in a QOpenGLWidget: smooth pan
// and zoom from the whole context down to single tokens. Pooled block means at low
// zoom; exact probabilities once a token is a pixel or more, in tiles that arrive from
// outside (cut from the capture's exact rows, or recomputed by the engine on demand:
// the canvas asks with tilesWanted and draws the pooled level until they come).
// Linear, log and rank colour scales with a legend, token labels on the axes when they
// fit, a hover readout, side plots of column sums and diagonal sums, and the current
// mask of the mask lab drawn over the map (mask_overlay.h: dropped entries shaded).
#include <QPoint>
#include <QString>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "views/color_scale.h"
#include "views/head_map.h"
#include "views/imgui_canvas.h"
#include "views/map_level_of_detail.h"
#include "views/map_viewport.h"
#include "views/mask_overlay.h"
#include "views/pooled_pyramid.h"

namespace attnscope::views {

class AttentionMapCanvas : public ImGuiCanvas {
  Q_OBJECT

 public:
  static constexpr int64_t kTileTokens = 128;
  static constexpr size_t kMaxTiles = 512;  // tiles kept (data and texture), least recently drawn go first

  explicit AttentionMapCanvas(QWidget* parent = nullptr);
  ~AttentionMapCanvas() override;

  // Shows a head. `labels` are the tokens' texts (one a position). Keeps the view when
  // the new head has as many tokens as the last, else fits the whole map.
  void setHead(HeadMap map, std::vector<std::string> labels);
  void clear(const QString& message);
  bool hasHead() const { return has_map_; }
  int layer() const { return map_.layer; }
  int head() const { return map_.head; }

  void setScaleKind(ScaleKind kind);
  ScaleKind scaleKind() const { return kind_; }
  const ColorScale& colorScale() const { return scale_; }

  // Exact tiles for (layer, head); ignored when another head is shown by now.
  void addTiles(int layer, int head, std::vector<ExactTile> tiles);
  // A line at the bottom of the map (why exact tiles are missing, for example).
  void setMessage(const QString& message);

  // Whether exact tiles can be had for the head shown (not for a run reopened from the
  // store: its pooled maps are all there is); without, the pooled means serve every zoom.
  void setExactAvailable(bool available);

  // The kept set of the head shown under the current mask (its rows are the map's), with
  // a line saying which mask it is; cleared by setHead and clearMask.
  void setMask(std::shared_ptr<const kernels::KeptKeys> kept, const QString& description);
  void clearMask();
  bool hasMask() const { return mask_ != nullptr; }

  void fitMap();
  void showWindow(double key_begin, double key_end, double query_begin, double query_end);
  void setSelectedQuery(int64_t query);
  const MapViewport& viewport() const { return viewport_; }
  // Exact tiles the last frame wanted and did not have; 0 when the view is complete.
  size_t missingTiles() const { return missing_; }
  bool animating() const { return viewport_.animating(); }

 signals:
  // The exact tiles in view that have no data, nearest the centre first. Each emission
  // replaces the previous wish.
  void tilesWanted(int layer, int head, std::vector<attnscope::views::TileKey> tiles);
  // A click on cell (query, key).
  void cellClicked(qint64 query, qint64 key);

 protected:
  bool drawFrame(double seconds) override;
  void releaseGl() override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;

 private:
  struct Tile {
    ExactTile data;
    unsigned texture = 0;
    int64_t drawn_at = 0;  // frame
  };

  void refitScale();
  void dropTextures();
  unsigned levelTexture(int level);
  unsigned tileTexture(Tile& tile);
  unsigned upload(int width, int height, const std::vector<PackedColor>& pixels);
  void evictTiles();
  void layoutAreas();
  void drawHover();
  void drawMask(const VisibleRange& visible);
  void drawPooledLevel(const VisibleRange& visible);
  void drawFutureAboveTiles(const VisibleRange& visible);
  void dropMaskTexture();
  float valueAt(int64_t query, int64_t key, bool* exact) const;

  HeadMap map_;
  bool has_map_ = false;
  QString message_;
  QString empty_message_;
  std::vector<std::string> labels_;
  PooledPyramid pyramid_;
  ScaleKind kind_ = ScaleKind::Log;
  ColorScale scale_ = ColorScale::linear(1);
  MapViewport viewport_;
  ScreenRect column_plot_, diagonal_plot_, legend_;
  int max_texture_size_ = 4096;

  bool exact_available_ = true;
  std::shared_ptr<const kernels::KeptKeys> mask_;
  QString mask_text_;
  MaskBlockImage mask_image_;
  unsigned mask_texture_ = 0;

  std::map<TileKey, Tile> tiles_;
  std::vector<unsigned> level_textures_;
  std::vector<TileKey> last_wanted_;
  size_t missing_ = 0;
  LevelOfDetail lod_;

  std::optional<QPoint> press_;
  QPoint last_mouse_;
  bool dragging_ = false;
  std::optional<QPoint> mouse_;
  int64_t selected_query_ = -1;
};

}  // namespace attnscope::views
