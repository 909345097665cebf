#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QScrollArea>
#include <QSettings>
#include <QStatusBar>
#include <QTimer>
#include <QVBoxLayout>
#include <cstdio>

#include "analysis/store/database.h"
#include "app/gui/recent_models.h"
#include "app/gui/sample_model.h"
#include "views/attention_map_panel.h"
#include "views/head_grid_view.h"
#include "views/mask_lab_view.h"
#include "views/model_info_view.h"
#include "views/profile_job_form.h"
#include "views/profile_table_view.h"
#include "views/prompt_view.h"
#include "views/run_history_view.h"
#include "views/task_prompt_form.h"
#include "views/token_view.h"

namespace attnscope::gui {
namespace {

constexpr int kMemoryRefreshMs = 1000;

}  // namespace

MainWindow::MainWindow(const AppOptions& options, QWidget* parent) : QMainWindow(parent), fresh_(options.fresh) {
  setObjectName("mainWindow");
  setWindowTitle(tr("AttnScope"));
  setAcceptDrops(true);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks | QMainWindow::AllowNestedDocks);

  map_ = new views::AttentionMapPanel(this);
  setCentralWidget(map_);
  model_view_ = new views::ModelInfoView(this);
  prompt_ = new views::PromptView(this);
  overview_ = new views::HeadGridView(this);
  tokens_ = new views::TokenView(this);
  addPanel("modelPanel", tr("Model"), model_view_, Qt::LeftDockWidgetArea);
  addPanel("promptPanel", tr("Prompt"), prompt_, Qt::LeftDockWidgetArea, true);
  addPanel("overviewPanel", tr("Overview"), overview_, Qt::RightDockWidgetArea);
  addPanel("tokensPanel", tr("Tokens"), tokens_, Qt::BottomDockWidgetArea);
  mask_lab_ = new views::MaskLabView(this);
  addPanel("maskLabPanel", tr("Mask lab"), mask_lab_, Qt::RightDockWidgetArea, true);
  // The profiles panel: a new job above, the table of the run shown below.
  auto* profiles_box = new QWidget(this);
  auto* profiles_layout = new QVBoxLayout(profiles_box);
  profiles_layout->setContentsMargins(0, 0, 0, 0);
  profile_form_ = new views::ProfileJobForm(profiles_box);
  profiles_ = new views::ProfileTableView(profiles_box);
  profiles_layout->addWidget(profile_form_);
  profiles_layout->addWidget(profiles_, 1);
  addPanel("profilesPanel", tr("Profiles"), profiles_box, Qt::BottomDockWidgetArea, true);
  history_ = new views::RunHistoryView(this);
  addPanel("historyPanel", tr("History"), history_, Qt::BottomDockWidgetArea);
  tabifyDockWidget(panel("modelPanel"), panel("promptPanel"));
  tabifyDockWidget(panel("overviewPanel"), panel("maskLabPanel"));
  tabifyDockWidget(panel("tokensPanel"), panel("profilesPanel"));
  tabifyDockWidget(panel("tokensPanel"), panel("historyPanel"));
  panel("promptPanel")->raise();
  panel("overviewPanel")->raise();
  panel("tokensPanel")->raise();
  buildMenus();
  buildStatusBar();
  resize(1400, 900);
  // The map keeps most of the window; panels start at sizes their contents read well at.
  resizeDocks({panel("promptPanel"), panel("overviewPanel")}, {385, 475}, Qt::Horizontal);
  resizeDocks({panel("tokensPanel")}, {250}, Qt::Vertical);
  default_state_ = saveState();

  QSettings settings;
  const DeviceChoice device =
      options.device.value_or(fresh_ ? DeviceChoice::Auto
                                     : parse_device_choice(settings.value("device", "auto").toString().toStdString()));
  session_ = new Session(device, this);
  connectSession();
  connectMaskLab();
  connectStore();
  connectPlugins();
  restoreSettings(options);
}

MainWindow::~MainWindow() = default;

