#include "app/gui/view_export.h"

#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QSvgGenerator>
#include <QWidget>

#include "kernels/error.h"
#include "views/attention_map_canvas.h"

namespace attnscope::gui {
namespace {

QString suffix_of(const QString& path) { return QFileInfo(path).suffix().toLower(); }

void save_png(const QImage& image, const QString& path) {
  if (image.isNull()) throw Error(path.toStdString(), "the view has nothing drawn to save");
  if (!image.save(path, "PNG")) throw Error(path.toStdString(), "cannot be written");
}

}  // namespace

void export_widget(QWidget* widget, const QString& path, const QString& title) {
  const QString suffix = suffix_of(path);
  if (suffix == "png") {
    save_png(widget->grab().toImage(), path);
    return;
  }
  if (suffix != "svg") throw Error(path.toStdString(), "views are saved as .png or .svg, not ." + suffix.toStdString());
  QSvgGenerator svg;
  svg.setFileName(path);
  svg.setSize(widget->size());
  svg.setViewBox(QRect(QPoint(0, 0), widget->size()));
  svg.setTitle(title);
  svg.setDescription(QStringLiteral("AttnScope"));
  QPainter painter;
  if (!painter.begin(&svg)) throw Error(path.toStdString(), "cannot be written");
  widget->render(&painter);
  painter.end();
  if (!QFileInfo(path).exists() || QFileInfo(path).size() == 0) throw Error(path.toStdString(), "cannot be written");
}

void export_map(views::AttentionMapCanvas* canvas, const QString& path) {
  if (suffix_of(path) != "png")
    throw Error(path.toStdString(), "the attention map is drawn by OpenGL and saved as .png only");
  if (!canvas->glReady()) throw Error(path.toStdString(), "the attention map has no OpenGL context to read from");
  save_png(canvas->grabFramebuffer(), path);
}

}  // namespace attnscope::gui
