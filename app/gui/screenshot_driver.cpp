#include "app/gui/screenshot_driver.h"

#include <QCoreApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QTextStream>
#include <algorithm>
#include <cstdio>
#include <memory>

#include "app/gui/main_window.h"
#include "views/attention_map_panel.h"
#include "views/prompt_view.h"
#include "views/token_view.h"

namespace attnscope::gui {
namespace {

constexpr int kPollMs = 50;
constexpr int64_t kSettleFrames = 3;
// The zoomed screenshot: the last queries and keys, one token each, labels on the axes.
constexpr double kZoomTokens = 20;

}  // namespace

ScreenshotDriver::ScreenshotDriver(MainWindow* window, const AppOptions& options)
    : QObject(window), window_(window), options_(options) {
  if (!options.run_prompt_file.isEmpty()) {
    QFile file(options.run_prompt_file);
    if (!file.open(QIODevice::ReadOnly)) {
      QTimer::singleShot(0, this, [this] { fail(options_.run_prompt_file + ": cannot be opened for reading"); });
      return;
    }
    prompt_ = QString::fromUtf8(file.readAll());
  } else {
    prompt_ = options.run_prompt;
  }
  if (!options.screenshot_dir.isEmpty()) {
    window->setQuietErrors(true);
    dir_ = QDir(options.screenshot_dir);
    if (!dir_.mkpath(".")) {
      QTimer::singleShot(0, this, [this] { fail(options_.screenshot_dir + ": cannot be created"); });
      return;
    }
  }
  Session* session = window->session();
  connect(session, &Session::modelOpened, this, &ScreenshotDriver::onModelOpened);
  connect(session, &Session::modelFailed, this, [this](const QString& dir, const QString& message) {
    fail("opening " + dir + ": " + message);
  });
  connect(session, &Session::runFinished, this, &ScreenshotDriver::onRunFinished);
  connect(session, &Session::runFailed, this, [this](const QString& message) { fail("run: " + message); });
  connect(session, &Session::windowFailed, this, [this](quint64, int, int, const QString& message) {
    if (!options_.screenshot_dir.isEmpty()) fail("exact window: " + message);
  });
}

void ScreenshotDriver::onModelOpened() {
  if (started_) return;
  started_ = true;
  window_->promptView()->setText(prompt_);
  window_->startRun();
}

void ScreenshotDriver::onRunFinished() {
  if (options_.head) window_->showHead(options_.head->first, options_.head->second);
  if (options_.screenshot_dir.isEmpty()) return;  // --run-prompt alone: stay open
  auto* canvas = window_->mapPanel()->canvas();
  canvas->fitMap();
  whenMapSettles([this, canvas] {
    save(window_, "main_window");
    saveMap("map_whole");
    save(window_->panel("overviewPanel")->widget(), "overview");
    window_->panel("modelPanel")->raise();
    QCoreApplication::processEvents();
    save(window_->panel("modelPanel")->widget(), "model");
    window_->panel("promptPanel")->raise();
    QCoreApplication::processEvents();
    save(window_->panel("promptPanel")->widget(), "prompt");

    // The last query's row: recomputed when the capture kept fewer exact rows.
    auto* tokens = window_->tokenView();
    tokens->setMode(views::TokenView::Mode::FromQuery);
    const int64_t n = canvas->viewport().tokens();
    auto shown = std::make_shared<QMetaObject::Connection>();
    *shown = connect(window_, &MainWindow::tokenWeightsShown, this, [this, shown, tokens, canvas, n] {
      disconnect(*shown);
      save(window_->panel("tokensPanel")->widget(), "tokens_from_query");
      tokens->setMode(views::TokenView::Mode::Received);
      save(window_->panel("tokensPanel")->widget(), "tokens_received");
      const double from = std::max(0.0, double(n) - kZoomTokens);
      canvas->showWindow(from, double(n), from, double(n));
      whenMapSettles([this] {
        saveMap("map_last_tokens");
        tourTask();
      });
    });
    tokens->setQuery(int64_t(window_->session()->lastRun()->prompt.size()) - 1);
    window_->updateTokenWeights();  // shown now from exact rows, or once the row is recomputed
  });
}

void ScreenshotDriver::whenMapSettles(std::function<void()> next) {
  auto* canvas = window_->mapPanel()->canvas();
  const int64_t start = canvas->framesDrawn();
  auto clock = std::make_shared<QElapsedTimer>();
  clock->start();
  auto* timer = new QTimer(this);
  connect(timer, &QTimer::timeout, this, [this, canvas, start, clock, timer, next] {
    if (done_) {
      timer->deleteLater();
      return;
    }
    if (!canvas->glReady() && clock->elapsed() > 5000) {
      timer->deleteLater();
      fail("the attention map has no OpenGL context (no display?)");
      return;
    }
    const bool settled = canvas->framesDrawn() >= start + kSettleFrames && !canvas->animating() &&
                         canvas->missingTiles() == 0;
    if (settled) {
      timer->deleteLater();
      next();
    } else if (clock->elapsed() > kStepTimeoutMs) {
      timer->deleteLater();
      fail(QString("the attention map did not settle in %1 s (%2 tiles missing)")
               .arg(kStepTimeoutMs / 1000)
               .arg(canvas->missingTiles()));
    } else {
      canvas->update();  // keep frames coming while tiles arrive
    }
  });
  timer->start(kPollMs);
}

void ScreenshotDriver::save(QWidget* widget, const QString& name) {
  const QImage image = widget->grab().toImage();
  const QString file = dir_.filePath(name + ".png");
  if (!image.save(file)) {
    fail(file + ": cannot be written");
    return;
  }
  manifest_ << QString("%1.png %2 %3").arg(name).arg(widget->width()).arg(widget->height());
  std::printf("screenshot %s %dx%d\n", file.toLocal8Bit().constData(), image.width(), image.height());
}

void ScreenshotDriver::saveMap(const QString& name) {
  auto* canvas = window_->mapPanel()->canvas();
  const QImage image = canvas->grabFramebuffer();
  const QString file = dir_.filePath(name + ".png");
  if (!image.save(file)) {
    fail(file + ": cannot be written");
    return;
  }
  manifest_ << QString("%1.png %2 %3").arg(name).arg(canvas->width()).arg(canvas->height());
  std::printf("screenshot %s %dx%d\n", file.toLocal8Bit().constData(), image.width(), image.height());
}

void ScreenshotDriver::saveFloating(const QString& panel, const QSize& size, const QString& name) {
  QDockWidget* dock = window_->panel(panel);
  dock->setFloating(true);
  dock->resize(size);
  dock->show();
  dock->raise();
  for (int i = 0; i < 5; ++i) QCoreApplication::processEvents();
  save(dock->widget(), name);
  dock->setFloating(false);
}

void ScreenshotDriver::finish() {
  if (done_) return;
  done_ = true;
  QFile file(dir_.filePath("screenshots.txt"));
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    std::fprintf(stderr, "attnscope: %s: cannot be written\n", file.fileName().toLocal8Bit().constData());
    QCoreApplication::exit(1);
    return;
  }
  QTextStream out(&file);
  out << QString("main_window_size %1 %2\n").arg(window_->width()).arg(window_->height());
  for (const QString& line : manifest_) out << line << "\n";
  std::fflush(stdout);
  QCoreApplication::exit(0);
}

void ScreenshotDriver::fail(const QString& message) {
  if (done_) return;
  done_ = true;
  std::fprintf(stderr, "attnscope: %s\n", message.toLocal8Bit().constData());
  QCoreApplication::exit(1);
}

}  // namespace attnscope::gui
