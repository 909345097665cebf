// MainWindow's Export menu: the profile of the run shown (reopened from the store) and the
// mask lab's plan in the formats of other projects (profile_export.h), and PNG or SVG of a
// view (view_export.h).
#include <QFileDialog>
#include <QMenu>
#include <QStatusBar>

#include "app/gui/main_window.h"
#include "app/gui/profile_export.h"
#include "app/gui/view_export.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_view.h"
#include "views/mask_curves_view.h"
#include "views/mask_lab_view.h"
#include "views/profile_table_view.h"
#include "views/run_history_view.h"

namespace attnscope::gui {

void MainWindow::buildExportMenu(QMenu* menu) {
  QMenu* run = menu->addMenu(tr("Profile of the &Run Shown"));
  QMenu* plan = menu->addMenu(tr("Mask &Plan"));
  for (const ProfileExportFormat& f : profile_export_formats()) {
    run->addAction(QString::fromStdString(f.title) + "...", this, [this, f] { exportProfile(f, false); });
    if (f.from_plan) plan->addAction(QString::fromStdString(f.title) + "...", this, [this, f] { exportProfile(f, true); });
  }
  plan->addSeparator();
  plan->addAction(tr("AttnScope Plan..."), this, &MainWindow::saveMaskPlan);
  menu->addSeparator();
  menu->addAction(tr("Attention &Map as PNG..."), this, &MainWindow::exportMap);
  menu->addAction(tr("&Overview as PNG or SVG..."), this, [this] { exportView(overview_, "overview"); });
  menu->addAction(tr("Mask Lab &Curves as PNG or SVG..."), this,
                  [this] { exportView(mask_lab_->curves(), "mask_curves"); });
  menu->addAction(tr("&Profiles Table as PNG or SVG..."), this, [this] { exportView(profiles_, "profiles"); });
  menu->addAction(tr("&History as PNG or SVG..."), this, [this] { exportView(history_, "history"); });
}

void MainWindow::exportProfile(const ProfileExportFormat& format, bool from_plan) {
  const auto model = session_->model();
  if (from_plan && (!mask_lab_->plan() || !model)) {
    showError(tr("Export"), tr("The mask lab has no plan for an open model."));
    return;
  }
  if (!from_plan && !stored_) {
    showError(tr("Export"), tr("Open a profile run in History (or run one from Profiles): profiles are exported from "
                               "the store."));
    return;
  }
  const QString title = tr("Export as %1").arg(QString::fromStdString(format.title));
  const QString name = QString::fromStdString(format.file_name);
  const QString path = format.filter.empty()
                           ? QFileDialog::getSaveFileName(this, title, name, tr("A new directory (*)"))
                           : QFileDialog::getSaveFileName(this, title, name, QString::fromStdString(format.filter));
  if (path.isEmpty()) return;
  try {
    const std::optional<std::filesystem::path> model_dir =
        model ? std::optional<std::filesystem::path>(model->facts.directory.toStdString()) : std::nullopt;
    if (from_plan)
      export_plan(*mask_lab_->plan(), format.format, *model_dir, path.toStdString());
    else
      export_stored_run(database_, stored_->record.id, format.format, path.toStdString(), model_dir);
    statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
  } catch (const std::exception& e) {
    showError(tr("Export"), QString::fromStdString(e.what()));
  }
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
