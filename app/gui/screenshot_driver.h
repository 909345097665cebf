#pragma once
// Drives the window unattended for --run-prompt / --screenshot: once the model is open
// it sets the prompt and runs it; after the run it shows the chosen head, waits until
// the attention map has drawn everything it wants (exact tiles recomputed included),
// and saves PNGs of the main views with a manifest (screenshots.txt: name width height).
// Then the tour (screenshot_tour.cpp): a generated task in the prompt panel, the mask lab
// (a plan evaluated live, its mask on the map, curves of several families, the budget
// sliders of three methods with a head of its own mask on the overview), two profile
// jobs into the store (the profiles table, the stored run's grid and map), the history
// comparing them, and the example plugin's job from the Plugins menu (its form, its
// progress, its end with the run in History); then it quits. Any failure quits with
// status 1 and the reason on stderr.
#include <QDir>
#include <QObject>
#include <QSize>
#include <QTimer>
#include <functional>
#include <memory>
#include <vector>

#include "app/gui/app_options.h"

class QWidget;

namespace attnscope::gui {

class MainWindow;

class ScreenshotDriver : public QObject {
  Q_OBJECT

 public:
  static constexpr int kStepTimeoutMs = 120000;

  ScreenshotDriver(MainWindow* window, const AppOptions& options);

 private:
  void onModelOpened();
  void onRunFinished();
  void fail(const QString& message);
  // Calls `next` once the map has drawn a few frames since now, is still, and misses no tile.
  void whenMapSettles(std::function<void()> next);
  void save(QWidget* widget, const QString& name);
  void saveMap(const QString& name);
  // `panel`'s dock floated at `size` while it is saved (docks are small in the layout).
  void saveFloating(const QString& panel, const QSize& size, const QString& name);
  void finish();
  // The tour, one step after the other.
  void tourTask();
  void tourMasks();
  void tourCurves();
  void tourSliders(int step);
  void tourProfile(int index);
  void tourHistory();
  void tourPlugins();
  // Calls `next` once `signal` of `sender` fires and `accept` (given its arguments) agrees.
  template <typename Sender, typename Signal, typename Accept>
  void when(Sender* sender, Signal signal, Accept accept, std::function<void()> next);

  std::vector<qint64> profile_runs_;

  MainWindow* window_;
  AppOptions options_;
  QString prompt_;
  QDir dir_;
  QStringList manifest_;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace attnscope::gui