QDockWidget* MainWindow::addPanel(const QString& id, const QString& title, QWidget* widget, Qt::DockWidgetArea area,
                                  bool scrolling) {
  auto* dock = new QDockWidget(title, this);
  dock->setObjectName(id);
  if (scrolling) {
    auto* scroll = new QScrollArea(dock);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(widget);
    dock->setWidget(scroll);
  } else {
    dock->setWidget(widget);
  }
  addDockWidget(area, dock);
  if (view_menu_ != nullptr) view_menu_->addAction(dock->toggleViewAction());
  return dock;
}

QDockWidget* MainWindow::panel(const QString& id) const { return findChild<QDockWidget*>(id); }

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open Model..."), QKeySequence::Open, this, &MainWindow::openModelDialog);
  recent_menu_ = file->addMenu(tr("Open &Recent"));
  file->addAction(tr("Open &Sample Model"), this, [this] {
    if (auto dir = find_sample_model(program_directory()))
      openModel(QString::fromStdString(dir->string()));
    else
      showError(tr("Sample model"), tr("The bundled sample model was not found; set ATTNSCOPE_SAMPLE_DIR to the "
                                       "sample_data folder."));
  });
  file->addSeparator();
  file->addAction(tr("Open &Prompt File..."), this, &MainWindow::openPromptFile);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  buildExportMenu(menuBar()->addMenu(tr("&Export")));

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  run->addAction(tr("&Run Prompt"), QKeySequence(Qt::CTRL | Qt::Key_Return), this, &MainWindow::startRun);
  run->addAction(tr("&Cancel"), QKeySequence(Qt::Key_Escape), this, [this] {
    session_->cancelRun();
    session_->cancelProfile();
    session_->cancelMasks();
  });
  run->addAction(tr("Show the &Last Run"), this, &MainWindow::showLastRun);
  run->addSeparator();
  run->addAction(tr("&Evaluate Mask Plan"), this, &MainWindow::evaluateMasks);
  run->addAction(tr("Mask &Curves"), this, &MainWindow::computeMaskCurves);
  run->addAction(tr("&Profile Model"), this, &MainWindow::startProfile);

  plugins_menu_ = menuBar()->addMenu(tr("&Plugins"));
  rescanPlugins();

  view_menu_ = menuBar()->addMenu(tr("&View"));
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view_menu_->addAction(dock->toggleViewAction());
  view_menu_->addSeparator();
  view_menu_->addAction(tr("&Reset Layout"), this, &MainWindow::resetLayout);

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&About AttnScope"), this, [this] {
    QMessageBox::about(this, tr("About AttnScope"),
                       tr("<b>AttnScope %1</b><p>Explore and compress the attention of language models. The same "
                          "engine runs headless in attnscope-cli.</p>")
                           .arg(QCoreApplication::applicationVersion()));
  });
}

void MainWindow::buildStatusBar() {
  device_label_ = new QLabel(tr("device: starting"), this);
  memory_label_ = new QLabel(this);
  progress_ = new QProgressBar(this);
  progress_->setMaximumWidth(220);
  progress_->setVisible(false);
  statusBar()->addPermanentWidget(progress_);
  statusBar()->addPermanentWidget(memory_label_);
  statusBar()->addPermanentWidget(device_label_);
  auto* timer = new QTimer(this);
  connect(timer, &QTimer::timeout, this, &MainWindow::updateMemory);
  timer->start(kMemoryRefreshMs);
  updateMemory();
}

void MainWindow::showProgress(const QString& format, qint64 done, qint64 total) {
  progress_->setVisible(true);
  if (total <= 0) {
    progress_->setRange(0, 0);
  } else {
    progress_->setRange(0, int(total));
    progress_->setValue(int(done));
  }
  progress_->setFormat(format);
}

void MainWindow::hideProgress() { progress_->setVisible(false); }

void MainWindow::updateMemory() {
  QString text = tr("memory %1").arg(QString::fromStdString(model::format_bytes(resident_memory())));
  if (device_memory_ > 0) text += tr(", GPU %1").arg(QString::fromStdString(model::format_bytes(device_memory_)));
  memory_label_->setText(text);
}

