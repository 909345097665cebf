#pragma once
// PNG and SVG of a view: a widget paints itself into an SVG (QSvgGenerator: vector
// output for the overview grid, the tables and the charts) or is grabbed as PNG; the
// attention map, drawn by OpenGL, is saved as PNG from its framebuffer.
#include <QString>

class QWidget;

namespace attnscope::views {
class AttentionMapCanvas;
}

namespace attnscope::gui {

// By the suffix of `path` (.png or .svg). attnscope::Error naming the file for another
// suffix or a file that cannot be written.
void export_widget(QWidget* widget, const QString& path, const QString& title);
// The map as the last frame drew it (.png only).
void export_map(views::AttentionMapCanvas* canvas, const QString& path);

}  // namespace attnscope::gui
