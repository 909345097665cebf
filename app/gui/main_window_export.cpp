// MainWindow's Export menu: PNG or SVG of a view (view_export.h).
#include <QFileDialog>
#include <QMenu>
#include <QStatusBar>

#include "app/gui/main_window.h"
#include "app/gui/view_export.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_view.h"
#include "views/mask_curves_view.h"
#include "views/mask_lab_view.h"
#include "views/profile_table_view.h"
#include "views/run_history_view.h"

namespace attnscope::gui {

void MainWindow::buildExportMenu(QMenu* menu) {
  menu->addAction(tr("Attention &Map as PNG..."), this, &MainWindow::exportMap);
  menu->addAction(tr("&Overview as PNG or SVG..."), this, [this] { exportView(overview_, "overview"); });
  menu->addAction(tr("Mask Lab &Curves as PNG or SVG..."), this,
                  [this] { exportView(mask_lab_->curves(), "mask_curves"); });
  menu->addAction(tr("&Profiles Table as PNG or SVG..."), this, [this] { exportView(profiles_, "profiles"); });
  menu->addAction(tr("&History as PNG or SVG..."), this, [this] { exportView(history_, "history"); });
}

void MainWindow::exportView(QWidget* widget, const QString& name) {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export the view"), name + ".svg",
                                                    tr("SVG (*.svg);;PNG (*.png)"));
  if (path.isEmpty()) return;
  try {
    export_widget(widget, path, tr("AttnScope %1").arg(name));
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  } catch (const std::exception& e) {
    showError(tr("Export"), QString::fromStdString(e.what()));
  }
}

void MainWindow::exportMap() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export the attention map"), "attention_map.png",
                                                    tr("PNG (*.png)"));
  if (path.isEmpty()) return;
  try {
    export_map(map_->canvas(), path);
    statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
  } catch (const std::exception& e) {
    showError(tr("Export"), QString::fromStdString(e.what()));
  }
}

}  // namespace attnscope::gui