void MainWindow::restoreSettings(const AppOptions& options) {
  QSettings settings;
  recent_ = load_recent(settings);
  rebuildRecentMenu();
  // The store: --db, else the saved one, else the user's (as attnscope-cli uses it).
  QString db = options.database;
  if (db.isEmpty() && !fresh_) db = settings.value("store/database").toString();
  if (db.isEmpty()) {
    try {
      db = QString::fromStdString(store::default_database_path().string());
    } catch (const std::exception& e) {
      history_->setMessage(QString::fromStdString(e.what()));
    }
  }
  database_ = db.toStdString();
  history_->setDatabase(db);
  if (!fresh_) {
    restoreGeometry(settings.value("window/geometry").toByteArray());
    restoreState(settings.value("window/state").toByteArray());
    map_->setScaleKind(views::ScaleKind(settings.value("map/scale", int(views::ScaleKind::Log)).toInt()));
    overview_->selectMetric(settings.value("overview/metric").toString());
    prompt_->setGenerateTokens(settings.value("run/generate", 0).toLongLong());
    prompt_->setExactLimit(settings.value("run/exactLimit", 0).toLongLong());
    prompt_->setText(settings.value("prompt/text").toString());
    views::TaskFormValues task = prompt_->taskForm()->values();
    task.task = profile::ProfileTask(settings.value("task/kind", int(task.task)).toInt());
    task.length = settings.value("task/length", qlonglong(task.length)).toLongLong();
    task.depth = settings.value("task/depth", task.depth).toDouble();
    task.seed = settings.value("task/seed", qulonglong(task.seed)).toULongLong();
    task.needle = settings.value("task/needle", qlonglong(task.needle)).toLongLong();
    task.copies = settings.value("task/copies", qlonglong(task.copies)).toLongLong();
    prompt_->taskForm()->setValues(task);
    mask_lab_->setFamily(settings.value("masks/family", mask_lab_->family()).toString());
    mask_lab_->setDensity(settings.value("masks/density", mask_lab_->density()).toDouble());
    mask_lab_->setParameters(settings.value("masks/parameters").toString());
    mask_lab_->setLive(settings.value("masks/live", true).toBool());
    mask_lab_->setDrawOnMap(settings.value("masks/drawOnMap", true).toBool());
    if (settings.contains("masks/curveFamilies"))
      mask_lab_->setCurveFamilies(settings.value("masks/curveFamilies").toStringList());
    views::ProfileFormValues job = profile_form_->values();
    job.needle = settings.value("profile/needle", job.needle).toBool();
    job.passkey = settings.value("profile/passkey", job.passkey).toBool();
    job.repeat = settings.value("profile/repeat", job.repeat).toBool();
    job.lengths = settings.value("profile/lengths", job.lengths).toString();
    job.depths = settings.value("profile/depths", job.depths).toString();
    job.metrics = settings.value("profile/metrics", job.metrics).toString();
    job.seed = settings.value("profile/seed", job.seed).toInt();
    job.pooled_maps = settings.value("profile/pooledMaps", job.pooled_maps).toBool();
    profile_form_->setValues(job);
  }
  refreshHistory();
  if (options.size) resize(*options.size);
  if (options.generate) prompt_->setGenerateTokens(*options.generate);
  if (options.exact_limit) prompt_->setExactLimit(*options.exact_limit);

  // The model: --model, else the last one, else (first start) the bundled sample.
  QString model = options.model;
  if (model.isEmpty() && !fresh_) {
    const QString last = settings.value("lastModel").toString();
    if (!last.isEmpty() && QFileInfo::exists(last + "/config.json")) model = last;
  }
  if (model.isEmpty()) {
    if (auto dir = find_sample_model(program_directory())) model = QString::fromStdString(dir->string());
  }
  if (model.isEmpty())
    model_view_->clear(tr("No model open. Use File > Open Model (the bundled sample model was not found)."));
  else
    openModel(model);
}

void MainWindow::saveSettings() {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("map/scale", int(map_->scaleKind()));
  settings.setValue("overview/metric", overview_->metricName());
  settings.setValue("run/generate", qlonglong(prompt_->generateTokens()));
  settings.setValue("run/exactLimit", qlonglong(prompt_->exactLimit()));
  settings.setValue("prompt/text", prompt_->text());
  const views::TaskFormValues task = prompt_->taskForm()->values();
  settings.setValue("task/kind", int(task.task));
  settings.setValue("task/length", qlonglong(task.length));
  settings.setValue("task/depth", task.depth);
  settings.setValue("task/seed", qulonglong(task.seed));
  settings.setValue("task/needle", qlonglong(task.needle));
  settings.setValue("task/copies", qlonglong(task.copies));
  settings.setValue("masks/family", mask_lab_->family());
  settings.setValue("masks/density", mask_lab_->density());
  settings.setValue("masks/parameters", mask_lab_->parameters());
  settings.setValue("masks/live", mask_lab_->live());
  settings.setValue("masks/drawOnMap", mask_lab_->drawOnMap());
  settings.setValue("masks/curveFamilies", mask_lab_->checkedCurveFamilies());
  const views::ProfileFormValues job = profile_form_->values();
  settings.setValue("profile/needle", job.needle);
  settings.setValue("profile/passkey", job.passkey);
  settings.setValue("profile/repeat", job.repeat);
  settings.setValue("profile/lengths", job.lengths);
  settings.setValue("profile/depths", job.depths);
  settings.setValue("profile/metrics", job.metrics);
  settings.setValue("profile/seed", job.seed);
  settings.setValue("profile/pooledMaps", job.pooled_maps);
  if (!database_.empty()) settings.setValue("store/database", QString::fromStdString(database_.string()));
  if (session_->model()) settings.setValue("lastModel", session_->model()->facts.directory);
  save_recent(settings, recent_);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  saveSettings();
  event->accept();
}

void MainWindow::resetLayout() { restoreState(default_state_); }

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  for (const QString& dir : recent_) recent_menu_->addAction(dir, this, [this, dir] { openModel(dir); });
  recent_menu_->setEnabled(!recent_.isEmpty());
}

void MainWindow::openModel(const QString& directory) {
  opening_ = directory;
  statusBar()->showMessage(tr("Opening %1...").arg(directory));
  model_view_->clear(tr("Opening %1...").arg(directory));
  prompt_->setRunEnabled(false);
  session_->openModel(directory);
}

void MainWindow::openModelDialog() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a checkpoint directory"),
                                                        session_->model() ? session_->model()->facts.directory : "");
  if (!dir.isEmpty()) openModel(dir);
}

void MainWindow::openPromptFile() {
  QString start;
  if (auto samples = find_sample_data(program_directory())) start = QString::fromStdString((*samples / "prompts").string());
  const QString path = QFileDialog::getOpenFileName(this, tr("Open a prompt"), start, tr("Text (*.txt *.md);;All (*)"));
  if (!path.isEmpty()) loadPromptFile(path);
}

void MainWindow::loadPromptFile(const QString& path) {
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    showError(tr("Prompt file"), tr("%1: cannot be opened for reading (%2)").arg(path, file.errorString()));
    return;
  }
  prompt_->setText(QString::fromUtf8(file.readAll()));
  statusBar()->showMessage(tr("Prompt from %1").arg(path), 5000);
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

// A dropped folder opens as a model; a dropped file becomes the prompt.
void MainWindow::dropEvent(QDropEvent* event) {
  const auto urls = event->mimeData()->urls();
  if (urls.isEmpty() || !urls.front().isLocalFile()) return;
  const QString path = urls.front().toLocalFile();
  if (QFileInfo(path).isDir())
    openModel(path);
  else
    loadPromptFile(path);
  event->acceptProposedAction();
}

void MainWindow::showError(const QString& title, const QString& message) {
  statusBar()->showMessage(title + ": " + message);
  std::fprintf(stderr, "attnscope: %s: %s\n", title.toLocal8Bit().constData(), message.toLocal8Bit().constData());
  if (quiet_errors_) return;
  auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();  // window-modal, not blocking: runs keep their progress
}

}  // namespace attnscope::gui
